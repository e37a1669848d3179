"""The shared SDK cases (docs/sdk.md "What every SDK must pass"), as the Java and TypeScript SDKs run them,
plus the Python-only ones: threads, fork, the optional fields."""

from __future__ import annotations

import json
import os
import threading
import time
import unittest
from datetime import datetime, timedelta, timezone

from usage_tracker import UsageTracker
from usage_tracker._wire import (
    full_jitter_delay,
    pacing,
    parse_problem,
    parse_rate_limit,
    parse_rate_limit_policy,
    parse_retry_after,
    smallest_hits_policy,
)

from .support import T0, FakeClock, FakeTransport, accepted, advance, books, make, problem, record_n, settle


def ok(recorded, acknowledged=None, dropped=0, rejected=0, retried=0, pending=0):
    return dict(recorded=recorded, acknowledged=recorded if acknowledged is None else acknowledged, dropped=dropped,
                rejected=rejected, retried=retried, pending=pending)


class Batching(unittest.TestCase):
    def test_full_batches_of_500_go_at_once_the_rest_when_the_flush_interval_has_passed(self):
        clock = FakeClock()
        net = FakeTransport(clock)
        t = make(clock, net)
        record_n(t, 1200)
        settle(t, clock)
        self.assertEqual(net.sizes(), [500, 500])
        advance(t, clock, 999)
        self.assertEqual(len(net.calls), 2, "a batch that is not full waits for the flush interval")
        advance(t, clock, 1)
        self.assertEqual(net.sizes(), [500, 500, 200])
        c = net.calls[0]
        self.assertEqual(c.headers["x-api-key"], "ut_key_1")
        self.assertEqual(c.headers["content-type"], "application/json")
        self.assertTrue(c.headers["user-agent"].startswith("usage-tracker-client-python/"))
        self.assertEqual(len({c.key for c in net.calls}), 3, "one key per batch")
        self.assertEqual(c.hits[0], {"ip": "203.0.113.7", "endpoint": "/orders", "timestamp": clock.now_iso(-1000)})
        self.assertEqual(books(t), ok(1200))

    def test_the_url_keeps_a_stage_path(self):
        self.assertEqual(UsageTracker("http://usage.test/prod/", "k", _threaded=False)._url, "http://usage.test/prod/api/logs")
        with self.assertRaises(ValueError):
            UsageTracker("ftp://usage.test", "k")
        with self.assertRaises(ValueError):
            UsageTracker("http://usage.test", "")
        with self.assertRaises(ValueError):
            UsageTracker("http://usage.test", "k", max_batch_size=0)

    def test_the_timestamp_is_taken_at_record_not_at_send(self):
        clock = FakeClock()
        net = FakeTransport(clock)
        t = make(clock, net)
        t.record("2001:db8::1", "/a")
        advance(t, clock, 700)
        t.record("2001:db8::1", "/b")
        t.record("2001:db8::1", "/c", timestamp=datetime.fromtimestamp((T0 - 60_000) / 1000, tz=timezone.utc))
        advance(t, clock, 300)
        self.assertEqual(len(net.calls), 1)
        self.assertEqual([h["timestamp"] for h in net.calls[0].hits],
                         ["2026-11-26T08:00:00.000Z", "2026-11-26T08:00:00.700Z", "2026-11-26T07:59:00.000Z"])

    def test_timestamps_as_datetime_epoch_seconds_or_iso_text(self):
        clock = FakeClock()
        net = FakeTransport(clock)
        t = make(clock, net)
        t.record("192.0.2.1", "/a", timestamp=datetime(2026, 11, 26, 7, 30))  # naive = UTC
        t.record("192.0.2.1", "/a", timestamp=datetime(2026, 11, 26, 9, 30, tzinfo=timezone(timedelta(hours=1))))
        t.record("192.0.2.1", "/a", timestamp=T0 / 1000 - 0.25)
        t.record("192.0.2.1", "/a", timestamp="2026-11-26T07:45:00.123Z")
        t.flush()
        self.assertEqual([h["timestamp"] for h in net.calls[0].hits], [
            "2026-11-26T07:30:00.000Z", "2026-11-26T08:30:00.000Z", "2026-11-26T07:59:59.750Z", "2026-11-26T07:45:00.123Z"])

    def test_a_partial_batch_waits_for_the_flush_interval_then_goes_as_one_request(self):
        clock = FakeClock()
        net = FakeTransport(clock)
        t = make(clock, net, flush_interval=0.25)
        for i in range(25):
            t.record("192.0.2.1", f"/p/{i}")
            advance(t, clock, 5)
        advance(t, clock, 124)
        self.assertEqual(net.sizes(), [], "25 hits within 125 ms: nothing sent before the interval")
        advance(t, clock, 1)
        self.assertEqual(net.sizes(), [25])
        self.assertEqual(books(t), ok(25))

    def test_batches_stay_within_256_KiB_however_long_the_endpoints_are(self):
        clock = FakeClock()
        net = FakeTransport(clock)
        t = make(clock, net)
        record_n(t, 600, "/" + "é" * 2000)
        self.assertTrue(t.flush())
        self.assertGreaterEqual(len(net.calls), 6)
        for c in net.calls:
            self.assertLessEqual(len(c.raw), 256 * 1024)
            self.assertLessEqual(len(c.hits), 500)
        self.assertEqual(sum(net.sizes()), 600)
        self.assertEqual(net.calls[0].hits[0]["endpoint"], "/" + "é" * 2000)
        self.assertEqual(books(t)["acknowledged"], 600)


