import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageTracker } from '../../dist/index.js';
import { fullJitterDelay } from '../../dist/backoff.js';
import { FakeClock, fakeFetch, problem, assertBooks, settle, T0 } from '../support/fakes.mjs';

function tracker(clock, fetch, more = {}) {
  return new UsageTracker({ baseUrl: 'http://usage.test/prod/', apiKey: 'ut_key_1', clock, fetch, ...more });
}

function recordN(t, n, endpoint = '/orders') {
  for (let i = 0; i < n; i++) assert.equal(t.record({ ip: '203.0.113.7', endpoint }), true);
}

test('full batches of 500 go at once, the rest when the flush interval has passed', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch(undefined, clock);
  const t = tracker(clock, fetch);
  recordN(t, 1200);
  await settle();
  assert.equal(calls.length, 2);
  assert.deepEqual(calls.map((c) => c.body.hits.length), [500, 500]);
  await clock.advance(999);
  assert.equal(calls.length, 2, 'a batch that is not full waits for the flush interval');
  await clock.advance(1);
  assert.deepEqual(calls.map((c) => c.body.hits.length), [500, 500, 200]);
  assert.equal(calls[0].url, 'http://usage.test/prod/api/logs');
  assert.equal(calls[0].headers['x-api-key'], 'ut_key_1');
  assert.equal(calls[0].headers['content-type'], 'application/json');
  assert.equal(new Set(calls.map((c) => c.headers['idempotency-key'])).size, 3, 'one key per batch');
  assert.deepEqual(calls[0].body.hits[0], { ip: '203.0.113.7', endpoint: '/orders', timestamp: new Date(T0).toISOString() });
  assert.deepEqual(assertBooks(t), { recorded: 1200, acknowledged: 1200, dropped: 0, rejected: 0, retried: 0, pending: 0 });
});

test('the timestamp is taken at record, not at send', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch(undefined, clock);
  const t = tracker(clock, fetch);
  t.record({ ip: '2001:db8::1', endpoint: '/a' });
  await clock.advance(700);
  t.record({ ip: '2001:db8::1', endpoint: '/b' });
  t.record({ ip: '2001:db8::1', endpoint: '/c', timestamp: new Date(T0 - 60_000) });
  await clock.advance(300);
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].body.hits.map((h) => h.timestamp), [
    new Date(T0).toISOString(), new Date(T0 + 700).toISOString(), new Date(T0 - 60_000).toISOString()]);
});

test('batches stay within 256 KiB however long the endpoints are', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch(undefined, clock);
  const t = tracker(clock, fetch);
  const long = '/' + 'é'.repeat(2000);
  recordN(t, 600, long);
  await t.flush();
  assert.ok(calls.length >= 6, `${calls.length} requests`);
  for (const c of calls) {
    assert.ok(Buffer.byteLength(c.raw) <= 256 * 1024, `${Buffer.byteLength(c.raw)} bytes`);
    assert.ok(c.body.hits.length <= 500);
  }
  assert.equal(calls.reduce((n, c) => n + c.body.hits.length, 0), 600);
  assert.equal(assertBooks(t).acknowledged, 600);
});

test('a full buffer drops new hits, counts them and says so once', async () => {
  const clock = new FakeClock();
  const { fetch } = fakeFetch(() => new Promise(() => {}), clock);
  const events = [];
  const t = tracker(clock, fetch, { maxBufferedHits: 100, maxBatchSize: 40, onError: (e) => events.push(e) });
  let taken = 0;
  for (let i = 0; i < 150; i++) if (t.record({ ip: '192.0.2.1', endpoint: '/x' })) taken++;
  await settle();
  assert.equal(taken, 100);
  assert.deepEqual(assertBooks(t), { recorded: 150, acknowledged: 0, dropped: 50, rejected: 0, retried: 0, pending: 100 });
  assert.deepEqual(events.map((e) => e.kind), ['buffer-full']);
});

test('malformed hits are refused at record and counted as rejected, never thrown', () => {
  const clock = new FakeClock();
  const { fetch } = fakeFetch(undefined, clock);
  const t = tracker(clock, fetch);
  assert.equal(t.record({ ip: 42, endpoint: '/x' }), false);
  assert.equal(t.record({ ip: '192.0.2.1', endpoint: '/' + 'x'.repeat(2048) }), false);
  assert.equal(t.record({ ip: '192.0.2.1', endpoint: '/x', timestamp: 'yesterday' }), false);
  assert.equal(t.record(null), false);
  assert.equal(t.record({ get ip() { throw new Error('boom'); }, endpoint: '/x' }), false);
  assert.deepEqual(assertBooks(t), { recorded: 5, acknowledged: 0, dropped: 0, rejected: 5, retried: 0, pending: 0 });
});

