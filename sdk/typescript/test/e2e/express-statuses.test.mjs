// End to end against the real local runtime, driven by local/.../TypeScriptSdkIT, which starts the stack,
// registers a client and hands over BASE_URL and API_KEY; the IT then reads the raw hits the stack stored.
// An Express app answers 200, 201, 404 (no route) and 500 (a route that throws); the middleware records the
// method, the status the app answered and the duration, and the real tracker sends them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import { UsageTracker, usageTracking } from '../../dist/index.js';

const { BASE_URL, API_KEY } = process.env;

test('an Express app reports the status it answered and how long it took',
  { skip: BASE_URL ? false : 'BASE_URL is not set (TypeScriptSdkIT runs this against the local runtime)', timeout: 120_000 },
  async () => {
    const events = [];
    const tracker = new UsageTracker({ baseUrl: BASE_URL, apiKey: API_KEY, flushIntervalMs: 100, onError: (e) => events.push(e) });
    const app = express();
    app.use(usageTracking(tracker));
    app.get('/products/:id', async (req, res) => {
      await new Promise((r) => setTimeout(r, 20));
      res.json({ id: req.params.id });
    });
    app.post('/orders', (req, res) => res.status(201).json({ ok: true }));
    app.get('/fail/:id', () => { throw new Error('the app failed'); });
    const server = http.createServer(app);
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${server.address().port}`;
    const statuses = [];
    for (const [method, path] of [['GET', '/products/1'], ['POST', '/orders'], ['GET', '/no/such/route'], ['GET', '/fail/2']]) {
      const r = await fetch(origin + path, { method });
      await r.text();
      statuses.push(r.status);
    }
    await new Promise((r) => setTimeout(r, 50));
    await tracker.close();
    server.close();
    assert.deepEqual(statuses, [200, 201, 404, 500]);
    assert.deepEqual(events, []);
    assert.deepEqual(tracker.stats(), { recorded: 4, acknowledged: 4, dropped: 0, rejected: 0, retried: 0, pending: 0 });
  });
