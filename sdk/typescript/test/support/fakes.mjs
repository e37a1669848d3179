// A virtual clock and a scripted fetch: the tracker's time, timers and network under the test's control.
import assert from 'node:assert/strict';

export const T0 = Date.parse('2026-11-26T08:00:00.000Z');

export class FakeClock {
  constructor(start = T0) {
    this.t = start;
    this.timers = new Map();
    this.nextId = 1;
    this.random = () => 0.5;
  }
  now() { return this.t; }
  setTimeout(fn, ms) {
    const handle = { id: this.nextId++, at: this.t + Math.max(0, ms), fn, refed: true,
      ref() { this.refed = true; return this; }, unref() { this.refed = false; return this; } };
    this.timers.set(handle.id, handle);
    return handle;
  }
  clearTimeout(handle) { if (handle) this.timers.delete(handle.id); }
  /** Moves time forward, firing every timer that falls due, letting promises settle in between. */
  async advance(ms) {
    const end = this.t + ms;
    for (;;) {
      await settle();
      let next;
      for (const h of this.timers.values()) if (h.at <= end && (!next || h.at < next.at)) next = h;
      if (!next) break;
      this.t = next.at;
      this.timers.delete(next.id);
      next.fn();
    }
    this.t = end;
    await settle();
  }
}

/** Lets queued microtasks and I/O callbacks run. */
export async function settle() {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

/**
 * fetch that records each request and answers from `script`: a function (call, index) returning
 * `{status, headers?, body?}`, a promise of one, or throwing (a network error).
 */
export function fakeFetch(script = () => ({ status: 202, body: "{\"accepted\":1}" }), clock = undefined) {
  const calls = [];
  const fetch = async (url, init) => {
    const call = { url, headers: init.headers, body: JSON.parse(init.body), raw: init.body, signal: init.signal, at: clock?.now() };
    calls.push(call);
    const answer = await script(call, calls.length - 1);
    const headers = new Map(Object.entries(answer.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return { status: answer.status, headers: { get: (n) => headers.get(n.toLowerCase()) ?? null },
      text: async () => answer.body ?? '' };
  };
  return { fetch, calls };
}

export function problem(status, title, errors) {
  return { status, headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify({ type: 'about:blank', title, status, detail: title, instance: 'req-1', ...(errors ? { errors } : {}) }) };
}

/** The promise every state must keep. */
export function assertBooks(tracker) {
  const s = tracker.stats();
  assert.equal(s.recorded, s.acknowledged + s.pending + s.dropped + s.rejected, JSON.stringify(s));
  return s;
}