class RecordOnTheCallersPath(unittest.TestCase):
    def test_a_full_buffer_drops_new_hits_counts_them_and_says_so_once(self):
        clock = FakeClock()
        net = FakeTransport(clock)
        events = []
        t = make(clock, net, max_buffered_hits=100, max_batch_size=40, on_event=events.append)
        taken = sum(1 for _ in range(150) if t.record("192.0.2.1", "/x"))
        self.assertEqual(taken, 100)
        self.assertEqual(books(t), ok(150, 0, dropped=50, pending=100))
        settle(t, clock)  # the listener runs on the sender's side, never inside record
        self.assertEqual([e.kind for e in events][:1], ["buffer-full"])
        self.assertEqual(sum(1 for e in events if e.kind == "buffer-full"), 1)

    def test_malformed_hits_are_refused_at_record_and_counted_as_rejected_never_raised(self):
        clock = FakeClock()
        net = FakeTransport(clock)
        t = make(clock, net)

        class Hostile(str):
            def find(self, *a):
                raise RuntimeError("boom")

        self.assertFalse(t.record(42, "/x"))  # type: ignore[arg-type]
        self.assertFalse(t.record("192.0.2.1", "/" + "x" * 2048))
        self.assertFalse(t.record("192.0.2.1", "/x", timestamp="yesterday"))
        self.assertFalse(t.record(None, None))  # type: ignore[arg-type]
        self.assertFalse(t.record(Hostile("192.0.2.1"), "/x"))
        self.assertFalse(t.record("192.0.2.1", "no-slash"))
        self.assertFalse(t.record("192.0.2.1", "/with space"))
        self.assertFalse(t.record("%eth0", "/z"), "a zone alone is no address")
        self.assertFalse(t.record("192.0.2.1", "/x", timestamp=float("nan")))
        self.assertFalse(t.record("192.0.2.1", "/x", timestamp=1e17))
        self.assertEqual(books(t), ok(10, 0, rejected=10))

    def test_an_ipv6_zone_is_left_out_and_a_flush_after_close_never_hangs(self):
        clock = FakeClock()
        net = FakeTransport(clock)
        t = make(clock, net)
        self.assertTrue(t.record("fe80::1%eth0", "/z"))
        self.assertTrue(t.flush())
        self.assertEqual(net.calls[0].hits[0]["ip"], "fe80::1")
        t.close()
        for _ in range(100):
            self.assertTrue(t.flush(1))
        self.assertEqual(books(t), ok(1))

    def test_invalid_optional_fields_are_left_out_and_reported_the_hit_is_kept(self):
        clock = FakeClock()
        net = FakeTransport(clock)
        events = []
        t = make(clock, net, on_event=events.append)
        self.assertTrue(t.record("192.0.2.1", "/a", method="get", status=201, duration_ms=12.5))
        self.assertTrue(t.record("192.0.2.1", "/b", method="NOT A METHOD", status=600, duration_ms=-1))
        self.assertTrue(t.record("192.0.2.1", "/c", method="X" * 17, status=True, duration_ms=float("inf")))  # type: ignore[arg-type]
        self.assertTrue(t.record("192.0.2.1", "/d", status=404, duration_ms=3_600_000))
        self.assertTrue(t.record("192.0.2.1", "/e", method="PATCH", duration_ms=0))
        t.flush()
        hits = net.calls[0].hits
        self.assertEqual(hits[0], {"ip": "192.0.2.1", "endpoint": "/a", "timestamp": hits[0]["timestamp"],
                                   "method": "GET", "status": 201, "duration_ms": 12.5})
        self.assertEqual(set(hits[1]), {"ip", "endpoint", "timestamp"})
        self.assertEqual(set(hits[2]), {"ip", "endpoint", "timestamp"})
        self.assertEqual((hits[3]["status"], hits[3]["duration_ms"]), (404, 3_600_000))
        self.assertEqual((hits[4]["method"], hits[4]["duration_ms"]), ("PATCH", 0))
        self.assertEqual(sorted(e.field for e in events if e.kind == "invalid-field"),
                         ["duration_ms", "duration_ms", "method", "method", "status", "status"])
        self.assertEqual(books(t), ok(5))

    def test_the_listener_runs_after_record_returns_and_a_failing_listener_changes_nothing(self):
        clock = FakeClock()
        net = FakeTransport(clock)
        events = []

        def listener(e):
            events.append(e)
            raise RuntimeError("listener broke")

        t = make(clock, net, on_event=listener)
        record_n(t, 3)
        self.assertFalse(t.record("192.0.2.1", "/x", timestamp=1e17))
        self.assertFalse(t.record("192.0.2.1", "/x", timestamp=-8.7e15))
        record_n(t, 4)
        self.assertEqual(events, [], "the listener runs after record returns, not inside the caller's request")
        t.flush()
        self.assertEqual(sum(net.sizes()), 7)
        self.assertEqual(books(t), ok(9, 7, rejected=2))
        self.assertEqual([e.kind for e in events], ["invalid-hit", "invalid-hit"])


