"""The tracker: ``record`` appends to a bounded buffer; one daemon sender thread forms batches and posts
them to ``/api/logs`` with the batch's own Idempotency-Key on every attempt (DESIGN.md §8, docs/sdk.md)."""

from __future__ import annotations

import atexit
import collections
import logging
import math
import os
import random as _random
import re
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from json.encoder import encode_basestring_ascii as _json_string  # type: ignore[attr-defined]
from typing import Any, Callable, Deque, Dict, List, Optional, Protocol, Tuple, Union

from ._transport import HttpTransport, Response, Transport
from ._wire import (
    FieldError,
    Problem,
    full_jitter_delay,
    named_hits,
    pacing,
    parse_problem,
    parse_rate_limit,
    parse_rate_limit_policy,
    parse_retry_after,
    smallest_hits_policy,
)

__all__ = ["UsageTracker", "Stats", "Event", "Clock", "MAX_BATCH_SIZE", "MAX_BATCH_BYTES"]

VERSION = "1.0.0"
#: The service's limits for one ``POST /api/logs`` (DESIGN.md §2).
MAX_BATCH_SIZE = 500
MAX_BATCH_BYTES = 256 * 1024
MAX_ENDPOINT_LENGTH = 2048
MAX_METHOD_LENGTH = 16
MAX_DURATION_MS = 3_600_000
_ENVELOPE_BYTES = len('{"hits":[]}')
#: The longest wait the service can ask for that the tracker honours in one go; it asks again after.
_MAX_WAIT_MS = 3_600_000
#: The server keeps an Idempotency-Key 24 h from when it first saw it. A batch held longer than that (less
#: the request timeout and a minute) is given up rather than sent under a key the server may have
#: forgotten: that could count it twice.
IDEMPOTENCY_KEY_LIFE_MS = 24 * 3_600_000
_KEY_LIFE_MARGIN_MS = 60_000

_LOG = logging.getLogger("usage_tracker")
_IP_CHARS = re.compile(r"^[0-9A-Fa-f.:]{2,45}$")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,16}$")
_NEW_FIELD = re.compile(r"^hits\[\d+\]\.(method|status|duration_ms)$")
_Timestamp = Union[datetime, int, float, str, None]


class Clock(Protocol):
    """Time and randomness as the tracker sees them; tests pass a virtual clock."""

    def time_ms(self) -> int:
        """Wall time, milliseconds since the epoch: the hits' timestamps."""

    def monotonic_ms(self) -> int:
        """Milliseconds that never go back: every delay the tracker keeps."""

    def random(self) -> float:
        """Uniform in [0, 1): the backoff's jitter."""


class _SystemClock:
    def time_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000

    def random(self) -> float:
        return _random.random()


@dataclass(frozen=True)
class Stats:
    """``recorded == acknowledged + pending + dropped + rejected`` in every snapshot."""

    #: every call of ``record``
    recorded: int
    #: hits the service answered 202 for: counted exactly once
    acknowledged: int
    #: hits let go unsent: buffer full, tracker closed, close timed out, or a batch older than its key
    dropped: int
    #: hits the service refused (a 400 naming them, another final 4xx) or ``record`` found malformed
    rejected: int
    #: requests sent again after a 429, 5xx, timeout or network error (same Idempotency-Key)
    retried: int
    #: hits buffered or in a batch not yet answered
    pending: int


@dataclass(frozen=True)
class Event:
    """What went wrong (or right again), told to ``on_event`` from the sender thread, never the caller's.

    kind: ``halted`` (401/403/404/405), ``resumed``, ``rejected``, ``invalid-hit``, ``invalid-field``,
    ``retrying``, ``rate-limited``, ``buffer-full``, ``abandoned`` (close), ``expired`` (a batch older
    than its Idempotency-Key), ``resized`` (batches cut to the smallest ``ingest_hits`` policy),
    ``fields-unsupported`` (a service before contract v1.2 refused method/status/duration_ms: left out),
    ``record-failed`` (the clock failed inside ``record``: the hit is dropped).
    """

    kind: str
    message: str
    status: Optional[int] = None
    hits: int = 0
    attempt: int = 0
    delay_ms: int = 0
    errors: Tuple[FieldError, ...] = ()
    problem: Optional[Problem] = None
    error: Optional[BaseException] = None
    field: Optional[str] = None


