// bench/sdk-node's Node half (started by dev.usagetracker.bench.NodeSdkBench with BASE_URL and API_KEY of a
// client registered on the local runtime; RESULT_FILE receives the acknowledged counts for the server check).
// 1. record() on the caller: ≥ 1,000,000 calls, each timed, to a tracker whose sends are answered in-process
//    (record never touches the network: what it costs does not depend on the server).
// 2. Requests per 1,000 hits against the real runtime: hits arriving at a steady rate through the SDK, next to
//    the same service posting one hit per request (the caller waits for each), in the same run.
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { UsageTracker } from '../dist/index.js';

const { BASE_URL, API_KEY, RESULT_FILE } = process.env;
const CALLS = Number(process.env.RECORD_CALLS ?? 1_000_000);
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const yieldToLoop = () => new Promise((r) => setImmediate(r));

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

console.log(`node ${process.version} (V8 ${process.versions.v8}), ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), `
  + `${fmt(os.totalmem() / 2 ** 30, 1)} GiB RAM, ${os.platform()} ${os.arch()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

// --- 1. record() cost: plain, then with method, status and durationMs (contract v1.2) -------------------
for (const withFields of [false, true]) {
  let requests = 0;
  const sink = async (url, init) => {
    requests++;
    init.body.length; // the body was built (serialisation happens off the caller's path, between calls)
    return { status: 202, headers: { get: () => null }, text: async () => '{"accepted":500}' };
  };
  const tracker = new UsageTracker({ baseUrl: 'http://sink.invalid', apiKey: 'k', fetch: sink });
  const samples = new Float64Array(CALLS);
  const chunk = 1_000;
  const endpoints = ['/api/products/:id', '/api/orders', '/api/users/:id/orders', '/health'];
  const methods = ['GET', 'POST', 'GET', 'DELETE'];
  const statuses = [200, 201, 404, 500];
  // warm-up: let V8 optimise record() before measuring
  for (let i = 0; i < 200_000; i++) {
    tracker.record({ ip: '203.0.113.7', endpoint: endpoints[i & 3] });
    if (i % chunk === 0) await yieldToLoop();
  }
  await tracker.flush();
  const before = tracker.stats();
  let timerOverhead = Infinity;
  for (let i = 0; i < 1000; i++) {
    const a = process.hrtime.bigint();
    const b = process.hrtime.bigint();
    timerOverhead = Math.min(timerOverhead, Number(b - a));
  }
  const started = process.hrtime.bigint();
  let refused = 0;
  for (let i = 0; i < CALLS; i++) {
    const ip = `198.51.100.${i & 255}`;
    const a = process.hrtime.bigint();
    const taken = withFields
      ? tracker.record({ ip, endpoint: endpoints[i & 3], method: methods[i & 3], status: statuses[i & 3], durationMs: (i & 1023) * 0.25 })
      : tracker.record({ ip, endpoint: endpoints[i & 3] });
    const b = process.hrtime.bigint();
    samples[i] = Number(b - a);
    if (!taken) refused++;
    // the application yields to the event loop between requests; so does this loop, every 1,000 calls
    if (i % chunk === chunk - 1) await yieldToLoop();
  }
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  await tracker.close();
  const after = tracker.stats();
  samples.sort();
  const mean = samples.reduce((a, b) => a + b, 0) / CALLS;
  console.log(`\n1${withFields ? 'b' : 'a'}. record(${withFields ? '{ ip, endpoint, method, status, durationMs }' : '{ ip, endpoint }'}) on the caller: ${fmt(CALLS)} calls (after 200,000 warm-up calls), each timed with process.hrtime.bigint`
    + ` (its own cost, ≈${timerOverhead} ns, included)`);
  console.log(`   median ${fmt(percentile(samples, 50) / 1000, 3)} µs, p90 ${fmt(percentile(samples, 90) / 1000, 3)} µs, `
    + `p99 ${fmt(percentile(samples, 99) / 1000, 3)} µs, p99.9 ${fmt(percentile(samples, 99.9) / 1000, 3)} µs, `
    + `max ${fmt(samples[CALLS - 1] / 1000, 1)} µs, mean ${fmt(mean / 1000, 3)} µs   (target p99 < 10 µs: `
    + `${percentile(samples, 99) < 10_000 ? 'met' : 'MISSED'})`);
  console.log(`   ${fmt(CALLS / wall)} calls/s with the batching, serialising and sending on the same thread; `
    + `${fmt(after.acknowledged - before.acknowledged)} acknowledged in ${fmt(requests)} requests to an in-process sink; refused ${refused}`);
}

if (!BASE_URL) {
  console.log('\nBASE_URL not set: part 2 (requests per 1,000 hits against the runtime) skipped');
  process.exit(0);
}

// --- 2. requests per 1,000 hits against the real runtime ----------------------------------------------------
let sdkRequests = 0;
const countingFetch = (url, init) => { sdkRequests++; return fetch(url, init); };
const scenarios = [
  { name: 'steady 2,000 hits/s', rate: 2_000, seconds: 5 },
  { name: 'steady 200 hits/s', rate: 200, seconds: 10 },
  { name: 'steady 20 hits/s', rate: 20, seconds: 10 },
];
console.log('\n2. requests per 1,000 hits to the local runtime (' + BASE_URL + '), same run');
let sdkAcknowledged = 0;
for (const s of scenarios) {
  const tracker = new UsageTracker({ baseUrl: BASE_URL, apiKey: API_KEY, fetch: countingFetch, closeTimeoutMs: 60_000 });
  const startRequests = sdkRequests;
  const costs = [];
  const t0 = Date.now();
  const total = s.rate * s.seconds;
  for (let i = 0; i < total; i++) {
    // hits arrive in 50 ms ticks at the scenario's rate
    const due = t0 + (i / s.rate) * 1000;
    const wait = due - Date.now();
    if (wait > 2) await sleep(wait);
    const a = process.hrtime.bigint();
    tracker.record({ ip: `192.0.2.${i & 255}`, endpoint: `/api/items/${i % 50}` });
    costs.push(Number(process.hrtime.bigint() - a));
  }
  await tracker.close();
  const st = tracker.stats();
  sdkAcknowledged += st.acknowledged;
  costs.sort((a, b) => a - b);
  const requests = sdkRequests - startRequests;
  console.log(`   SDK, ${s.name.padEnd(20)}: ${fmt(total)} hits in ${fmt(requests)} requests = ${fmt((requests * 1000) / total, 1)} `
    + `requests per 1,000 hits; record() median ${fmt(percentile(costs, 50) / 1000, 2)} µs, p99 ${fmt(percentile(costs, 99) / 1000, 2)} µs; `
    + `acknowledged ${fmt(st.acknowledged)}, dropped ${st.dropped}, retried ${st.retried}`);
}

// one hit per request, the caller waiting for each answer (what a service without the SDK does)
const SINGLE = 2_000;
const latencies = [];
let singleAcknowledged = 0;
const t1 = Date.now();
const concurrency = 8;
let n = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (n < SINGLE) {
    const i = n++;
    const a = process.hrtime.bigint();
    const r = await fetch(`${BASE_URL}/api/logs`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({ ip: `192.0.2.${i & 255}`, endpoint: `/api/items/${i % 50}` }) });
    await r.text();
    latencies.push(Number(process.hrtime.bigint() - a));
    if (r.status === 202) singleAcknowledged++;
  }
}));
latencies.sort((a, b) => a - b);
console.log(`   single-hit posting (${concurrency} concurrent callers): ${fmt(SINGLE)} hits in ${fmt(SINGLE)} requests = 1,000 requests `
  + `per 1,000 hits; the caller waits median ${fmt(percentile(latencies, 50) / 1e6, 2)} ms, p99 ${fmt(percentile(latencies, 99) / 1e6, 2)} ms `
  + `per hit; acknowledged ${fmt(singleAcknowledged)} in ${fmt((Date.now() - t1) / 1000, 1)} s`);

if (RESULT_FILE) writeFileSync(RESULT_FILE, JSON.stringify({ acknowledged: sdkAcknowledged + singleAcknowledged }));
