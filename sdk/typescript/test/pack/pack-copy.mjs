// `npm pack` runs prepack (`npm run build`), which empties dist/ and builds it again. The pack tests pack a
// copy of the package instead, so the SDK's own dist/ is never rebuilt under what uses it meanwhile:
// scripts/test runs these tests beside the Maven build, whose TypeScriptSdkIT runs apps against dist/.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const sdk = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// What the build and `npm pack` read; node_modules (the build's TypeScript) is linked, not copied.
const SOURCES = ['package.json', 'package-lock.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.cjs.json', 'src', 'scripts'];

/** Packs the SDK as `npm pack` does (prepack included) into `destination`; returns the tarball's path. */
export function packSdk(destination) {
  const copy = mkdtempSync(join(tmpdir(), 'usage-tracker-sdk-copy-'));
  try {
    for (const entry of SOURCES) cpSync(join(sdk, entry), join(copy, entry), { recursive: true });
    symlinkSync(join(sdk, 'node_modules'), join(copy, 'node_modules'), 'dir');
    execFileSync(npm, ['pack', '--silent', '--pack-destination', destination], { cwd: copy, stdio: ['ignore', 'pipe', 'inherit'] });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  const tarball = readdirSync(destination).find((f) => f.endsWith('.tgz'));
  return tarball && join(destination, tarball);
}