@dataclass
class _Batch:
    """One request's worth of hits: body and Idempotency-Key fixed when formed, for every retry."""

    parts: List[str]
    hits: List["_Hit"]
    key: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: when an attempt first got past authentication (the service may have claimed the key); None: never
    keyed_wall_ms: Optional[int] = None
    keyed_mono_ms: Optional[int] = None
    sends: int = 0
    #: an attempt ended without a final answer (timeout, network error, 5xx): it may have been counted
    maybe_landed: bool = False
    body: bytes = b""

    def __post_init__(self) -> None:
        self.body = ('{"hits":[' + ",".join(self.parts) + "]}").encode("ascii")


def _part_of(batch: _Batch, start: int, end: int) -> _Batch:
    """Some of a batch's hits as a batch of their own: a new body, so a new key the service never saw."""
    return _Batch(batch.parts[start:end], batch.hits[start:end])


# (seq, ip, endpoint, at_ms, method, status, duration_ms)
_Hit = Tuple[int, str, str, int, Optional[str], Optional[int], Optional[float]]

_live: "weakref.WeakSet[UsageTracker]" = weakref.WeakSet()


class UsageTracker:
    """Reports the hits a service serves to usage-tracker in batches, off the caller's thread.

    ``record`` only appends to a bounded buffer (default 10,000 hits). One daemon thread per tracker
    (started at the first hit, again in a forked child) sends batches of up to 500 hits / 256 KiB when a
    batch is full or ``flush_interval`` seconds after its first hit; it retries with the batch's own
    Idempotency-Key so a retried batch is counted once, and follows ``Retry-After`` and ``RateLimit``.
    Safe to share between threads. Hits still buffered at interpreter exit are sent by an ``atexit``
    close bounded by ``close_timeout``.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        flush_interval: float = 1.0,
        max_batch_size: int = MAX_BATCH_SIZE,
        max_buffered_hits: int = 10_000,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        request_timeout: float = 10.0,
        close_timeout: float = 10.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        auth_retry_interval: float = 60.0,
        on_event: Optional[Callable[[Event], None]] = None,
        _transport: Optional[Transport] = None,
        _clock: Optional[Clock] = None,
        _threaded: bool = True,
    ) -> None:
        if not isinstance(base_url, str) or not re.match(r"^https?://", base_url, re.I):
            raise ValueError("UsageTracker: base_url must be an http(s) URL")
        if not isinstance(api_key, str) or not api_key:
            raise ValueError("UsageTracker: api_key is required")
        self._url = base_url.rstrip("/") + "/api/logs"
        self._api_key = api_key
        self._flush_interval_ms = _positive_ms("flush_interval", flush_interval)
        self._max_batch_size = min(_positive_int("max_batch_size", max_batch_size), MAX_BATCH_SIZE)
        self._max_batch_bytes = min(_positive_int("max_batch_bytes", max_batch_bytes), MAX_BATCH_BYTES)
        if self._max_batch_bytes < 16 * 1024:
            raise ValueError("UsageTracker: max_batch_bytes must be at least 16 KiB")
        self._max_buffered = _positive_int("max_buffered_hits", max_buffered_hits)
        self._request_timeout_ms = _positive_ms("request_timeout", request_timeout)
        self._close_timeout_ms = _positive_ms("close_timeout", close_timeout)
        self._backoff_base_ms = _positive_ms("backoff_base", backoff_base)
        self._backoff_cap_ms = _positive_ms("backoff_cap", backoff_cap)
        self._auth_retry_ms = _positive_ms("auth_retry_interval", auth_retry_interval)
        self._on_event = on_event
        self._transport: Transport = _transport if _transport is not None else HttpTransport(self._url)
        self._clock: Clock = _clock if _clock is not None else _SystemClock()
        self._threaded = _threaded
        self._reset_state()
        _live.add(self)

    def _reset_state(self) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._pid = os.getpid()
        self._thread: Optional[threading.Thread] = None
        self._kick = False
        self._buffer: Deque[_Hit] = collections.deque()
        self._ready: Deque[_Batch] = collections.deque()
        self._in_batches = 0
        self._seq = 0
        self._recorded = self._acknowledged = self._dropped = self._rejected = self._retried = 0
        self._flush_at: Optional[int] = None
        self._due_up_to = 0
        self._flushed_up_to = 0
        self._not_before = 0
        self._pace_until = 0
        self._failures = 0
        self._halted = False
        self._halted_episode = False
        self._probe_at: Optional[int] = None
        self._hits_cap: Optional[int] = None
        #: the service refused method/status/duration_ms as unknown fields (a server before v1.2): left out
        self._plain_hits = False
        self._dropping = False
        self._closing = False
        self._stopped = False
        self._current: Optional[_Batch] = None
        #: the first hit taken from the buffer for a batch being formed (outside the lock), until it is sent
        self._forming: Optional[int] = None
        self._events: Deque[Event] = collections.deque()
        self._delivering = threading.Lock()

    def __repr__(self) -> str:
        return f"UsageTracker(url={self._url!r}, api_key=<redacted>)"

    # --- the caller's side ------------------------------------------------------------------------

    def record(
        self,
        ip: str,
        endpoint: str,
        *,
        timestamp: _Timestamp = None,
        method: Optional[str] = None,
        status: Optional[int] = None,
        duration_ms: Optional[float] = None,
    ) -> bool:
        """Buffers one hit; never blocks on I/O, never raises.

        ``False`` when the hit was not taken: the buffer is full or the tracker is closed (counted as
        ``dropped``), or ``ip``/``endpoint``/``timestamp`` is malformed (counted as ``rejected``). An
        invalid ``method``, ``status`` or ``duration_ms`` is left out of the hit and reported
        (``invalid-field``); the hit itself is kept. ``timestamp``: a ``datetime`` (naive = UTC), epoch
        seconds, or an ISO-8601 string; default: now.
        """
        clock_error: Optional[BaseException] = None
        try:
            hit_ip = _ip(ip)
            ok = hit_ip is not None and _endpoint(endpoint)
            if timestamp is None:
                try:
                    at: Optional[int] = self._clock.time_ms()
                except Exception as e:  # not the hit's fault: dropped, not rejected
                    clock_error, at = e, None
            else:
                at = _time_ms(timestamp)
            ok = ok and at is not None
            bad_fields: List[str] = []
            hit_method: Optional[str] = None
            hit_status: Optional[int] = None
            hit_duration: Optional[float] = None
            if ok:
                if method is not None:
                    if isinstance(method, str) and _TOKEN.match(method):
                        hit_method = method.upper()
                    else:
                        bad_fields.append("method")
                if status is not None:
                    if isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599:
                        hit_status = status
                    else:
                        bad_fields.append("status")
                if duration_ms is not None:
                    if (isinstance(duration_ms, (int, float)) and not isinstance(duration_ms, bool)
                            and math.isfinite(duration_ms) and 0 <= duration_ms <= MAX_DURATION_MS):
                        hit_duration = duration_ms
                    else:
                        bad_fields.append("duration_ms")
        except Exception:  # a broken clock or a hostile __str__: the caller's request must not fail
            ok = False
            bad_fields = []
        with self._lock:
            self._recorded += 1
            if clock_error is not None:
                self._dropped += 1
                self._events.append(Event("record-failed", f"record: the clock failed ({clock_error!r}): hit dropped",
                                          hits=1, error=clock_error))
                self._wake()
                return False
            if not ok:
                self._rejected += 1
                self._events.append(Event("invalid-hit", "record: ip must be an IP address, endpoint a path "
                                          "(1..2048 characters, no spaces) and timestamp a valid time", hits=1))
                self._wake()
                return False
            for name in bad_fields:
                self._events.append(Event("invalid-field", f"record: {name} is invalid and was left out of the hit",
                                          field=name))
            if bad_fields:
                self._wake()
            if self._closing or self._stopped:
                self._dropped += 1
                return False
            if os.getpid() != self._pid:  # forked without the hook having run (should not happen)
                self._after_fork()
            if len(self._buffer) + self._in_batches >= self._max_buffered:
                self._dropped += 1
                if not self._dropping:
                    self._dropping = True
                    self._events.append(Event("buffer-full", f"buffer full ({self._max_buffered} hits): new hits "
                                              "are dropped until it drains"))
                    self._wake()
                return False
            self._dropping = False
            self._seq += 1
            self._buffer.append((self._seq, hit_ip, endpoint, at, hit_method, hit_status, hit_duration))  # type: ignore[arg-type]
            buffered = len(self._buffer)
            if buffered == 1:
                self._arm_flush(self._clock.monotonic_ms())
                self._wake()
            elif buffered == self._batch_size():
                self._wake()
            if self._thread is None and self._threaded:
                self._start_thread()
            return True

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Sends everything recorded so far now, full batches or not, and waits (at most ``timeout``
        seconds; ``None``: until done) until those hits are acknowledged, rejected or dropped. ``True``
        when none of them is pending any more; ``False`` on timeout or while sending is halted by a
        401/403/404/405 (the hits stay buffered)."""
        with self._lock:
            up_to = self._seq
            if self._stopped or self._halted or self._oldest_pending() > up_to:
                return self._oldest_pending() > up_to
            self._due_up_to = max(self._due_up_to, up_to)
            self._flushed_up_to = max(self._flushed_up_to, up_to)
            self._wake()
            if self._threaded and self._thread is None:
                self._start_thread()
        deadline = None if timeout is None else self._clock.monotonic_ms() + max(0, int(timeout * 1000))
        return self._await(lambda: self._stopped or self._halted or self._oldest_pending() > up_to, deadline) \
            and self._oldest_pending() > up_to

    def close(self, timeout: Optional[float] = None) -> None:
        """Stops taking hits, sends what is left within ``timeout`` seconds (default ``close_timeout``),
        then stops the sender; what could not be sent is counted as ``dropped`` (an abandoned request
        may still have landed). Idempotent."""
        with self._lock:
            if self._closing:
                already = True
            else:
                already = False
                self._closing = True
                up_to = self._seq
                self._due_up_to = max(self._due_up_to, up_to)
                self._flushed_up_to = max(self._flushed_up_to, up_to)
                self._wake()
                if self._threaded and self._thread is None and self._oldest_pending() <= up_to:
                    self._start_thread()
        if already:
            self._await(lambda: self._stopped, None)
            return
        limit = self._close_timeout_ms if timeout is None else max(0, int(timeout * 1000))
        deadline = self._clock.monotonic_ms() + limit
        if not self._halted:
            self._await(lambda: self._halted or self._oldest_pending() > up_to, deadline)
        with self._lock:
            self._stopped = True
            left = len(self._buffer) + self._in_batches
            if left > 0:
                self._dropped += left
                self._buffer.clear()
                self._ready.clear()
                self._in_batches = 0
                why = "sending halted by a 401/403/404/405" if self._halted else f"within {limit} ms"
                self._events.append(Event("abandoned", f"close: {left} hit(s) not sent ({why})", hits=left))
            in_flight = self._current is not None
            self._cond.notify_all()
            thread = self._thread
        if in_flight:
            try:
                self._transport.abort()
            except Exception:
                pass
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)
        self._deliver()

    def stats(self) -> Stats:
        """A consistent snapshot of the counters."""
        with self._lock:
            return Stats(self._recorded, self._acknowledged, self._dropped, self._rejected, self._retried,
                         len(self._buffer) + self._in_batches)

    @property
    def halted(self) -> bool:
        """True after a 401/403 (or 404/405: a wrong base URL) until a probe or ``set_api_key`` gets through."""
        return self._halted

    def set_api_key(self, api_key: str) -> None:
        """Replaces the API key (after a rotation, or to recover from a 401/403) and resumes sending."""
        if not isinstance(api_key, str) or not api_key:
            raise ValueError("UsageTracker: api_key is required")
        with self._lock:
            self._api_key = api_key
            if self._halted:
                self._halted = False
                self._probe_at = None
                self._wake()

    def __enter__(self) -> "UsageTracker":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- waiting (a thread of the caller) -----------------------------------------------------------

    def _await(self, done: Callable[[], bool], deadline: Optional[int]) -> bool:
        if not self._threaded:
            return self._drive(done, deadline)
        with self._lock:
            while not done():
                if deadline is None:
                    self._cond.wait(1.0)
                else:
                    left = deadline - self._clock.monotonic_ms()
                    if left <= 0:
                        return False
                    self._cond.wait(left / 1000)
            return True

    def _drive(self, done: Callable[[], bool], deadline: Optional[int]) -> bool:
        """Without a sender thread (tests with a virtual clock): the waiting caller runs the sender."""
        while True:
            with self._lock:
                if done():
                    return True
            wait = self._step()
            if wait == 0:
                continue
            now = self._clock.monotonic_ms()
            if wait is None:
                with self._lock:
                    return done()
            if deadline is not None and now + wait > deadline:
                if now < deadline:
                    self._clock.sleep_ms(deadline - now)  # type: ignore[attr-defined]
                    continue
                with self._lock:
                    return done()
            self._clock.sleep_ms(wait)  # type: ignore[attr-defined]

    # --- the sender ---------------------------------------------------------------------------------

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name="usage-tracker-sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                wait = self._step()
            except Exception as e:  # not reachable by design; never let the sender die silently
                self._emit(Event("retrying", f"internal error: {e!r}", error=e))
                wait = 1000
            with self._lock:
                if self._stopped or os.getpid() != self._pid:
                    return
                if wait == 0:
                    continue
                if not self._kick:
                    self._cond.wait(None if wait is None else wait / 1000)
                self._kick = False

    def _wake(self) -> None:
        """Under the lock: the sender looks again (new work, or an earlier deadline)."""
        self._kick = True
        self._cond.notify_all()

    def _step(self) -> Optional[int]:
        """One step of the sender: sends at most one batch. Returns 0 to go on at once, else how many
        milliseconds to wait (``None``: until woken)."""
        self._deliver()
        with self._lock:
            now = self._clock.monotonic_ms()
            self._fire_timers(now)
            if self._stopped:
                return None
            chosen = self._choose(now)
            if not isinstance(chosen, list):
                return chosen
        batch = self._form(chosen) if chosen else None
        with self._lock:
            if batch is None:
                if self._stopped:
                    return None
                batch = self._ready.popleft() if self._ready else None
                if batch is None:
                    return 0
            else:
                self._current = batch  # visible to flush() until it is sent (or given up below)
            self._forming = None
            if self._stopped:
                return None
            if self._too_old(batch):
                self._current = None
                self._settle(len(batch.parts))
                self._dropped += len(batch.parts)
                self._failures = 0
                self._events.append(Event("expired", f"{len(batch.parts)} hit(s) dropped: held longer than the service "
                                          "keeps their Idempotency-Key (24 h); sent again they could be counted twice",
                                          hits=len(batch.parts)))
                self._cond.notify_all()
                return 0
            self._current = batch
            if batch.sends > 0:
                self._retried += 1
            batch.sends += 1
            headers = {
                "Content-Type": "application/json",
                "X-API-Key": self._api_key,
                "Idempotency-Key": batch.key,
                "User-Agent": f"usage-tracker-client-python/{VERSION}",
            }
        response: Optional[Response] = None
        error: Optional[BaseException] = None
        sent_wall, sent_mono = self._clock.time_ms(), self._clock.monotonic_ms()
        try:
            response = self._transport.post(headers, batch.body, self._request_timeout_ms / 1000)
        except Exception as e:
            error = e
        with self._lock:
            self._current = None
            if batch.keyed_mono_ms is None and (response is None or response.status not in (401, 403, 404, 405)):
                batch.keyed_wall_ms, batch.keyed_mono_ms = sent_wall, sent_mono
            if not self._stopped:
                self._answer(batch, response, error, self._clock.monotonic_ms())
            self._cond.notify_all()
        self._deliver()
        return 0

    def _fire_timers(self, now: int) -> None:
        if self._flush_at is not None and now >= self._flush_at:
            self._flush_at = None
            self._due_up_to = max(self._due_up_to, self._seq)
        if self._halted and self._probe_at is not None and now >= self._probe_at:
            self._halted = False
            self._probe_at = None

    def _choose(self, now: int) -> Union[Optional[int], List[_Hit]]:
        """Under the lock: a wait in ms (``None``: until woken), ``[]`` to send the first ready batch, or
        the hits taken from the buffer for a new batch."""
        if self._halted:
            return None if self._probe_at is None else max(1, self._probe_at - now)
        if not self._ready and not self._batch_due():
            if self._buffer and self._flush_at is None:
                self._arm_flush(now)
            return None if self._flush_at is None else max(1, self._flush_at - now)
        # wait before forming the batch: hits that arrive meanwhile travel in it. Pacing holds back only
        # what the flush interval alone made due: full batches, retries and flushes go at once
        paced = not self._ready and not self._full_or_flushed()
        wake = max(self._not_before, self._pace_until if paced else 0)
        if wake > now:
            keyed = self._ready[0].keyed_mono_ms if self._ready else None
            if keyed is not None:
                # a batch waiting for its retry is given up when its key runs out, not at its next attempt
                expires = keyed + self._key_life_ms()
                if expires <= now or self._too_old(self._ready[0]):
                    return []
                return min(wake - now, _MAX_WAIT_MS, expires - now)
            return min(wake - now, _MAX_WAIT_MS)
        if self._ready:
            return []
        size = self._batch_size()
        hits = []
        while self._buffer and len(hits) < size:
            hits.append(self._buffer.popleft())
        self._in_batches += len(hits)
        self._forming = hits[0][0] if hits else None
        if self._buffer and len(self._buffer) < size and self._flush_at is None:
            self._arm_flush(now)
        return hits

    def _form(self, hits: List[_Hit]) -> _Batch:
        """Outside the lock (the caller's ``record`` is not held up by it): the hits as JSON, cut at the
        byte bound; the hits that did not fit go back to the front of the buffer."""
        parts: List[str] = []
        size = _ENVELOPE_BYTES
        cut = len(hits)
        plain = self._plain_hits
        for i, hit in enumerate(hits):
            part = _part(hit, plain)
            grown = size + len(part) + (1 if parts else 0)
            if grown > self._max_batch_bytes and parts:
                cut = i
                break
            size = grown
            parts.append(part)
        with self._lock:
            if cut < len(hits):
                if self._stopped:
                    pass  # close already counted every held hit as dropped
                else:
                    self._in_batches -= len(hits) - cut
                    self._buffer.extendleft(reversed(hits[cut:]))
            return _Batch(parts, hits[:cut])

    def _answer(self, batch: _Batch, response: Optional[Response], error: Optional[BaseException], now: int) -> None:
        """Under the lock: what the service's answer (or its absence) means for the batch."""
        if response is None:
            batch.maybe_landed = True
            self._retry_later(batch, None, error, None, now)
            return
        status = response.status
        block_ms, spacing_ms = pacing(parse_rate_limit(response.headers.get("ratelimit")))
        if block_ms > 0:
            self._not_before = max(self._not_before, now + min(block_ms, _MAX_WAIT_MS))
        self._pace_until = now + min(spacing_ms, _MAX_WAIT_MS)
        policies = parse_rate_limit_policy(response.headers.get("ratelimit-policy"))
        if policies:
            cap = smallest_hits_policy(policies)
            if cap != self._hits_cap:
                self._hits_cap = cap
                if cap is not None and cap < self._max_batch_size:
                    self._events.append(Event("resized", f"batches hold at most {cap} hits: the smallest "
                                              "ingest_hits policy the service names"))

        if 200 <= status < 300:
            self._failures = 0
            self._settle(len(batch.parts))
            self._acknowledged += len(batch.parts)
            if self._halted_episode:
                self._halted_episode = False
                self._events.append(Event("resumed", f"{status}: sending resumed", status=status))
            return
        problem = parse_problem(response.body)
        title = problem.title if problem and problem.title else ""
        if status == 429:
            # a monthly quota's Retry-After may name the 1st of next month: ask again within the hour
            after = parse_retry_after(response.headers.get("retry-after"), self._clock.time_ms())
            if after is None:
                self._failures += 1
                after = full_jitter_delay(self._failures, self._backoff_base_ms, self._backoff_cap_ms, self._clock.random)
            delay = min(_MAX_WAIT_MS, after)
            self._not_before = max(self._not_before, now + delay)
            self._ready.appendleft(batch)
            self._events.append(Event("rate-limited", f"429 {title or 'Too Many Requests'}: retrying in {delay} ms",
                                      status=status, delay_ms=delay, problem=problem))
            return
        if status >= 500 or status in (408, 425):
            batch.maybe_landed = True
            self._retry_later(batch, status, None, problem, now)
            return
        if status in (401, 403, 404, 405):
            # a bad key or a wrong base URL: fixed by configuration, and no hit is to blame: keep them
            self._halted = True
            self._ready.appendleft(batch)
            self._probe_at = now + self._auth_retry_ms
            if not self._halted_episode:
                self._halted_episode = True
                text = (problem.detail or problem.title or "") if problem else ""
                self._events.append(Event("halted", f"{status} {text}".strip() + ": sending stopped (hits are buffered "
                                          f"until the buffer is full); tried again every {self._auth_retry_ms} ms, "
                                          "set_api_key() resumes at once", status=status, problem=problem))
            return
        n = len(batch.parts)
        if batch.maybe_landed and n > 1 and status in (400, 413):
            # an earlier attempt may have been counted: parts of it re-sent under new keys could count twice
            self._reject(batch, n, status, problem, " (not split: an earlier attempt of this batch may have landed)")
            return
        if status == 413 and n > 1:
            # cannot happen within our byte bound; if a proxy in between has a lower one, halve and go on
            half = (n + 1) // 2
            self._ready.extendleft([_part_of(batch, half, n), _part_of(batch, 0, half)])
            return
        cap = self._hits_cap
        if status == 400 and cap is not None and n > cap:
            # the batch is larger than an ingest_hits policy allows (the 400 names the policy): smaller ones
            chunks = [_part_of(batch, i, min(i + cap, n)) for i in range(0, n, cap)]
            self._ready.extendleft(reversed(chunks))
            return
        if status == 400 and not self._plain_hits and problem and problem.errors and all(
                _NEW_FIELD.match(e.field) for e in problem.errors):
            # a service before contract v1.2 does not know the fields: the hits go again without them
            self._plain_hits = True
            self._ready.appendleft(_Batch([_part(h, True) for h in batch.hits], batch.hits))
            self._events.append(Event("fields-unsupported", f"{status}: the service does not take method, status "
                                      "and duration_ms (a version before contract v1.2): hits are sent without them",
                                      status=status, problem=problem))
            return
        named = named_hits(problem, n) if status == 400 else set()
        if named and len(named) < n:
            # the service names every broken hit: the others are valid and go again, as a new request
            keep = [i for i in range(n) if i not in named]
            self._settle(len(named))
            self._rejected += len(named)
            self._ready.appendleft(_Batch([batch.parts[i] for i in keep], [batch.hits[i] for i in keep]))
            self._report_rejected(status, len(named), problem, "")
            return
        self._reject(batch, n, status, problem, "")

    def _reject(self, batch: _Batch, n: int, status: int, problem: Optional[Problem], why: str) -> None:
        self._settle(n)
        self._rejected += n
        self._report_rejected(status, n, problem, why)

    def _report_rejected(self, status: int, n: int, problem: Optional[Problem], why: str) -> None:
        title = problem.title if problem and problem.title else ""
        detail = f" ({problem.detail})" if problem and problem.detail else ""
        self._events.append(Event("rejected", f"{status} {title}: {n} hit(s) rejected{detail}{why}", status=status,
                                  hits=n, errors=problem.errors if problem else (), problem=problem))

    def _retry_later(self, batch: _Batch, status: Optional[int], error: Optional[BaseException],
                     problem: Optional[Problem], now: int) -> None:
        self._failures += 1
        attempt = self._failures
        delay = full_jitter_delay(attempt, self._backoff_base_ms, self._backoff_cap_ms, self._clock.random)
        self._not_before = max(self._not_before, now + delay)
        self._ready.appendleft(batch)
        if status is not None:
            what = f"{status} {problem.title if problem and problem.title else ''}".strip()
        else:
            what = f"network error ({error!r})"
        self._events.append(Event("retrying", f"{what}: retrying in {delay} ms with the same Idempotency-Key",
                                  status=status, error=error, attempt=attempt, delay_ms=delay, problem=problem))

    def _key_life_ms(self) -> int:
        return IDEMPOTENCY_KEY_LIFE_MS - self._request_timeout_ms - _KEY_LIFE_MARGIN_MS

    def _too_old(self, batch: _Batch) -> bool:
        if batch.keyed_mono_ms is None or batch.keyed_wall_ms is None:
            return False  # only ever answered 401/403/404/405 (or never sent): no key was claimed
        life = self._key_life_ms()
        # either clock: the monotonic one stops while the host sleeps, the wall clock may be set back
        return (self._clock.monotonic_ms() - batch.keyed_mono_ms >= life
                or self._clock.time_ms() - batch.keyed_wall_ms >= life)

    def _settle(self, hits: int) -> None:
        self._in_batches -= hits

    def _batch_size(self) -> int:
        cap = self._hits_cap
        return self._max_batch_size if cap is None else max(1, min(self._max_batch_size, cap))

    def _arm_flush(self, now: int) -> None:
        if self._flush_at is None:
            self._flush_at = now + self._flush_interval_ms

    def _batch_due(self) -> bool:
        return bool(self._buffer) and (len(self._buffer) >= self._batch_size() or self._buffer[0][0] <= self._due_up_to)

    def _full_or_flushed(self) -> bool:
        return bool(self._buffer) and (len(self._buffer) >= self._batch_size()
                                       or self._buffer[0][0] <= self._flushed_up_to)

    def _oldest_pending(self) -> float:
        oldest: float = math.inf
        if self._current is not None and self._current.hits:
            oldest = self._current.hits[0][0]
        for b in self._ready:
            if b.hits and b.hits[0][0] < oldest:
                oldest = b.hits[0][0]
        if self._buffer:
            oldest = min(oldest, self._buffer[0][0])
        if self._forming is not None:
            oldest = min(oldest, self._forming)
        return oldest

    # --- events ---------------------------------------------------------------------------------------

    def _deliver(self) -> None:
        """Outside the lock, on the sender's (or a closing caller's) thread: the listener never runs inside
        the caller's ``record``, and a listener's failure is not the caller's."""
        if not self._delivering.acquire(blocking=False):
            return
        try:
            while True:
                with self._lock:
                    if not self._events:
                        return
                    event = self._events.popleft()
                self._emit(event)
        finally:
            self._delivering.release()

    def _emit(self, event: Event) -> None:
        try:
            if self._on_event is not None:
                self._on_event(event)
            else:
                _default_listener(event)
        except Exception:
            pass

    # --- fork -----------------------------------------------------------------------------------------

    def _after_fork(self) -> None:
        """In a forked child: the parent still owns (and sends) what it had buffered, so the child starts
        empty with the same settings, its own lock and, at its first hit, its own sender thread."""
        closed = self._closing or self._stopped
        self._reset_state()
        self._closing = self._stopped = closed
        forget = getattr(self._transport, "forget", None)
        if forget is not None:
            forget()


