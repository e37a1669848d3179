"""A virtual clock and a scripted transport: the tracker's time and network under the test's control.
The tracker runs without its thread (``_threaded=False``): ``advance`` runs the sender step by step,
moving time to each deadline it asks for, as the TypeScript tests' FakeClock fires timers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional

from usage_tracker import UsageTracker
from usage_tracker._transport import Response

T0 = int(datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc).timestamp() * 1000)


class FakeClock:
    def __init__(self, start_ms: int = T0) -> None:
        self.wall = start_ms
        self.mono = 1_000_000
        self.random = lambda: 0.5

    def time_ms(self) -> int:
        return self.wall

    def monotonic_ms(self) -> int:
        return self.mono

    def sleep_ms(self, ms: int) -> None:
        self.wall += ms
        self.mono += ms

    def now_iso(self, offset_ms: int = 0) -> str:
        t = datetime.fromtimestamp((self.wall + offset_ms) / 1000, tz=timezone.utc)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{(self.wall + offset_ms) % 1000:03d}Z"


class Call:
    def __init__(self, headers: Dict[str, str], body: bytes, at: int, timeout: float) -> None:
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.raw = body
        self.body = json.loads(body)
        self.at = at
        self.timeout = timeout

    @property
    def key(self) -> str:
        return self.headers["idempotency-key"]

    @property
    def hits(self) -> List[Dict[str, Any]]:
        return self.body["hits"]


class FakeTransport:
    """Records each request and answers from ``script(call, index)``: a Response, or raising (a network
    error). ``hang`` as an answer: the request times out (the clock moves by the request timeout)."""

    def __init__(self, clock: FakeClock, script: Optional[Callable[[Call, int], Any]] = None) -> None:
        self.clock = clock
        self.script = script or (lambda call, i: accepted())
        self.calls: List[Call] = []
        self.aborted = 0

    def post(self, headers: Dict[str, str], body: bytes, timeout: float) -> Response:
        call = Call(headers, body, self.clock.mono, timeout)
        self.calls.append(call)
        answer = self.script(call, len(self.calls) - 1)
        if answer == "hang":
            self.clock.sleep_ms(int(timeout * 1000))
            raise TimeoutError("timed out")
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def abort(self) -> None:
        self.aborted += 1

    def sizes(self) -> List[int]:
        return [len(c.hits) for c in self.calls]


def accepted(headers: Optional[Dict[str, str]] = None) -> Response:
    return Response(202, {k.lower(): v for k, v in (headers or {}).items()}, '{"accepted":1}')


def problem(status: int, title: str, errors: Optional[list] = None, headers: Optional[Dict[str, str]] = None) -> Response:
    body: Dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": title, "instance": "req-1"}
    if errors is not None:
        body["errors"] = errors
    h = {"content-type": "application/problem+json"}
    h.update({k.lower(): v for k, v in (headers or {}).items()})
    return Response(status, h, json.dumps(body))


def make(clock: FakeClock, transport: FakeTransport, **options: Any) -> UsageTracker:
    return UsageTracker("http://usage.test/prod/", "ut_key_1", _clock=clock, _transport=transport, _threaded=False, **options)


def advance(tracker: UsageTracker, clock: FakeClock, ms: int) -> None:
    """Moves time forward by ``ms``, letting the sender do everything that falls due on the way."""
    end = clock.mono + ms
    while True:
        wait = tracker._step()
        if wait == 0:
            continue
        if wait is not None and clock.mono + wait <= end:
            clock.sleep_ms(wait)
            continue
        if clock.mono < end:
            clock.sleep_ms(end - clock.mono)
            continue
        return


def settle(tracker: UsageTracker, clock: FakeClock) -> None:
    """Lets the sender do what is due now, without moving time."""
    advance(tracker, clock, 0)


def books(tracker: UsageTracker) -> Dict[str, int]:
    s = tracker.stats()
    assert s.recorded == s.acknowledged + s.pending + s.dropped + s.rejected, s
    return dict(recorded=s.recorded, acknowledged=s.acknowledged, dropped=s.dropped, rejected=s.rejected,
                retried=s.retried, pending=s.pending)


def record_n(tracker: UsageTracker, n: int, endpoint: str = "/orders") -> None:
    for _ in range(n):
        assert tracker.record("203.0.113.7", endpoint) is True