test('503 and network errors back off with full jitter and keep the Idempotency-Key', async () => {
  const clock = new FakeClock();
  clock.random = () => 0.999;
  const answers = [problem(503, 'Service Unavailable'), 'network', problem(500, 'Internal'), problem(502, 'Bad Gateway')];
  const { fetch, calls } = fakeFetch((call, i) => {
    const a = answers[i];
    if (a === 'network') throw new TypeError('fetch failed');
    return a ?? { status: 202, body: '{"accepted":3}' };
  }, clock);
  const events = [];
  const t = tracker(clock, fetch, { onError: (e) => events.push(e) });
  recordN(t, 3);
  await clock.advance(1000);
  assert.equal(calls.length, 1);
  // ceilings 500, 1000, 2000, 4000 ms; random 0.999 → just under each
  const expected = [499, 999, 1998, 3996];
  let at = clock.now();
  for (const delay of expected) {
    await clock.advance(delay - 1);
    const before = calls.length;
    await clock.advance(1);
    assert.equal(calls.length, before + 1, `resent after ${delay} ms`);
    assert.equal(calls.at(-1).at - at, delay);
    at = clock.now();
    assertBooks(t);
  }
  assert.equal(new Set(calls.map((c) => c.headers['idempotency-key'])).size, 1, 'the same key on every retry');
  assert.equal(new Set(calls.map((c) => c.raw)).size, 1, 'the same body on every retry');
  assert.deepEqual(events.map((e) => e.kind), ['retrying', 'retrying', 'retrying', 'retrying']);
  assert.deepEqual(events.map((e) => e.attempt), [1, 2, 3, 4]);
  assert.deepEqual(assertBooks(t), { recorded: 3, acknowledged: 3, dropped: 0, rejected: 0, retried: 4, pending: 0 });
});

test('backoff delays stay within [0, min(30 s, 0.5 s × 2^(n-1))]', () => {
  for (let n = 1; n <= 40; n++) {
    const ceiling = Math.min(30_000, 500 * 2 ** (n - 1));
    assert.equal(fullJitterDelay(n, 500, 30_000, () => 0), 0);
    const top = fullJitterDelay(n, 500, 30_000, () => 0.999999);
    assert.ok(top < ceiling && top >= ceiling - 1, `attempt ${n}: ${top} vs ${ceiling}`);
  }
  let sum = 0;
  let r = 1;
  const random = () => { r = (r * 16807) % 2147483647; return r / 2147483647; };
  for (let i = 0; i < 10_000; i++) sum += fullJitterDelay(3, 500, 30_000, random);
  assert.ok(Math.abs(sum / 10_000 - 1000) < 30, `mean of U[0,2000) ≈ 1000, got ${sum / 10_000}`);
});

test('a hung request times out and is retried under the same key', async () => {
  const clock = new FakeClock();
  clock.random = () => 0;
  const { fetch, calls } = fakeFetch((call, i) => i === 0
    ? new Promise((_, reject) => call.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))
    : { status: 202 }, clock);
  const t = tracker(clock, fetch, { requestTimeoutMs: 5_000 });
  recordN(t, 1);
  await clock.advance(1000);
  await clock.advance(4_999);
  assert.equal(calls.length, 1);
  await clock.advance(1);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].headers['idempotency-key'], calls[0].headers['idempotency-key']);
  assert.deepEqual(assertBooks(t), { recorded: 1, acknowledged: 1, dropped: 0, rejected: 0, retried: 1, pending: 0 });
});

test('429 waits for Retry-After and resends the same batch', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch((c, i) => i === 0
    ? { ...problem(429, 'Too Many Requests'), headers: { 'Retry-After': '7', RateLimit: '"ingest-1m";r=0;t=7' } }
    : { status: 202 }, clock);
  const events = [];
  const t = tracker(clock, fetch, { onError: (e) => events.push(e) });
  recordN(t, 10);
  await clock.advance(1000);
  await clock.advance(6_999);
  assert.equal(calls.length, 1);
  await clock.advance(1);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].headers['idempotency-key'], calls[0].headers['idempotency-key']);
  assert.equal(events[0].kind, 'rate-limited');
  assert.equal(events[0].delayMs, 7000);
  assert.deepEqual(assertBooks(t), { recorded: 10, acknowledged: 10, dropped: 0, rejected: 0, retried: 1, pending: 0 });
});