_reported_once: Dict[str, bool] = {}


def _default_listener(event: Event) -> None:
    if event.kind in ("invalid-hit", "invalid-field", "buffer-full"):
        if _reported_once.get(event.kind):
            return
        _reported_once[event.kind] = True
        _LOG.warning("%s (reported once; pass on_event to see every one)", event.message)
    elif event.kind in ("resumed", "resized"):
        _LOG.info("%s", event.message)
    else:
        _LOG.warning("%s", event.message)


def _before_fork() -> None:
    for t in list(_live):
        t._lock.acquire()


def _after_fork_parent() -> None:
    for t in list(_live):
        try:
            t._lock.release()
        except RuntimeError:
            pass


def _after_fork_child() -> None:
    for t in list(_live):
        t._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_parent, after_in_child=_after_fork_child)


@atexit.register
def _close_at_exit() -> None:
    for t in list(_live):
        if t._threaded and not t._closing and t._pid == os.getpid():
            t.close()


def _ip(value: Any) -> Optional[str]:
    if not isinstance(value, str):
        return None
    zone = value.find("%")
    if zone > 0:
        value = value[:zone]
    return value if _IP_CHARS.match(value) else None


_NOT_IN_PATH = re.compile(r"[\s\x00-\x1f\x7f]")


def _endpoint(value: Any) -> bool:
    return (isinstance(value, str) and 0 < len(value) <= MAX_ENDPOINT_LENGTH and value.startswith("/")
            and _NOT_IN_PATH.search(value) is None)


