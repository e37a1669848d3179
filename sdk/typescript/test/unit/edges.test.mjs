// Exactly once at the edges (DESIGN.md §8, issue 29 findings 2, 3, 4, 9) and the v1.2 hit fields (§2b).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageTracker } from '../../dist/index.js';
import { smallestHitsQuota } from '../../dist/rate-limit.js';
import { FakeClock, fakeFetch, problem, assertBooks, settle, T0 } from '../support/fakes.mjs';

function tracker(clock, fetch, more = {}) {
  return new UsageTracker({ baseUrl: 'http://usage.test', apiKey: 'ut_key_1', clock, fetch, ...more });
}

const POLICY = '"ingest-1m";q=500;w=60,"ingest_hits-1m";q=300;w=60,"ingest_hits-1h";q=5000;w=3600';

/** The service's answers under a plan of ingest_hits 300/1m: a batch above it is 400 (RateLimitGuard), else 202. */
function hitsPolicyAnswer(call) {
  const n = call.body.hits.length;
  if (n > 300) {
    return { status: 400, headers: { 'RateLimit-Policy': POLICY, 'content-type': 'application/problem+json' },
      body: JSON.stringify({ type: 'https://usage-tracker.dev/problems/bad-request', title: 'Bad request', status: 400,
        detail: `This request needs ${n} units but the ingest_hits-1m policy allows 300 per 60 s; send smaller batches.` }) };
  }
  return { status: 202, headers: { 'RateLimit-Policy': POLICY }, body: `{"accepted":${n}}` };
}

test('batches are cut to the smallest ingest_hits policy, and a 400 for size loses nothing', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch(hitsPolicyAnswer, clock);
  const events = [];
  const t = tracker(clock, fetch, { onError: (e) => events.push(e) });
  for (let i = 0; i < 1000; i++) t.record({ ip: '192.0.2.1', endpoint: `/p/${i}` });
  await t.flush();
  assert.equal(calls[0].body.hits.length, 500, 'the first batch, before any policy was named');
  const accepted = calls.slice(1);
  assert.ok(accepted.every((c) => c.body.hits.length <= 300), accepted.map((c) => c.body.hits.length).join());
  assert.equal(new Set(accepted.flatMap((c) => c.body.hits.map((h) => h.endpoint))).size, 1000);
  assert.equal(accepted.reduce((n, c) => n + c.body.hits.length, 0), 1000);
  assert.equal(new Set(accepted.map((c) => c.headers['idempotency-key'])).size, accepted.length);
  assert.deepEqual(assertBooks(t), { recorded: 1000, acknowledged: 1000, dropped: 0, rejected: 0, retried: 0, pending: 0 });
  assert.deepEqual(events, []);

  // learnt: full batches are 300 from the start
  calls.length = 0;
  for (let i = 0; i < 600; i++) t.record({ ip: '192.0.2.1', endpoint: '/q' });
  await settle();
  assert.deepEqual(calls.map((c) => c.body.hits.length), [300, 300]);
  assert.equal(smallestHitsQuota('"ingest-1m";q=500;w=60'), Infinity);
  assert.equal(smallestHitsQuota(POLICY), 300);
});

test('a batch held longer than the service keeps its key is dropped and reported, never sent again', async () => {
  const clock = new FakeClock();
  // a monthly quota refuses until the 1st: Retry-After is waited an hour at a time under the same key
  const { fetch, calls } = fakeFetch(() => ({ ...problem(429, 'Monthly quota exhausted'), headers: { 'Retry-After': '2600000' } }), clock);
  const events = [];
  const t = tracker(clock, fetch, { onError: (e) => events.push(e) });
  t.record({ ip: '192.0.2.1', endpoint: '/a' });
  t.record({ ip: '192.0.2.1', endpoint: '/b' });
  await clock.advance(1000);
  assert.equal(calls.length, 1);
  for (let hour = 1; hour < 24; hour++) {
    await clock.advance(3_600_000);
    assert.equal(calls.length, hour + 1, `hour ${hour}`);
  }
  await clock.advance(2 * 3_600_000);
  assert.equal(calls.length, 24, 'never sent again once 24 h old');
  assert.equal(new Set(calls.map((c) => c.headers['idempotency-key'])).size, 1);
  assert.deepEqual(assertBooks(t), { recorded: 2, acknowledged: 0, dropped: 2, rejected: 0, retried: 23, pending: 0 });
  const expired = events.filter((e) => e.kind === 'expired');
  assert.equal(expired.length, 1);
  assert.equal(expired[0].hits, 2);
  await t.flush(); // resolves: nothing is pending
});

test('a batch only ever refused by authentication is not aged out: the service never claimed its key', async () => {
  const clock = new FakeClock();
  let enabled = false;
  const { fetch, calls } = fakeFetch(() => (enabled ? { status: 202 } : problem(403, 'Forbidden')), clock);
  const t = tracker(clock, fetch, { authRetryIntervalMs: 3_600_000 });
  t.record({ ip: '192.0.2.1', endpoint: '/a' });
  await clock.advance(1000);
  await clock.advance(29 * 3_600_000);
  enabled = true;
  await clock.advance(3_600_000);
  assert.equal(new Set(calls.map((c) => c.headers['idempotency-key'])).size, 1);
  assert.equal(assertBooks(t).acknowledged, 1);
});

