import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

test('a tracker with hits pending and a server that is down does not keep the process alive', () => {
  // port 9 (discard) is closed: every send fails and the tracker backs off, on unref'd timers
  const script = `
    import { UsageTracker } from ${JSON.stringify(dist)};
    const t = new UsageTracker({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k', flushIntervalMs: 50 });
    for (let i = 0; i < 10; i++) t.record({ ip: '192.0.2.1', endpoint: '/x' });
    setTimeout(() => console.log(JSON.stringify(t.stats())), 300);`;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.signal, null, 'exited by itself, not killed by the timeout');
  assert.equal(r.status, 0, r.stderr);
  const stats = JSON.parse(r.stdout.trim());
  assert.equal(stats.pending, 10);
  assert.ok(Date.now() - started < 15_000);
});

test('close() holds the process until what is left is sent or closeTimeoutMs passes', () => {
  const script = `
    import { UsageTracker } from ${JSON.stringify(dist)};
    const t = new UsageTracker({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k', closeTimeoutMs: 1500 });
    t.record({ ip: '192.0.2.1', endpoint: '/x' });
    const at = Date.now();
    await t.close();
    console.log(JSON.stringify({ ...t.stats(), waited: Date.now() - at }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim());
  assert.equal(out.dropped, 1);
  assert.equal(out.pending, 0);
  assert.ok(out.waited >= 1400, `waited ${out.waited} ms`);
});