_MIN_MS = int(datetime(1, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
_MAX_MS = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp() * 1000)


def _time_ms(value: Any) -> Optional[int]:
    if isinstance(value, datetime):
        at = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        return int(at.timestamp() * 1000)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            return None
        ms = int(value * 1000)
        return ms if _MIN_MS <= ms <= _MAX_MS else None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            return _time_ms(datetime.fromisoformat(text))
        except ValueError:
            return None
    return None


def _iso(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    t = time.gmtime(seconds)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, millis)


def _part(hit: _Hit, plain: bool = False) -> str:
    _, ip, endpoint, at, method, status, duration = hit
    text = '{"ip":"' + ip + '","endpoint":' + _json_string(endpoint) + ',"timestamp":"' + _iso(at) + '"'
    if plain:
        return text + "}"
    if method is not None:
        text += ',"method":"' + method + '"'
    if status is not None:
        text += ',"status":' + str(status)
    if duration is not None:
        text += ',"duration_ms":' + (str(duration) if isinstance(duration, int) else repr(round(float(duration), 3)))
    return text + "}"


def _positive_int(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"UsageTracker: {name} must be a positive whole number")
    return value


def _positive_ms(name: str, seconds: Any) -> int:
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"UsageTracker: {name} must be a positive number of seconds")
    return max(1, int(round(seconds * 1000)))