test('a 400 on a retry of a batch that may have landed is not split and resent under a new key', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch((c, i) => (i === 0 ? problem(502, 'Bad gateway')
    : problem(400, 'Invalid request', [{ field: 'hits[1].timestamp', message: 'too old' }])), clock);
  const events = [];
  const t = tracker(clock, fetch, { maxBatchSize: 3, onError: (e) => events.push(e) });
  for (let i = 0; i < 3; i++) t.record({ ip: '192.0.2.1', endpoint: `/m/${i}` });
  await settle();
  await clock.advance(60_000);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].headers['idempotency-key'], calls[0].headers['idempotency-key']);
  assert.deepEqual(assertBooks(t), { recorded: 3, acknowledged: 0, dropped: 0, rejected: 3, retried: 1, pending: 0 });
  const rejected = events.filter((e) => e.kind === 'rejected');
  assert.equal(rejected.length, 1);
  assert.equal(rejected[0].hits, 3);
  assert.match(rejected[0].message, /may have been counted/);
});

test('a clock that throws in record drops the hit, counts it and says so; the tracker goes on', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch(undefined, clock);
  let broken = true;
  const throwing = Object.assign(Object.create(clock), { now: () => { if (broken) throw new Error('clock broken'); return clock.now(); } });
  for (const k of ['setTimeout', 'clearTimeout']) throwing[k] = clock[k].bind(clock);
  const events = [];
  const t = tracker(throwing, fetch, { maxBufferedHits: 3, maxBatchSize: 3, onError: (e) => events.push(e) });
  for (let i = 0; i < 5; i++) assert.equal(t.record({ ip: '192.0.2.1', endpoint: '/a' }), false);
  broken = false;
  for (let i = 0; i < 3; i++) assert.equal(t.record({ ip: '192.0.2.1', endpoint: '/b' }), true);
  await t.close();
  await settle();
  assert.equal(calls.length, 1);
  assert.deepEqual(assertBooks(t), { recorded: 8, acknowledged: 3, dropped: 5, rejected: 0, retried: 0, pending: 0 });
  assert.equal(events.filter((e) => e.kind === 'record-failed').length, 5);
});

test('method, status and durationMs travel with the hit; an invalid one is left out and reported, the hit kept', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch(undefined, clock);
  const events = [];
  const t = tracker(clock, fetch, { onError: (e) => events.push(e) });
  const base = { ip: '192.0.2.1', endpoint: '/f' };
  const inputs = [
    { ...base, method: 'GET', status: 200, durationMs: 12.05 },
    { ...base, method: 'GE T' }, { ...base, method: 'ABCDEFGHIJKLMNOPQ' }, { ...base, method: '' }, { ...base, method: 7 },
    { ...base, status: 99 }, { ...base, status: 600 }, { ...base, status: '200' }, { ...base, status: 200.5 },
    { ...base, durationMs: -1 }, { ...base, durationMs: NaN }, { ...base, durationMs: 3_600_000.5 }, { ...base, durationMs: Infinity },
    { ...base, durationMs: 0.0000001 },
    { ...base, method: 'M-SEARCH', status: 599, durationMs: 3_600_000 },
  ];
  for (const h of inputs) assert.equal(t.record(h), true);
  await t.flush();
  const ts = new Date(T0).toISOString();
  assert.deepEqual(calls[0].body.hits, [
    { ip: '192.0.2.1', endpoint: '/f', timestamp: ts, method: 'GET', status: 200, duration_ms: 12.05 },
    ...Array(12).fill({ ip: '192.0.2.1', endpoint: '/f', timestamp: ts }),
    { ip: '192.0.2.1', endpoint: '/f', timestamp: ts, duration_ms: 0 },
    { ip: '192.0.2.1', endpoint: '/f', timestamp: ts, method: 'M-SEARCH', status: 599, duration_ms: 3600000 },
  ]);
  assert.deepEqual(assertBooks(t), { recorded: 15, acknowledged: 15, dropped: 0, rejected: 0, retried: 0, pending: 0 });
  await settle();
  const fields = Object.fromEntries(events.filter((e) => e.kind === 'invalid-field').map((e) => [e.field, e.hits]));
  assert.deepEqual(fields, { method: 4, status: 4, duration_ms: 4 });
  assert.equal(events.filter((e) => e.kind === 'invalid-field').length, 3, 'one report per field, not one per hit');
});

test('a service before contract v1.2 refuses the new fields as unknown: the hits go again without them, none lost', async () => {
  const clock = new FakeClock();
  // as the old service answered: one unknown field named per request (Jackson stops at the first)
  const { fetch, calls } = fakeFetch((c) => (c.body.hits.some((h) => 'method' in h || 'status' in h || 'duration_ms' in h)
    ? problem(400, 'Invalid request', [{ field: 'hits[0].method', message: 'unknown field' }])
    : { status: 202 }), clock);
  const events = [];
  const t = tracker(clock, fetch, { onError: (e) => events.push(e) });
  for (let i = 0; i < 4; i++) t.record({ ip: '192.0.2.1', endpoint: '/o', method: 'GET', status: 200, durationMs: 3 });
  await t.flush();
  t.record({ ip: '192.0.2.1', endpoint: '/o', method: 'GET', status: 200 });
  await t.flush();
  assert.deepEqual(calls.map((c) => c.body.hits.length), [4, 4, 1]);
  assert.notEqual(calls[1].headers['idempotency-key'], calls[0].headers['idempotency-key']);
  assert.deepEqual(Object.keys(calls[1].body.hits[0]), ['ip', 'endpoint', 'timestamp']);
  assert.deepEqual(Object.keys(calls[2].body.hits[0]), ['ip', 'endpoint', 'timestamp']);
  assert.deepEqual(assertBooks(t), { recorded: 5, acknowledged: 5, dropped: 0, rejected: 0, retried: 0, pending: 0 });
  assert.deepEqual(events.map((e) => e.kind), ['fields-unsupported']);
});