test('the RateLimit header paces requests: fewer, larger batches as the quota shrinks', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch(() => ({ status: 202, headers: {
    RateLimit: '"ingest-1m";r=4;t=20,"ingest-1h";r=900;t=3000', 'RateLimit-Policy': '"ingest-1m";q=500;w=60' } }), clock);
  const t = tracker(clock, fetch);
  recordN(t, 500);
  await settle();
  assert.equal(calls.length, 1);
  // four requests left for the next 20 s: one every 5 s; meanwhile the hits pile up into one batch
  // where the flush interval alone would have sent one request a second
  for (let i = 0; i < 12; i++) {
    recordN(t, 30);
    await clock.advance(400);
  }
  assert.equal(calls.length, 1, 'nothing sent within 5 s of the last request');
  await clock.advance(200);
  assert.deepEqual(calls.slice(1).map((c) => c.body.hits.length), [360]);
  for (let i = 0; i < 10; i++) {
    recordN(t, 30);
    await clock.advance(500);
  }
  assert.deepEqual(calls.slice(1).map((c) => c.body.hits.length), [360, 300]);
  assert.equal(calls[2].at - calls[1].at, 5000);
  assertBooks(t);
});

test('400 naming hits rejects those and resends the rest as a new batch', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch((c, i) => i === 0
    ? problem(400, 'Invalid request', [{ field: 'hits[1].ip', message: 'must be an IPv4 or IPv6 address' },
      { field: 'hits[3].timestamp', message: 'must not be more than 5 minutes in the future' },
      { field: 'hits[3].endpoint', message: 'bad' }])
    : { status: 202 }, clock);
  const events = [];
  const t = tracker(clock, fetch, { onError: (e) => events.push(e) });
  for (const ip of ['192.0.2.0', 'not-an-ip', '192.0.2.2', '192.0.2.3', '192.0.2.4']) t.record({ ip, endpoint: '/e' });
  await clock.advance(1000);
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[1].body.hits.map((h) => h.ip), ['192.0.2.0', '192.0.2.2', '192.0.2.4']);
  assert.notEqual(calls[1].headers['idempotency-key'], calls[0].headers['idempotency-key'], 'another body, another key');
  assert.equal(events[0].kind, 'rejected');
  assert.equal(events[0].hits, 2);
  assert.deepEqual(assertBooks(t), { recorded: 5, acknowledged: 3, dropped: 0, rejected: 2, retried: 0, pending: 0 });
});

test('400 that names no hit rejects the whole batch', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch(() => problem(400, 'Invalid request', [{ field: 'hits', message: 'must hold 1 to 500 hits' }]), clock);
  const t = tracker(clock, fetch);
  recordN(t, 4);
  await clock.advance(1000);
  await clock.advance(60_000);
  assert.equal(calls.length, 1);
  assert.deepEqual(assertBooks(t), { recorded: 4, acknowledged: 0, dropped: 0, rejected: 4, retried: 0, pending: 0 });
});

test('401/403 (and 404/405, a wrong base URL) stop sending and report once; the held batch is tried every minute; setApiKey resumes', async () => {
  for (const status of [401, 403, 404, 405]) {
    const clock = new FakeClock();
    let key = 'ut_key_1';
    const { fetch, calls } = fakeFetch((c) => c.headers['x-api-key'] === key ? problem(status, 'Unauthorized') : { status: 202 }, clock);
    const events = [];
    const t = tracker(clock, fetch, { maxBufferedHits: 50, onError: (e) => events.push(e) });
    recordN(t, 20);
    await clock.advance(1000);
    assert.equal(calls.length, 1);
    assert.equal(t.halted, true);
    assert.equal(events[0].kind, 'halted');
    assert.equal(events[0].status, status);
    for (let i = 0; i < 40; i++) t.record({ ip: '192.0.2.9', endpoint: '/later' });
    await clock.advance(59_999);
    assert.equal(calls.length, 1, 'nothing sent while halted');
    await clock.advance(1);
    assert.equal(calls.length, 2, 'the held batch is tried again after authRetryIntervalMs');
    await clock.advance(60_000);
    assert.equal(calls.length, 3);
    assert.equal(new Set(calls.map((c) => c.headers['idempotency-key'])).size, 1, 'the same batch, the same key');
    assert.equal(events.filter((e) => e.kind === 'halted').length, 1, 'one report per episode');
    await t.flush(); // resolves while halted
    assert.deepEqual(assertBooks(t), { recorded: 60, acknowledged: 0, dropped: 10, rejected: 0, retried: 2, pending: 50 });
    key = 'revoked';
    t.setApiKey('ut_key_2');
    await t.flush();
    assert.equal(calls[3].headers['x-api-key'], 'ut_key_2');
    assert.equal(calls[3].headers['idempotency-key'], calls[0].headers['idempotency-key'], 'the held batch keeps its key');
    assert.deepEqual(assertBooks(t), { recorded: 60, acknowledged: 50, dropped: 10, rejected: 0, retried: 3, pending: 0 });
    assert.equal(events.at(-1).kind, 'resumed');
    await t.close();
    assert.equal(clock.timers.size, 0, 'no probe timer left behind');
  }
});

