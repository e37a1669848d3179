// `prepare` runs where npm installs the package from source: `npm install <path>/sdk/typescript` or a git
// URL, and `npm ci` here. It builds dist/ — installing the build's own devDependencies first when they are
// missing (a fresh checkout) — and skips the build when dist/ is already newer than every source file.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const newest = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
  const path = join(dir, e.name);
  return Math.max(t, e.isDirectory() ? newest(path) : statSync(path).mtimeMs);
}, 0);
const built = ['dist/index.js', 'dist/cjs/index.js', 'dist/cjs/package.json'].every((f) => existsSync(join(root, f)));
const sources = Math.max(newest(join(root, 'src')), ...['package.json', 'tsconfig.json', 'tsconfig.cjs.json']
  .map((f) => statSync(join(root, f)).mtimeMs));
if (built && statSync(join(root, 'dist/cjs/package.json')).mtimeMs >= sources) process.exit(0);
if (!existsSync(join(root, 'node_modules/typescript'))) {
  execFileSync(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
}
execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
