import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import { usageTracking, clientAddress, UsageTracker } from '../../dist/index.js';
import { compileTrust } from '../../dist/client-address.js';

function recorder() {
  const hits = [];
  return { hits, record: (h) => { hits.push(h); return true; } };
}

async function listen(server) {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${server.address().port}`;
}

async function untilRecorded(hits, n) {
  for (let i = 0; i < 200 && hits.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(hits.length, n);
}

test('Express: the route template after routing, mounted routers included; the path where no route matched', async () => {
  const tracker = recorder();
  const app = express();
  app.use(usageTracking(tracker));
  app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
  const api = express.Router();
  api.get('/items/:itemId/reviews', (req, res) => res.status(201).send('ok'));
  api.get('/', (req, res) => res.send('root'));
  app.use('/api', api);
  const server = http.createServer(app);
  const base = await listen(server);
  try {
    const before = Date.now();
    for (const path of ['/users/42?x=1', '/api/items/abc-123/reviews', '/api', '/nothing/here/7?q=#f']) {
      await (await fetch(base + path)).text();
    }
    await untilRecorded(tracker.hits, 4);
    assert.deepEqual(tracker.hits.map((h) => h.endpoint), ['/users/:id', '/api/items/:itemId/reviews', '/api', '/nothing/here/7']);
    assert.ok(tracker.hits.every((h) => h.ip === '127.0.0.1'));
    assert.ok(tracker.hits.every((h) => typeof h.timestamp === 'number' && h.timestamp >= before && h.timestamp <= Date.now()));
  } finally {
    server.close();
  }
});

test('plain node:http: (req, res, next) records the path once the response ends', async () => {
  const tracker = recorder();
  const track = usageTracking(tracker, { skip: (req) => req.url === '/health' });
  const server = http.createServer((req, res) => track(req, res, () => res.end('ok')));
  const base = await listen(server);
  try {
    await (await fetch(base + '/v1/orders/9?expand=1')).text();
    await (await fetch(base + '/health')).text();
    await (await fetch(base + '/v1/ping')).text();
    await untilRecorded(tracker.hits, 2);
    assert.deepEqual(tracker.hits.map((h) => h.endpoint), ['/v1/orders/9', '/v1/ping']);
  } finally {
    server.close();
  }
});

test('X-Forwarded-For is ignored unless a proxy is trusted', async () => {
  const tracker = recorder();
  const app = express();
  app.use(usageTracking(tracker, { trustProxy: 'loopback' }));
  app.get('/x', (req, res) => res.send('x'));
  const plain = recorder();
  const app2 = express();
  app2.use(usageTracking(plain));
  app2.get('/x', (req, res) => res.send('x'));
  const s1 = http.createServer(app);
  const s2 = http.createServer(app2);
  const [b1, b2] = [await listen(s1), await listen(s2)];
  try {
    const xff = { 'X-Forwarded-For': '198.51.100.1, 203.0.113.9' };
    await (await fetch(b1 + '/x', { headers: xff })).text();
    await (await fetch(b2 + '/x', { headers: xff })).text();
    await untilRecorded(tracker.hits, 1);
    await untilRecorded(plain.hits, 1);
    assert.equal(tracker.hits[0].ip, '203.0.113.9', 'the nearest untrusted hop, not the client-written leftmost entry');
    assert.equal(plain.hits[0].ip, '127.0.0.1');
  } finally {
    s1.close();
    s2.close();
  }
});

test('clientAddress walks from the socket peer outwards while hops are trusted', () => {
  const xff = '198.51.100.1, 10.0.0.7, 10.0.0.8';
  assert.equal(clientAddress('10.0.0.9', xff, compileTrust(false)), '10.0.0.9');
  assert.equal(clientAddress('10.0.0.9', xff, compileTrust(true)), '198.51.100.1');
  assert.equal(clientAddress('10.0.0.9', xff, compileTrust(1)), '10.0.0.8');
  assert.equal(clientAddress('10.0.0.9', xff, compileTrust(3)), '198.51.100.1');
  assert.equal(clientAddress('10.0.0.9', xff, compileTrust(['10.0.0.0/8'])), '198.51.100.1');
  assert.equal(clientAddress('10.0.0.9', xff, compileTrust('10.0.0.9,10.0.0.8')), '10.0.0.7');
  assert.equal(clientAddress('203.0.113.5', xff, compileTrust('uniquelocal')), '203.0.113.5', 'an untrusted peer is the client');
  assert.equal(clientAddress('::ffff:10.0.0.9', '[2001:db8::5]:443', compileTrust('10.0.0.9')), '2001:db8::5');
  assert.equal(clientAddress('10.0.0.9', 'garbage', compileTrust(true)), '10.0.0.9', 'a malformed entry is not believed');
  assert.equal(clientAddress('10.0.0.9', ['198.51.100.1:8080', '10.0.0.8'], compileTrust(true)), '198.51.100.1');
  assert.equal(clientAddress('fe80::1%eth0', undefined, compileTrust(false)), 'fe80::1');
  assert.equal(clientAddress(undefined, xff, compileTrust(true)), undefined);
  assert.throws(() => compileTrust(['not-a-cidr']), TypeError);
});

test('a tracker that throws never breaks the response', async () => {
  const track = usageTracking({ record: () => { throw new Error('boom'); } });
  const server = http.createServer((req, res) => track(req, res, () => res.end('served')));
  const base = await listen(server);
  try {
    const r = await fetch(base + '/x');
    assert.equal(await r.text(), 'served');
    assert.equal(r.status, 200);
  } finally {
    server.close();
  }
});

test('Express: method, the status the app answered (200, 201, 404, 500) and the time it took', async () => {
  const tracker = recorder();
  const app = express();
  app.use(usageTracking(tracker));
  app.get('/slow/:id', async (req, res) => {
    await new Promise((r) => setTimeout(r, 30));
    res.send('ok');
  });
  app.post('/orders', (req, res) => res.status(201).send('created'));
  app.get('/boom/:id', () => {
    throw new Error('the app failed');
  });
  const server = http.createServer(app);
  const base = await listen(server);
  try {
    const statuses = [];
    for (const [method, path] of [['GET', '/slow/1'], ['POST', '/orders'], ['GET', '/nothing/here'], ['GET', '/boom/7']]) {
      const r = await fetch(base + path, { method });
      await r.text();
      statuses.push(r.status);
    }
    assert.deepEqual(statuses, [200, 201, 404, 500]);
    await untilRecorded(tracker.hits, 4);
    assert.deepEqual(tracker.hits.map((h) => `${h.method} ${h.endpoint} ${h.status}`),
      ['GET /slow/:id 200', 'POST /orders 201', 'GET /nothing/here 404', 'GET /boom/:id 500']);
    assert.ok(tracker.hits[0].durationMs >= 25, `${tracker.hits[0].durationMs} ms`);
    assert.ok(tracker.hits.every((h) => typeof h.durationMs === 'number' && h.durationMs >= 0 && h.durationMs < 10_000));
  } finally {
    server.close();
  }
});

test('Express: skipUnmatched leaves out what no route matched, not a 404 a route answered', async () => {
  const tracker = recorder();
  const app = express();
  app.use(usageTracking(tracker, { skipUnmatched: true }));
  app.get('/users/:id', (req, res) => (req.params.id === '0' ? res.status(404).send('no such user') : res.send('ok')));
  const server = http.createServer(app);
  const base = await listen(server);
  try {
    for (const path of ['/users/1', '/nothing', '/users/0']) await (await fetch(base + path)).text();
    await untilRecorded(tracker.hits, 2);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(tracker.hits.map((h) => `${h.endpoint} ${h.status}`), ['/users/:id 200', '/users/:id 404']);
  } finally {
    server.close();
  }
});

test('Express + the real tracker: what reaches POST /api/logs carries the method, status and duration_ms', async () => {
  const bodies = [];
  const ingest = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const ingestBase = await listen(ingest);
  const tracker = new UsageTracker({ baseUrl: ingestBase, apiKey: 'ut_key_1', flushIntervalMs: 20 });
  const app = express();
  app.use(usageTracking(tracker));
  app.get('/items/:id', (req, res) => res.send('ok'));
  app.get('/fail', () => { throw new Error('x'); });
  const server = http.createServer(app);
  const base = await listen(server);
  try {
    for (const path of ['/items/3', '/missing', '/fail']) await (await fetch(base + path)).text();
    await new Promise((r) => setTimeout(r, 50));
    await tracker.close();
    const hits = bodies.flatMap((b) => b.hits);
    assert.deepEqual(hits.map((h) => `${h.method} ${h.endpoint} ${h.status}`), ['GET /items/:id 200', 'GET /missing 404', 'GET /fail 500']);
    assert.ok(hits.every((h) => typeof h.duration_ms === 'number' && h.duration_ms >= 0));
    assert.deepEqual(tracker.stats(), { recorded: 3, acknowledged: 3, dropped: 0, rejected: 0, retried: 0, pending: 0 });
  } finally {
    server.close();
    ingest.close();
  }
});
