"""bench/sdk-python's Python half (started by dev.usagetracker.bench.PythonSdkBench with BASE_URL and API_KEY of
a client registered on the local runtime; RESULT_FILE receives the acknowledged count for the server check).

1. record() on the caller's thread: >= 1,000,000 calls, each timed, from one thread and from 8 threads, to a
   tracker whose sender thread is answered in-process (record never touches the network).
2. Requests per 1,000 hits against the real runtime: hits arriving at a steady rate through the SDK, next to
   the same service posting one hit per request (the caller waits for each), in the same run.
"""

import json
import os
import platform
import sys
import threading
import time
import urllib.request

from usage_tracker import UsageTracker
from usage_tracker._transport import HttpTransport, Response

BASE_URL = os.environ.get("BASE_URL")
API_KEY = os.environ.get("API_KEY")
RESULT_FILE = os.environ.get("RESULT_FILE")
CALLS = int(os.environ.get("RECORD_CALLS", "1000000"))
ns = time.perf_counter_ns


def pct(sorted_samples, p):
    return sorted_samples[min(len(sorted_samples) - 1, int(p / 100 * len(sorted_samples)))]


class Sink:
    def __init__(self):
        self.requests = 0

    def post(self, headers, body, timeout):
        self.requests += 1
        return Response(202, {}, '{"accepted":500}')

    def abort(self):
        pass


def load():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


print(f"python {platform.python_version()} ({sys.executable}), {os.cpu_count()} cores ({cpu_model()}), "
      f"{platform.system()} {platform.machine()}, load average {load()}")

# --- 1. record() cost -----------------------------------------------------------------------------------------
endpoints = ["/api/products/{id}", "/api/orders", "/api/users/{id}/orders", "/health"]
for threads in (1, 8):
    sink = Sink()
    tracker = UsageTracker("http://sink.invalid", "k", max_buffered_hits=1_000_000, _transport=sink)
    for i in range(200_000):  # warm-up
        tracker.record("203.0.113.7", endpoints[i & 3], method="GET", status=200, duration_ms=1.5)
    tracker.flush()
    per_thread = CALLS // threads
    results = []
    refused = [0]

    def work(seed):
        samples = [0] * per_thread
        record = tracker.record
        for i in range(per_thread):
            ip = f"198.51.100.{(i + seed) & 255}"
            a = ns()
            taken = record(ip, endpoints[i & 3], method="GET", status=200, duration_ms=12.5)
            samples[i] = ns() - a
            if not taken:
                refused[0] += 1
            if i % 1000 == 999:
                time.sleep(0)  # a service does other work between requests
        results.append(samples)

    overhead = min((lambda a: ns() - a)(ns()) for _ in range(1000))
    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - started
    tracker.close()
    s = tracker.stats()
    samples = sorted(x for r in results for x in r)
    print(f"\n1. record(ip, endpoint, method=, status=, duration_ms=) on the caller's thread: {len(samples):,} calls from "
          f"{threads} thread(s) (after 200,000 warm-up calls), each timed with perf_counter_ns (its own cost, ≈{overhead} ns, included)")
    print(f"   median {pct(samples, 50) / 1000:.2f} µs, p90 {pct(samples, 90) / 1000:.2f} µs, p99 {pct(samples, 99) / 1000:.2f} µs, "
          f"p99.9 {pct(samples, 99.9) / 1000:.2f} µs, max {samples[-1] / 1000:.0f} µs")
    print(f"   {len(samples) / wall:,.0f} calls/s with the sender thread forming and 'sending' batches meanwhile; {s}; "
          f"{sink.requests:,} requests to the in-process sink; refused {refused[0]}")

STUB = not BASE_URL
if STUB:
    # without the runtime (bench/sdk-python sets BASE_URL): requests per 1,000 hits against an in-process HTTP
    # stub answering 202 — the count is the SDK's own batching; the single-hit comparison needs the runtime
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Accept(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(202)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    stub = ThreadingHTTPServer(("127.0.0.1", 0), Accept)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    BASE_URL, API_KEY = f"http://127.0.0.1:{stub.server_address[1]}", "k"


# --- 2. requests per 1,000 hits against the real runtime -------------------------------------------------------
class Counting(HttpTransport):
    requests = 0

    def post(self, headers, body, timeout):
        Counting.requests += 1
        return super().post(headers, body, timeout)


print(f"\n2. requests per 1,000 hits to {'an in-process HTTP stub answering 202' if STUB else 'the local runtime'} ({BASE_URL}), same run")
acknowledged = 0
for name, rate, seconds in (("steady 2,000 hits/s", 2000, 5), ("steady 200 hits/s", 200, 10), ("steady 20 hits/s", 20, 10)):
    tracker = UsageTracker(BASE_URL, API_KEY, close_timeout=60, _transport=Counting(BASE_URL.rstrip("/") + "/api/logs"))
    before = Counting.requests
    total = rate * seconds
    costs = []
    t0 = time.monotonic()
    for i in range(total):
        due = t0 + i / rate
        wait = due - time.monotonic()
        if wait > 0.002:
            time.sleep(wait)
        a = ns()
        tracker.record(f"192.0.2.{i & 255}", f"/api/items/{i % 50}", method="GET", status=200, duration_ms=3.0)
        costs.append(ns() - a)
    tracker.close()
    s = tracker.stats()
    acknowledged += s.acknowledged
    costs.sort()
    requests = Counting.requests - before
    print(f"   SDK, {name:<20}: {total:,} hits in {requests:,} requests = {requests * 1000 / total:.1f} requests per 1,000 hits; "
          f"record() median {pct(costs, 50) / 1000:.2f} µs, p99 {pct(costs, 99) / 1000:.2f} µs; acknowledged {s.acknowledged:,}, "
          f"dropped {s.dropped}, retried {s.retried}")

if STUB:
    print("   single-hit posting: needs the runtime (./bench/sdk-python)")
    sys.exit(0)

SINGLE = 2000
latencies = []
single_acknowledged = [0]
lock = threading.Lock()
position = [0]


def single():
    while True:
        with lock:
            i = position[0]
            position[0] += 1
        if i >= SINGLE:
            return
        body = json.dumps({"ip": f"192.0.2.{i & 255}", "endpoint": f"/api/items/{i % 50}"}).encode()
        request = urllib.request.Request(BASE_URL + "/api/logs", data=body, method="POST",
                                         headers={"Content-Type": "application/json", "X-API-Key": API_KEY})
        a = ns()
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                r.read()
                ok = r.status == 202
        except urllib.error.HTTPError as e:
            e.read()
            ok = False
        with lock:
            latencies.append(ns() - a)
            single_acknowledged[0] += 1 if ok else 0


t1 = time.monotonic()
callers = [threading.Thread(target=single) for _ in range(8)]
for c in callers:
    c.start()
for c in callers:
    c.join()
latencies.sort()
print(f"   single-hit posting (8 concurrent callers): {SINGLE:,} hits in {SINGLE:,} requests = 1,000 requests per 1,000 hits; "
      f"the caller waits median {pct(latencies, 50) / 1e6:.2f} ms, p99 {pct(latencies, 99) / 1e6:.2f} ms per hit; "
      f"acknowledged {single_acknowledged[0]:,} in {time.monotonic() - t1:.1f} s")
if RESULT_FILE:
    with open(RESULT_FILE, "w") as f:
        json.dump({"acknowledged": acknowledged + single_acknowledged[0]}, f)