class Retries(unittest.TestCase):
    def test_503_and_network_errors_back_off_with_full_jitter_and_keep_the_idempotency_key(self):
        clock = FakeClock()
        clock.random = lambda: 0.999
        answers = [problem(503, "Service Unavailable"), ConnectionResetError("reset"), problem(500, "Internal"),
                   problem(502, "Bad Gateway")]
        net = FakeTransport(clock, lambda c, i: answers[i] if i < len(answers) else accepted())
        events = []
        t = make(clock, net, on_event=events.append)
        record_n(t, 3)
        advance(t, clock, 1000)
        self.assertEqual(len(net.calls), 1)
        at = clock.mono
        for delay in [499, 999, 1998, 3996]:  # ceilings 500, 1000, 2000, 4000 ms; random 0.999: just under each
            advance(t, clock, delay - 1)
            before = len(net.calls)
            advance(t, clock, 1)
            self.assertEqual(len(net.calls), before + 1, f"resent after {delay} ms")
            self.assertEqual(net.calls[-1].at - at, delay)
            at = clock.mono
            books(t)
        self.assertEqual(len({c.key for c in net.calls}), 1, "the same key on every retry")
        self.assertEqual(len({c.raw for c in net.calls}), 1, "the same body on every retry")
        self.assertEqual([e.kind for e in events], ["retrying"] * 4)
        self.assertEqual([e.attempt for e in events], [1, 2, 3, 4])
        self.assertEqual(books(t), ok(3, retried=4))

    def test_backoff_delays_stay_within_0_and_min_30s_0_5s_times_2_to_the_n_minus_1(self):
        for n in range(1, 41):
            ceiling = min(30_000, 500 * 2 ** (n - 1))
            self.assertEqual(full_jitter_delay(n, 500, 30_000, lambda: 0), 0)
            top = full_jitter_delay(n, 500, 30_000, lambda: 0.999999)
            self.assertTrue(ceiling - 1 <= top < ceiling, (n, top, ceiling))
        r = [1]

        def lcg():
            r[0] = (r[0] * 16807) % 2147483647
            return r[0] / 2147483647

        mean = sum(full_jitter_delay(3, 500, 30_000, lcg) for _ in range(10_000)) / 10_000
        self.assertLess(abs(mean - 1000), 30, f"mean of U[0,2000) is about 1000, got {mean}")

    def test_a_hung_request_times_out_and_is_retried_under_the_same_key(self):
        clock = FakeClock()
        clock.random = lambda: 0
        net = FakeTransport(clock, lambda c, i: "hang" if i == 0 else accepted())
        t = make(clock, net, request_timeout=5)
        record_n(t, 1)
        advance(t, clock, 1000)
        self.assertEqual(len(net.calls), 2)
        self.assertEqual(net.calls[0].timeout, 5)
        self.assertEqual(net.calls[1].at - net.calls[0].at, 5000)
        self.assertEqual(net.calls[1].key, net.calls[0].key)
        self.assertEqual(books(t), ok(1, retried=1))

    def test_429_waits_for_retry_after_and_resends_the_same_batch(self):
        clock = FakeClock()
        net = FakeTransport(clock, lambda c, i: problem(429, "Too Many Requests", headers={
            "Retry-After": "7", "RateLimit": '"ingest-1m";r=0;t=7'}) if i == 0 else accepted())
        events = []
        t = make(clock, net, on_event=events.append)
        record_n(t, 10)
        advance(t, clock, 1000)
        advance(t, clock, 6_999)
        self.assertEqual(len(net.calls), 1)
        advance(t, clock, 1)
        self.assertEqual(len(net.calls), 2)
        self.assertEqual(net.calls[1].key, net.calls[0].key)
        self.assertEqual((events[0].kind, events[0].delay_ms), ("rate-limited", 7000))
        self.assertEqual(books(t), ok(10, retried=1))

    def test_a_retry_after_beyond_an_hour_a_monthly_quota_is_waited_an_hour_at_a_time(self):
        clock = FakeClock()
        net = FakeTransport(clock, lambda c, i: problem(429, "Monthly quota exhausted", headers={"Retry-After": "2600000"})
                            if i < 2 else accepted())
        events = []
        t = make(clock, net, on_event=events.append)
        record_n(t, 2)
        advance(t, clock, 1000)
        self.assertEqual(len(net.calls), 1)
        self.assertEqual((events[0].kind, events[0].delay_ms), ("rate-limited", 3_600_000))
        self.assertLessEqual(t._step(), 3_600_000, "no wait longer than an hour")
        advance(t, clock, 3_599_999)
        self.assertEqual(len(net.calls), 1, "no request within the hour")
        advance(t, clock, 1)
        self.assertEqual(len(net.calls), 2, "asks again after an hour")
        advance(t, clock, 3_600_000)
        self.assertEqual(len(net.calls), 3)
        self.assertEqual(len({c.key for c in net.calls}), 1)
        self.assertEqual(books(t), ok(2, retried=2))

    def test_retry_after_as_an_http_date(self):
        self.assertEqual(parse_retry_after("Thu, 26 Nov 2026 08:00:30 GMT", T0), 30_000)
        self.assertEqual(parse_retry_after("Thu, 26 Nov 2026 07:00:00 GMT", T0), 0)
        self.assertEqual(parse_retry_after("12", T0), 12_000)
        self.assertIsNone(parse_retry_after("soon", T0))
        self.assertIsNone(parse_retry_after(None, T0))

    def test_425_too_early_is_retried_under_the_same_key_like_a_503(self):
        clock = FakeClock()
        net = FakeTransport(clock, lambda c, i: problem(425, "Too Early") if i == 0 else accepted())
        t = make(clock, net)
        record_n(t, 3)
        advance(t, clock, 1000)
        self.assertEqual(len(net.calls), 1)
        advance(t, clock, 1000)
        self.assertEqual(len(net.calls), 2)
        self.assertEqual(net.calls[1].key, net.calls[0].key)
        self.assertEqual(books(t), ok(3, retried=1))