test('a client enabled again resumes by itself at the next retry, without setApiKey', async () => {
  const clock = new FakeClock();
  let disabled = true;
  const { fetch, calls } = fakeFetch(() => disabled ? problem(403, 'Client disabled') : { status: 202 }, clock);
  const events = [];
  const t = tracker(clock, fetch, { authRetryIntervalMs: 30_000, onError: (e) => events.push(e) });
  recordN(t, 5);
  await clock.advance(1000);
  assert.equal(t.halted, true);
  disabled = false; // an admin enables the client
  await clock.advance(30_000);
  assert.equal(calls.length, 2);
  assert.equal(t.halted, false);
  assert.deepEqual(events.map((e) => e.kind), ['halted', 'resumed']);
  assert.deepEqual(assertBooks(t), { recorded: 5, acknowledged: 5, dropped: 0, rejected: 0, retried: 1, pending: 0 });
});

test('413 from something in between halves the batch', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch((c) => c.body.hits.length > 100 ? problem(413, 'Content Too Large') : { status: 202 }, clock);
  const t = tracker(clock, fetch);
  recordN(t, 300);
  await t.flush();
  assert.deepEqual(calls.map((c) => c.body.hits.length), [300, 150, 75, 75, 150, 75, 75]);
  assert.deepEqual(assertBooks(t), { recorded: 300, acknowledged: 300, dropped: 0, rejected: 0, retried: 0, pending: 0 });
});

test('flush sends what is buffered now and resolves once it is acknowledged', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch(undefined, clock);
  const t = tracker(clock, fetch);
  recordN(t, 3);
  await t.flush();
  assert.equal(calls.length, 1);
  assert.equal(t.stats().acknowledged, 3);
  await t.flush(); // nothing left: at once
});

test('close sends what is left, then refuses new hits as dropped', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch(undefined, clock);
  const t = tracker(clock, fetch);
  recordN(t, 7);
  await t.close();
  assert.equal(calls.length, 1);
  assert.equal(t.record({ ip: '192.0.2.1', endpoint: '/late' }), false);
  assert.deepEqual(assertBooks(t), { recorded: 8, acknowledged: 7, dropped: 1, rejected: 0, retried: 0, pending: 0 });
  assert.equal(clock.timers.size, 0, 'no timer left behind');
  await t.close();
});

test('close gives up after closeTimeoutMs and counts what was not sent as dropped', async () => {
  const clock = new FakeClock();
  const { fetch } = fakeFetch(() => problem(503, 'Service Unavailable'), clock);
  const events = [];
  const t = tracker(clock, fetch, { closeTimeoutMs: 3000, onError: (e) => events.push(e) });
  recordN(t, 5);
  let closed = false;
  const closing = t.close().then(() => { closed = true; });
  await clock.advance(2999);
  assert.equal(closed, false);
  await clock.advance(1);
  await closing;
  assert.deepEqual(assertBooks(t), { recorded: 5, acknowledged: 0, dropped: 5, rejected: 0, retried: t.stats().retried, pending: 0 });
  assert.equal(events.at(-1).kind, 'abandoned');
  assert.equal(clock.timers.size, 0);
});

test('background timers are unref\'d, a flush keeps the backoff timer alive', async () => {
  const clock = new FakeClock();
  const { fetch } = fakeFetch((c, i) => i === 0 ? problem(503, 'x') : { status: 202 }, clock);
  const t = tracker(clock, fetch);
  t.record({ ip: '192.0.2.1', endpoint: '/x' });
  assert.ok([...clock.timers.values()].every((h) => !h.refed), 'the flush timer is unref\'d');
  await clock.advance(1000);
  assert.ok([...clock.timers.values()].every((h) => !h.refed), 'the backoff timer is unref\'d');
  const flushed = t.flush();
  assert.ok([...clock.timers.values()].some((h) => h.refed), 'someone waits: the backoff timer holds the process');
  await clock.advance(1000);
  await flushed;
});

