// The package as a user gets it: `npm pack`, installed into an empty project, its types compiled there with
// tsc (strict) against Express and node:http, and imported by Node through its `exports`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packSdk } from './pack-copy.mjs';

const sdk = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const versionOf = (name) => JSON.parse(readFileSync(join(sdk, 'node_modules', name, 'package.json'), 'utf8')).version;

test('npm pack gives a tarball that installs into an empty project and type-checks there', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'usage-tracker-pack-'));
  try {
    const tgz = packSdk(dir);
    assert.ok(tgz, 'a tarball');
    const listing = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    assert.ok(listing.includes('package/dist/index.js') && listing.includes('package/dist/index.d.ts'), listing.join('\n'));
    assert.ok(listing.includes('package/README.md'));
    assert.ok(!listing.some((f) => f.includes('/src/') || f.includes('/test/') || f.includes('node_modules')), listing.join('\n'));

    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // the package has no dependencies; the rest is what a TypeScript Express project has anyway (from the npm cache)
    execFileSync(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tgz,
      `typescript@${versionOf('typescript')}`, `@types/node@${versionOf('@types/node')}`,
      `express@${versionOf('express')}`, `@types/express@${versionOf('@types/express')}`], { cwd: app, stdio: 'inherit' });
    const installed = JSON.parse(readFileSync(join(app, 'node_modules/@usage-tracker/client/package.json'), 'utf8'));
    assert.equal(installed.dependencies, undefined, 'no runtime dependency');

    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false,
      exactOptionalPropertyTypes: true, types: ['node'] }, include: ['*.ts'] }));
    writeFileSync(join(app, 'server.ts'), `
import http from 'node:http';
import express from 'express';
import { UsageTracker, usageTracking, type UsageTrackerEvent, type UsageTrackerStats } from '@usage-tracker/client';

const tracker = new UsageTracker({
  baseUrl: 'http://127.0.0.1:3000', apiKey: 'ut_example', flushIntervalMs: 1000, maxBatchSize: 500, maxBufferedHits: 10_000,
  onError: (e: UsageTrackerEvent) => { if (e.kind === 'halted') console.error(e.status, e.message); },
});
const taken: boolean = tracker.record({ ip: '203.0.113.7', endpoint: '/orders', timestamp: new Date() });
const app = express();
app.use(usageTracking(tracker, { trustProxy: ['10.0.0.0/8'], skip: (req) => req.path === '/health' }));
app.get('/orders/:id', (req, res) => { res.json({ id: req.params.id }); });
const track = usageTracking(tracker);
http.createServer((req, res) => track(req, res, () => res.end('ok')));
const stats: UsageTrackerStats = tracker.stats();
const books: boolean = stats.recorded === stats.acknowledged + stats.pending + stats.dropped + stats.rejected;
await tracker.flush();
await tracker.close();
// @ts-expect-error a hit needs an endpoint
tracker.record({ ip: '203.0.113.7' });
// @ts-expect-error stats are read-only numbers, not a method to call with arguments
tracker.stats(1);
export { taken, books };
`);
    execFileSync(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app, stdio: 'inherit' });

    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import { UsageTracker, usageTracking } from '@usage-tracker/client';
      const t = new UsageTracker({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k' });
      console.log(typeof usageTracking, t.record({ ip: '192.0.2.1', endpoint: '/x' }), JSON.stringify(t.stats()));`],
    { cwd: app, encoding: 'utf8' });
    assert.equal(out.trim(), 'function true {"recorded":1,"acknowledged":0,"dropped":0,"rejected":0,"retried":0,"pending":1}');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