class Pacing(unittest.TestCase):
    def test_the_ratelimit_header_paces_requests_fewer_larger_batches_as_the_quota_shrinks(self):
        clock = FakeClock()
        net = FakeTransport(clock, lambda c, i: accepted({
            "RateLimit": '"ingest-1m";r=4;t=20,"ingest-1h";r=900;t=3000', "RateLimit-Policy": '"ingest-1m";q=500;w=60'}))
        t = make(clock, net)
        record_n(t, 500)
        settle(t, clock)
        self.assertEqual(len(net.calls), 1)
        # four requests left for the next 20 s: one every 5 s; meanwhile the hits pile up into one batch
        for _ in range(12):
            record_n(t, 30)
            advance(t, clock, 400)
        self.assertEqual(len(net.calls), 1, "nothing sent within 5 s of the last request")
        advance(t, clock, 200)
        self.assertEqual(net.sizes()[1:], [360])
        for _ in range(10):
            record_n(t, 30)
            advance(t, clock, 500)
        self.assertEqual(net.sizes()[1:], [360, 300])
        self.assertEqual(net.calls[2].at - net.calls[1].at, 5000)
        books(t)

    def test_pacing_holds_back_only_what_the_flush_interval_made_due_flush_and_close_go_at_once(self):
        clock = FakeClock()
        # 50 requests left in 1800 s: one every 36 s for batches the interval makes due
        net = FakeTransport(clock, lambda c, i: accepted({"RateLimit": '"ingest-1h";r=50;t=1800'}))
        t = make(clock, net, close_timeout=1)
        record_n(t, 1)
        t.flush()
        self.assertEqual(len(net.calls), 1)
        record_n(t, 2)
        advance(t, clock, 5_000)
        self.assertEqual(len(net.calls), 1, "the interval alone waits for the pacing")
        self.assertTrue(t.flush())
        self.assertEqual(len(net.calls), 2, "a flush is not held back")
        self.assertEqual(net.calls[1].at - net.calls[0].at, 5_000)
        record_n(t, 3)
        t.close()
        self.assertEqual(len(net.calls), 3, "neither is close")
        self.assertEqual(books(t), ok(6))

    def test_a_batch_that_fills_up_while_the_tracker_paces_goes_at_once(self):
        clock = FakeClock()
        net = FakeTransport(clock, lambda c, i: accepted({"RateLimit": '"ingest-1m";r=4;t=20'}))
        t = make(clock, net, max_batch_size=50)
        record_n(t, 50)
        settle(t, clock)
        self.assertEqual(len(net.calls), 1)
        record_n(t, 10)
        advance(t, clock, 1_000)
        self.assertEqual(len(net.calls), 1, "the interval made 10 hits due: they wait for the 5 s spacing")
        record_n(t, 40)
        settle(t, clock)
        self.assertEqual(net.sizes(), [50, 50], "now a full batch: not held back")
        self.assertEqual(books(t), ok(100))

    def test_ratelimit_fields_are_read_as_structured_field_lists(self):
        states = parse_rate_limit('"ingest-1m";r=4;t=20, "ingest-1h";r=0;t=3000,"a\\"b";r=x;t=1')
        self.assertEqual([(s.name, s.remaining, s.reset_seconds) for s in states], [("ingest-1m", 4, 20), ("ingest-1h", 0, 3000)])
        self.assertEqual(pacing(states), (3_000_000, 5000))
        self.assertEqual(pacing(parse_rate_limit('"x";r=0;t=999999')), (86_400_000, 0), "t counts at most a day")
        policies = parse_rate_limit_policy('"ingest-1m";q=500;w=60,"ingest_hits-1m";q=60000;w=60,"ingest_hits-1h";q=200;w=3600')
        self.assertEqual(smallest_hits_policy(policies), 200)
        self.assertIsNone(smallest_hits_policy(parse_rate_limit_policy('"ingest-1m";q=500;w=60')))
        self.assertEqual(parse_problem('{"title":"t","status":400,"errors":[{"field":"hits[2].ip","message":"m"}, 7]}').errors[0].field,
                         "hits[2].ip")
        self.assertIsNone(parse_problem("<html>"))