test('a timestamp outside the range of a Date is refused at record and does not jam the hits after it', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch(undefined, clock);
  const events = [];
  const t = tracker(clock, fetch, { onError: (e) => events.push(e) });
  recordN(t, 3);
  assert.equal(t.record({ ip: '192.0.2.1', endpoint: '/x', timestamp: 1e17 }), false);
  assert.equal(t.record({ ip: '192.0.2.1', endpoint: '/x', timestamp: -8.7e15 }), false);
  recordN(t, 4);
  assert.deepEqual(events, [], 'the listener runs after record returns, not inside the caller\'s request');
  await t.flush();
  await settle();
  assert.equal(calls.reduce((n, c) => n + c.body.hits.length, 0), 7);
  assert.deepEqual(assertBooks(t), { recorded: 9, acknowledged: 7, dropped: 0, rejected: 2, retried: 0, pending: 0 });
  assert.deepEqual(events.map((e) => e.kind), ['invalid-hit', 'invalid-hit']);
});

test('a Retry-After beyond an hour (a monthly quota) is waited an hour at a time, without a busy timer', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch((c, i) => i < 2
    ? { ...problem(429, 'Monthly quota exhausted'), headers: { 'Retry-After': '2600000' } }
    : { status: 202 }, clock);
  const events = [];
  const t = tracker(clock, fetch, { onError: (e) => events.push(e) });
  recordN(t, 2);
  await clock.advance(1000);
  assert.equal(calls.length, 1);
  assert.equal(events[0].kind, 'rate-limited');
  assert.equal(events[0].delayMs, 3_600_000);
  for (const h of clock.timers.values()) assert.ok(h.at - clock.now() <= 3_600_000, `a timer ${h.at - clock.now()} ms away`);
  await clock.advance(3_599_999);
  assert.equal(calls.length, 1, 'no request within the hour');
  await clock.advance(1);
  assert.equal(calls.length, 2, 'asks again after an hour');
  await clock.advance(3_600_000);
  assert.equal(calls.length, 3);
  assert.equal(new Set(calls.map((c) => c.headers['idempotency-key'])).size, 1);
  assert.deepEqual(assertBooks(t), { recorded: 2, acknowledged: 2, dropped: 0, rejected: 0, retried: 2, pending: 0 });
});

test('pacing holds back only what the flush interval made due: flush and close go at once', async () => {
  const clock = new FakeClock();
  // 50 requests left in 1800 s: one every 36 s for batches the interval makes due
  const { fetch, calls } = fakeFetch(() => ({ status: 202, headers: { RateLimit: '"ingest-1h";r=50;t=1800' } }), clock);
  const t = tracker(clock, fetch, { closeTimeoutMs: 1000 });
  recordN(t, 1);
  await t.flush();
  assert.equal(calls.length, 1);
  recordN(t, 2);
  await clock.advance(5_000);
  assert.equal(calls.length, 1, 'the interval alone waits for the pacing');
  await t.flush();
  assert.equal(calls.length, 2, 'a flush is not held back');
  assert.equal(calls[1].at - calls[0].at, 5_000);
  recordN(t, 3);
  await t.close();
  assert.equal(calls.length, 3, 'neither is close');
  assert.deepEqual(assertBooks(t), { recorded: 6, acknowledged: 6, dropped: 0, rejected: 0, retried: 0, pending: 0 });
});

test('a batch that fills up while the tracker paces goes at once', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch(() => ({ status: 202, headers: { RateLimit: '"ingest-1m";r=4;t=20' } }), clock);
  const t = tracker(clock, fetch, { maxBatchSize: 50 });
  recordN(t, 50);
  await settle();
  assert.equal(calls.length, 1);
  recordN(t, 10);
  await clock.advance(1_000);
  assert.equal(calls.length, 1, 'the interval made 10 hits due: they wait for the 5 s spacing');
  recordN(t, 40);
  await settle();
  assert.equal(calls.length, 2, 'now a full batch: not held back');
  assert.equal(calls[1].body.hits.length, 50);
  assert.deepEqual(assertBooks(t), { recorded: 100, acknowledged: 100, dropped: 0, rejected: 0, retried: 0, pending: 0 });
});

test('425 Too Early is retried under the same key, like a 503', async () => {
  const clock = new FakeClock();
  const { fetch, calls } = fakeFetch((c, i) => i === 0 ? problem(425, 'Too Early') : { status: 202 }, clock);
  const t = tracker(clock, fetch);
  recordN(t, 3);
  await clock.advance(1000);
  assert.equal(calls.length, 1);
  await clock.advance(1000);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].headers['idempotency-key'], calls[0].headers['idempotency-key']);
  assert.deepEqual(assertBooks(t), { recorded: 3, acknowledged: 3, dropped: 0, rejected: 0, retried: 1, pending: 0 });
});
