// The README's quick start, as a new user runs it: the packed SDK (`npm pack`) installed into a default
// `npm init -y` project (CommonJS, `require`) and into an ESM project (`import`), the example copied from
// README.md, started, and stopped with SIGTERM as its own handler expects. The hit must reach the service
// with the API key. The service is BASE_URL/API_KEY when given (a running local runtime and one of its
// clients), else a small HTTP server here that answers 202 like POST /api/logs and keeps what it got.
// The CommonJS project also type-checks a .ts file through the `require` condition's declarations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packSdk } from './pack-copy.mjs';

const sdk = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const versionOf = (name) => JSON.parse(readFileSync(join(sdk, 'node_modules', name, 'package.json'), 'utf8')).version;

/** The README's "Quick start" block, pointed at `baseUrl`, in plain JavaScript, ending with a line that says it runs. */
function quickStart(baseUrl, format) {
  const readme = readFileSync(join(sdk, 'README.md'), 'utf8');
  const block = /## Quick start\s+```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README.md has a Quick start code block');
  let code = block[1]
    .replace(/'https:\/\/usage\.example\.com'/, JSON.stringify(baseUrl))
    .replace(/process\.env\.(\w+)!/g, 'process.env.$1');           // TypeScript's non-null assertion
  if (format === 'commonjs') {
    code = code.replace(/^import \{ ([^}]+) \} from '(@usage-tracker\/client)';$/m, "const { $1 } = require('$2');");
  }
  assert.doesNotMatch(code, format === 'commonjs' ? /^import /m : /require\(/m);
  // The user's HTTP server keeps the process running; the SDK's own timers never do (they are unref'd).
  return code + "\nsetInterval(() => {}, 60_000);   // stands in for the service's server\nconsole.log('started');\n";
}

const received = [];
let server;
let dir;
let tarball;
let baseUrl = process.env.BASE_URL;
// One key per run, so each test finds its own hits at the stand-in service.
const keyFor = (run) => process.env.API_KEY ?? `ut_readme_example_${run}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'usage-tracker-formats-'));
  tarball = packSdk(dir);
  if (!baseUrl) {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        const parsed = JSON.parse(body);
        const hits = parsed.hits ?? [parsed];
        received.push({ method: req.method, url: req.url, apiKey: req.headers['x-api-key'],
          idempotencyKey: req.headers['idempotency-key'], hits });
        res.writeHead(202, { 'Content-Type': 'application/json' }).end(JSON.stringify({ accepted: hits.length }));
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${server.address().port}`;
  }
});

after(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the example, waits for it to run, sends SIGTERM; resolves with its exit code and output. */
function runUntilTerm(cwd, file, apiKey) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd, env: { ...process.env, USAGE_TRACKER_API_KEY: apiKey } });
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the example hung:\n${out}`)); }, 60_000);
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('started\n') && !child.termSent) { child.termSent = true; child.kill('SIGTERM'); }
    });
    child.stderr.on('data', (c) => { out += c; });
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out }); });
  });
}

function project(name, packageJson) {
  const app = join(dir, name);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify(packageJson, null, 2));
  return app;
}

function install(app, ...extra) {
  execFileSync(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...extra],
    { cwd: app, stdio: 'inherit' });
}

function expectTheHit(format, apiKey) {
  if (server === undefined) return;   // the real runtime: its /api/usage/daily says what arrived
  const hit = received.flatMap((r) => r.hits.map((h) => ({ ...r, hit: h })))
    .find((r) => r.apiKey === apiKey && r.hit.ip === '203.0.113.7');
  assert.ok(hit, `the ${format} example's hit reached the service: ${JSON.stringify(received)}`);
  assert.equal(hit.method, 'POST');
  assert.equal(hit.url, '/api/logs');
  assert.ok(hit.idempotencyKey, 'sent under an Idempotency-Key');
  assert.equal(hit.hit.endpoint, '/api/products/:id');
}

test('a CommonJS project (npm init -y) requires the SDK, runs the README example and type-checks against it', { timeout: 900_000 }, async () => {
  const app = project('cjs', { name: 'cjs-consumer', version: '1.0.0', private: true });   // no "type": CommonJS
  install(app, `typescript@${versionOf('typescript')}`, `@types/node@${versionOf('@types/node')}`);
  writeFileSync(join(app, 'index.js'), quickStart(baseUrl, 'commonjs'));
  const run = await runUntilTerm(app, 'index.js', keyFor('cjs'));
  assert.equal(run.code, 0, run.out);
  assert.doesNotMatch(run.out, /ERR_|Error/);
  expectTheHit('CommonJS', keyFor('cjs'));

  // TypeScript compiling to CommonJS resolves the `require` condition and its declarations.
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: {
    target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out',
    skipLibCheck: true, types: ['node'] }, include: ['*.ts'] }));   // pack.test.mjs checks the declarations themselves
  writeFileSync(join(app, 'typed.ts'), `
import { UsageTracker, usageTracking, type UsageTrackerStats } from '@usage-tracker/client';
const tracker = new UsageTracker({ baseUrl: ${JSON.stringify(baseUrl)}, apiKey: process.env.USAGE_TRACKER_API_KEY ?? '' });
const ok: boolean = tracker.record({ ip: '203.0.113.7', endpoint: '/api/products/:id' });
const stats: UsageTrackerStats = tracker.stats();
console.log(typeof usageTracking, ok, stats.recorded);
// @ts-expect-error a hit needs an endpoint
tracker.record({ ip: '203.0.113.7' });
tracker.close().then(() => console.log('closed', tracker.stats().acknowledged));
`);
  execFileSync(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app, stdio: 'inherit' });
  const compiled = readFileSync(join(app, 'out/typed.js'), 'utf8');
  assert.match(compiled, /require\("@usage-tracker\/client"\)/, 'compiled to require()');
  // not execFileSync: the stand-in service runs on this process's event loop
  const { stdout } = await promisify(execFile)(process.execPath, ['out/typed.js'], { cwd: app, encoding: 'utf8',
    env: { ...process.env, USAGE_TRACKER_API_KEY: keyFor('typed-cjs') } });
  assert.equal(stdout.trim(), 'function true 1\nclosed 1');
  expectTheHit('typed CommonJS', keyFor('typed-cjs'));
});

test('an ESM project imports the SDK and runs the README example', { timeout: 900_000 }, async () => {
  const app = project('esm', { name: 'esm-consumer', version: '1.0.0', private: true, type: 'module' });
  install(app);
  writeFileSync(join(app, 'index.js'), quickStart(baseUrl, 'module'));
  const run = await runUntilTerm(app, 'index.js', keyFor('esm'));
  assert.equal(run.code, 0, run.out);
  assert.doesNotMatch(run.out, /ERR_|Error/);
  expectTheHit('ESM', keyFor('esm'));

  // One package, one instance per format: require() from ESM gets the CommonJS build, import() the ESM one.
  const formats = execFileSync(process.execPath, ['--input-type=module', '-e', `
    import { createRequire } from 'node:module';
    import * as esm from '@usage-tracker/client';
    const cjs = createRequire(import.meta.url)('@usage-tracker/client');
    console.log(typeof esm.UsageTracker, typeof cjs.UsageTracker, esm.MAX_BATCH_SIZE === cjs.MAX_BATCH_SIZE);`],
  { cwd: app, encoding: 'utf8' });
  assert.equal(formats.trim(), 'function function true');
});