class Refusals(unittest.TestCase):
    def test_400_naming_hits_rejects_those_and_resends_the_rest_as_a_new_batch(self):
        clock = FakeClock()
        net = FakeTransport(clock, lambda c, i: problem(400, "Invalid request", [
            {"field": "hits[1].ip", "message": "must be an IPv4 or IPv6 address"},
            {"field": "hits[3].timestamp", "message": "must not be more than 5 minutes in the future"},
            {"field": "hits[3].endpoint", "message": "bad"}]) if i == 0 else accepted())
        events = []
        t = make(clock, net, on_event=events.append)
        for ip in ["192.0.2.0", "1:2:3:4:5:6:7:8:9", "192.0.2.2", "192.0.2.3", "192.0.2.4"]:
            t.record(ip, "/e")
        advance(t, clock, 1000)
        self.assertEqual(len(net.calls), 2)
        self.assertEqual([h["ip"] for h in net.calls[1].hits], ["192.0.2.0", "192.0.2.2", "192.0.2.4"])
        self.assertNotEqual(net.calls[1].key, net.calls[0].key, "another body, another key")
        self.assertEqual((events[0].kind, events[0].hits), ("rejected", 2))
        self.assertEqual(books(t), ok(5, 3, rejected=2))

    def test_400_that_names_no_hit_rejects_the_whole_batch(self):
        clock = FakeClock()
        net = FakeTransport(clock, lambda c, i: problem(400, "Invalid request", [{"field": "hits", "message": "must hold 1 to 500 hits"}]))
        t = make(clock, net)
        record_n(t, 4)
        advance(t, clock, 1000)
        advance(t, clock, 60_000)
        self.assertEqual(len(net.calls), 1)
        self.assertEqual(books(t), ok(4, 0, rejected=4))

    def test_a_400_on_a_retry_of_a_batch_that_may_have_landed_is_not_split(self):
        clock = FakeClock()
        clock.random = lambda: 0
        answers = ["hang", problem(400, "Invalid request", [{"field": "hits[1].ip", "message": "bad"}])]
        net = FakeTransport(clock, lambda c, i: answers[i] if i < len(answers) else accepted())
        events = []
        t = make(clock, net, on_event=events.append)
        record_n(t, 3)
        advance(t, clock, 1000)
        advance(t, clock, 60_000)
        self.assertEqual(len(net.calls), 2, "no third request under a new key")
        self.assertEqual(net.calls[1].key, net.calls[0].key)
        self.assertEqual(books(t), ok(3, 0, rejected=3, retried=1))
        self.assertIn("may have landed", events[-1].message)

    def test_batches_are_sized_to_the_smallest_ingest_hits_policy_the_server_names(self):
        clock = FakeClock()
        policy = {"RateLimit-Policy": '"ingest-1m";q=500;w=60,"ingest_hits-1m";q=120;w=60'}

        def server(c, i):
            if len(c.hits) > 120:
                return problem(400, "Invalid request", headers=policy)
            return accepted(policy)

        net = FakeTransport(clock, server)
        events = []
        t = make(clock, net, on_event=events.append)
        record_n(t, 500)
        settle(t, clock)
        self.assertEqual(net.sizes(), [500, 120, 120, 120, 120, 20], "the 400 names the policy: split, not rejected")
        self.assertEqual(len({c.key for c in net.calls}), 6)
        record_n(t, 300)
        t.flush()
        self.assertEqual(net.sizes()[6:], [120, 120, 60], "from then on batches are formed at the policy's size")
        self.assertEqual(books(t), ok(800))
        self.assertIn("resized", [e.kind for e in events])

    def test_a_service_that_does_not_know_method_status_duration_gets_the_hits_without_them(self):
        clock = FakeClock()

        def older_server(c, i):
            unknown = [{"field": f"hits[{n}].{k}", "message": "unknown field"}
                       for n, h in enumerate(c.hits) for k in ("method", "status", "duration_ms") if k in h]
            return problem(400, "Invalid request", unknown) if unknown else accepted()

        net = FakeTransport(clock, older_server)
        events = []
        t = make(clock, net, on_event=events.append)
        t.record("192.0.2.1", "/a", method="GET", status=200, duration_ms=3)
        t.record("192.0.2.1", "/b")
        t.flush()
        t.record("192.0.2.1", "/c", status=500)
        t.flush()
        self.assertEqual(net.sizes(), [2, 2, 1])
        self.assertEqual([sorted(h) for h in net.calls[1].hits], [["endpoint", "ip", "timestamp"]] * 2)
        self.assertNotEqual(net.calls[1].key, net.calls[0].key)
        self.assertEqual(sorted(net.calls[2].hits[0]), ["endpoint", "ip", "timestamp"], "from then on without them")
        self.assertEqual(books(t), ok(3))
        self.assertEqual([e.kind for e in events], ["fields-unsupported"])

    def test_401_403_404_405_stop_sending_report_once_probe_every_minute_set_api_key_resumes(self):
        for status in (401, 403, 404, 405):
            with self.subTest(status=status):
                clock = FakeClock()
                key = {"bad": "ut_key_1"}
                net = FakeTransport(clock, lambda c, i: problem(status, "Unauthorized") if c.headers["x-api-key"] == key["bad"] else accepted())
                events = []
                t = make(clock, net, max_buffered_hits=50, on_event=events.append)
                record_n(t, 20)
                advance(t, clock, 1000)
                self.assertEqual(len(net.calls), 1)
                self.assertTrue(t.halted)
                self.assertEqual((events[0].kind, events[0].status), ("halted", status))
                for _ in range(40):
                    t.record("192.0.2.9", "/later")
                advance(t, clock, 59_999)
                self.assertEqual(len(net.calls), 1, "nothing sent while halted")
                advance(t, clock, 1)
                self.assertEqual(len(net.calls), 2, "the held batch is tried again after auth_retry_interval")
                advance(t, clock, 60_000)
                self.assertEqual(len(net.calls), 3)
                self.assertEqual(len({c.key for c in net.calls}), 1, "the same batch, the same key")
                self.assertEqual(sum(1 for e in events if e.kind == "halted"), 1, "one report per episode")
                self.assertFalse(t.flush(), "returns at once while halted")
                self.assertEqual(books(t), ok(60, 0, dropped=10, retried=2, pending=50))
                key["bad"] = "revoked"
                t.set_api_key("ut_key_2")
                self.assertTrue(t.flush())
                self.assertEqual(net.calls[3].headers["x-api-key"], "ut_key_2")
                self.assertEqual(net.calls[3].key, net.calls[0].key, "the held batch keeps its key")
                self.assertEqual(books(t), ok(60, 50, dropped=10, retried=3))
                self.assertEqual(events[-1].kind, "resumed")
                t.close()

    def test_a_client_enabled_again_resumes_by_itself_at_the_next_probe(self):
        clock = FakeClock()
        state = {"disabled": True}
        net = FakeTransport(clock, lambda c, i: problem(403, "Client disabled") if state["disabled"] else accepted())
        events = []
        t = make(clock, net, auth_retry_interval=30, on_event=events.append)
        record_n(t, 5)
        advance(t, clock, 1000)
        self.assertTrue(t.halted)
        state["disabled"] = False
        advance(t, clock, 30_000)
        self.assertEqual(len(net.calls), 2)
        self.assertFalse(t.halted)
        self.assertEqual([e.kind for e in events], ["halted", "resumed"])
        self.assertEqual(books(t), ok(5, retried=1))

    def test_413_from_something_in_between_halves_the_batch(self):
        clock = FakeClock()
        net = FakeTransport(clock, lambda c, i: problem(413, "Content Too Large") if len(c.hits) > 100 else accepted())
        t = make(clock, net)
        record_n(t, 300)
        t.flush()
        self.assertEqual(net.sizes(), [300, 150, 75, 75, 150, 75, 75])
        self.assertEqual(books(t), ok(300))

    def test_a_batch_older_than_the_servers_idempotency_window_is_given_up_not_resent(self):
        clock = FakeClock()
        net = FakeTransport(clock, lambda c, i: problem(503, "Service Unavailable"))
        events = []
        t = make(clock, net, backoff_cap=3600, on_event=events.append)
        record_n(t, 7)
        advance(t, clock, 1000)
        advance(t, clock, 24 * 3_600_000)
        sent = len(net.calls)
        self.assertEqual(books(t), ok(7, 0, dropped=7, retried=sent - 1))
        self.assertEqual(len({c.key for c in net.calls}), 1)
        # the key lives 24 h from the first attempt; less the request timeout (10 s) and a minute
        self.assertLess(net.calls[-1].at - net.calls[0].at, 24 * 3_600_000 - 70_000)
        self.assertIn("expired", [e.kind for e in events])
        record_n(t, 1)  # the tracker goes on with new batches
        self.assertEqual(books(t)["pending"], 1)

    def test_a_batch_only_ever_answered_401_was_never_claimed_and_waits_on(self):
        clock = FakeClock()
        state = {"status": 401}
        net = FakeTransport(clock, lambda c, i: problem(state["status"], "Unauthorized") if state["status"] else accepted())
        t = make(clock, net)
        record_n(t, 4)
        advance(t, clock, 1000)
        advance(t, clock, 25 * 3_600_000)
        self.assertEqual(books(t)["pending"], 4)
        state["status"] = 0
        advance(t, clock, 60_000)
        self.assertEqual(books(t), ok(4, retried=len(net.calls) - 1))
        self.assertEqual(len({c.key for c in net.calls}), 1)

    def test_a_clock_that_fails_inside_record_drops_the_hit_and_says_so(self):
        clock = FakeClock()
        net = FakeTransport(clock)
        events = []
        t = make(clock, net, on_event=events.append)

        def broken():
            raise OSError("clock")

        clock.time_ms = broken  # type: ignore[method-assign]
        self.assertFalse(t.record("192.0.2.1", "/x"))
        self.assertTrue(t.record("192.0.2.1", "/x", timestamp=T0 / 1000), "a hit with its own time needs no clock")
        self.assertEqual(books(t), ok(2, 0, dropped=1, pending=1))
        del clock.time_ms
        t.flush()
        self.assertEqual([e.kind for e in events], ["record-failed"])
        self.assertEqual(books(t), ok(2, 1, dropped=1))


class FlushAndClose(unittest.TestCase):
    def test_flush_sends_what_is_buffered_now_and_returns_once_it_is_acknowledged(self):
        clock = FakeClock()
        net = FakeTransport(clock)
        t = make(clock, net)
        record_n(t, 3)
        self.assertTrue(t.flush())
        self.assertEqual(len(net.calls), 1)
        self.assertEqual(t.stats().acknowledged, 3)
        self.assertTrue(t.flush(), "nothing left: at once")

    def test_flush_with_a_timeout_returns_false_while_the_service_is_down(self):
        clock = FakeClock()
        net = FakeTransport(clock, lambda c, i: problem(503, "Service Unavailable"))
        t = make(clock, net)
        record_n(t, 3)
        start = clock.mono
        self.assertFalse(t.flush(timeout=5))
        self.assertEqual(clock.mono - start, 5000)
        self.assertEqual(books(t)["pending"], 3)

    def test_close_sends_what_is_left_then_refuses_new_hits_as_dropped(self):
        clock = FakeClock()
        net = FakeTransport(clock)
        t = make(clock, net)
        record_n(t, 7)
        t.close()
        self.assertEqual(len(net.calls), 1)
        self.assertFalse(t.record("192.0.2.1", "/late"))
        self.assertEqual(books(t), ok(8, 7, dropped=1))
        t.close()

    def test_close_gives_up_after_its_timeout_and_counts_what_was_not_sent_as_dropped(self):
        clock = FakeClock()
        net = FakeTransport(clock, lambda c, i: problem(503, "Service Unavailable"))
        events = []
        t = make(clock, net, close_timeout=3, on_event=events.append)
        record_n(t, 5)
        start = clock.mono
        t.close()
        self.assertEqual(clock.mono - start, 3000)
        s = books(t)
        self.assertEqual(s, ok(5, 0, dropped=5, retried=s["retried"]))
        self.assertEqual(events[-1].kind, "abandoned")

    def test_close_while_halted_drops_at_once(self):
        clock = FakeClock()
        net = FakeTransport(clock, lambda c, i: problem(401, "Unauthorized"))
        t = make(clock, net)
        record_n(t, 5)
        advance(t, clock, 1000)
        start = clock.mono
        t.close(timeout=30)
        self.assertEqual(clock.mono, start)
        self.assertEqual(books(t), ok(5, 0, dropped=5))

    def test_repr_never_shows_the_key(self):
        self.assertNotIn("ut_key_1", repr(make(FakeClock(), FakeTransport(FakeClock()))))


class Threads(unittest.TestCase):
    """With the real sender thread and a transport that answers at once (or fails), from many threads."""

    class Flaky:
        def __init__(self):
            self.lock = threading.Lock()
            self.n = 0
            self.accepted_keys = set()
            self.hits = 0

        def post(self, headers, body, timeout):
            from usage_tracker._transport import Response
            with self.lock:
                self.n += 1
                n = self.n
            time.sleep(0.001)
            if n % 3 == 0:
                raise ConnectionResetError("reset")
            if n % 3 == 1:
                return Response(503, {}, "")
            with self.lock:
                key = headers["Idempotency-Key"]
                if key not in self.accepted_keys:
                    self.accepted_keys.add(key)
                    self.hits += len(json.loads(body)["hits"])
            return Response(202, {}, "{}")

        def abort(self):
            pass

    def test_the_books_balance_at_every_moment_under_concurrent_recording_and_failures(self):
        net = self.Flaky()
        t = UsageTracker("http://usage.test", "k", flush_interval=0.01, max_batch_size=100, max_buffered_hits=100_000,
                         backoff_base=0.001, backoff_cap=0.005, _transport=net, on_event=lambda e: None)
        stop = threading.Event()
        seen = []

        def watch():
            while not stop.is_set():
                s = t.stats()
                seen.append(s.recorded == s.acknowledged + s.pending + s.dropped + s.rejected)

        watcher = threading.Thread(target=watch)
        watcher.start()
        workers = [threading.Thread(target=lambda: [t.record("198.51.100.1", f"/w/{i % 7}") for i in range(2_000)]) for _ in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        self.assertTrue(t.flush(timeout=60))
        stop.set()
        watcher.join()
        t.close()
        s = t.stats()
        self.assertTrue(all(seen) and len(seen) > 10)
        self.assertEqual((s.recorded, s.acknowledged, s.pending, s.dropped, s.rejected), (16_000, 16_000, 0, 0, 0))
        self.assertEqual(net.hits, 16_000, "each hit landed once, whatever was retried")
        self.assertGreater(s.retried, 0)

    def test_record_never_waits_for_the_network(self):
        gate = threading.Event()

        class Stuck:
            def post(self, headers, body, timeout):
                gate.wait(10)
                raise ConnectionResetError("gone")

            def abort(self):
                gate.set()

        t = UsageTracker("http://usage.test", "k", flush_interval=0.01, close_timeout=0.2, _transport=Stuck(),
                         on_event=lambda e: None)
        record_n(t, 1)
        time.sleep(0.1)  # the sender is inside post() now
        started = time.monotonic()
        record_n(t, 1000)
        self.assertLess(time.monotonic() - started, 5)
        t.close()
        self.assertTrue(gate.is_set(), "close aborted the request in flight")
        self.assertEqual(books(t), ok(1001, 0, dropped=1001))

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_a_forked_child_starts_empty_and_sends_only_its_own_hits(self):
        received = []
        lock = threading.Lock()

        class Recording:
            def post(self, headers, body, timeout):
                from usage_tracker._transport import Response
                with lock:
                    received.append((os.getpid(), len(json.loads(body)["hits"])))
                return Response(202, {}, "{}")

            def abort(self):
                pass

        t = UsageTracker("http://usage.test", "k", flush_interval=30, _transport=Recording(), on_event=lambda e: None)
        record_n(t, 5)  # buffered in the parent, not yet sent
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read)
                before = t.stats()
                record_n(t, 3)
                flushed = t.flush(timeout=10)
                t.close()
                result = {"before": before.pending, "flushed": flushed, "stats": books(t),
                          "sent": [n for p, n in received if p == os.getpid()]}
                os.write(write, json.dumps(result).encode())
            finally:
                os._exit(0)
        os.close(write)
        data = b""
        while True:
            chunk = os.read(read, 65536)
            if not chunk:
                break
            data += chunk
        os.close(read)
        os.waitpid(pid, 0)
        child = json.loads(data)
        self.assertEqual(child["before"], 0, "the parent's buffered hits are the parent's to send")
        self.assertTrue(child["flushed"])
        self.assertEqual(child["stats"], ok(3))
        self.assertEqual(child["sent"], [3])
        self.assertTrue(t.flush(timeout=10))
        self.assertEqual([n for p, n in received if p == os.getpid()], [5])
        t.close()
        self.assertEqual(books(t), ok(5))


if __name__ == "__main__":
    unittest.main()
