"""What the service says back, read the way the Java and TypeScript SDKs read it: RFC 9457 problems, the
IETF draft's RateLimit fields, Retry-After, and the backoff between attempts."""

from __future__ import annotations

import email.utils
import json
import math
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Set, Tuple


@dataclass(frozen=True)
class FieldError:
    """One invalid field the service named, e.g. ``hits[3].ip``."""

    field: str
    message: str


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem as the service answers errors."""

    type: Optional[str] = None
    title: Optional[str] = None
    status: Optional[int] = None
    detail: Optional[str] = None
    instance: Optional[str] = None
    errors: Tuple[FieldError, ...] = field(default_factory=tuple)


def parse_problem(body: str) -> Optional[Problem]:
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None

    def text(name: str) -> Optional[str]:
        value = parsed.get(name)
        return value if isinstance(value, str) else None

    status = parsed.get("status")
    errors = parsed.get("errors")
    return Problem(
        type=text("type"),
        title=text("title"),
        status=status if isinstance(status, int) and not isinstance(status, bool) else None,
        detail=text("detail"),
        instance=text("instance"),
        errors=tuple(FieldError(str(e.get("field", "")), str(e.get("message", "")))
                     for e in errors if isinstance(e, dict)) if isinstance(errors, list) else (),
    )


_HIT_FIELD = re.compile(r"^hits\[(\d+)\]")


def named_hits(problem: Optional[Problem], batch_size: int) -> Set[int]:
    """The positions of the hits a validation problem names (``hits[3].ip``); empty when it names none."""
    named: Set[int] = set()
    for e in problem.errors if problem else ():
        m = _HIT_FIELD.match(e.field)
        if m and int(m.group(1)) < batch_size:
            named.add(int(m.group(1)))
    return named


@dataclass(frozen=True)
class RateLimitState:
    """One policy of the ``RateLimit`` field: ``r`` units left, none coming back for ``t`` seconds."""

    name: str
    remaining: float
    reset_seconds: float


@dataclass(frozen=True)
class RateLimitPolicy:
    """One policy of the ``RateLimit-Policy`` field: ``q`` units per ``w`` seconds."""

    name: str
    quota: float
    window_seconds: float


def _split_list(value: str) -> List[str]:
    items: List[str] = []
    current: List[str] = []
    quoted = False
    i = 0
    while i < len(value):
        c = value[i]
        if c == "\\" and quoted and i + 1 < len(value):
            current.append(c + value[i + 1])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if c == "," and not quoted:
            item = "".join(current).strip()
            if item:
                items.append(item)
            current = []
        else:
            current.append(c)
        i += 1
    item = "".join(current).strip()
    if item:
        items.append(item)
    return items


def _parameters(value: Optional[str], wanted: Tuple[str, str]) -> List[Tuple[str, Dict[str, float]]]:
    """A structured-field list of named items with numeric parameters, e.g. ``"ingest-1m";r=4;t=20``."""
    if not value:
        return []
    out = []
    for item in _split_list(value):
        parts = [p.strip() for p in item.split(";")]
        head = parts.pop(0) if parts else ""
        name = re.sub(r"\\(.)", r"\1", head[1:-1]) if head.startswith('"') and head.endswith('"') and len(head) > 1 else head
        params: Dict[str, float] = {}
        for p in parts:
            key, eq, raw = p.partition("=")
            if not eq or key.strip() not in wanted:
                continue
            try:
                number = float(raw.strip())
            except ValueError:
                continue
            if math.isfinite(number) and number >= 0:
                params[key.strip()] = number
        if all(k in params for k in wanted):
            out.append((name, params))
    return out


def parse_rate_limit(value: Optional[str]) -> List[RateLimitState]:
    return [RateLimitState(n, p["r"], p["t"]) for n, p in _parameters(value, ("r", "t"))]


def parse_rate_limit_policy(value: Optional[str]) -> List[RateLimitPolicy]:
    return [RateLimitPolicy(n, p["q"], p["w"]) for n, p in _parameters(value, ("q", "w"))]


def pacing(states: List[RateLimitState]) -> Tuple[int, int]:
    """(block_ms, spacing_ms): all of ``t`` of a policy with nothing left (no request before then), and
    ``t / r`` of the tightest other one, the gap to leave before a batch only the flush interval made due,
    so the remaining quota lasts until units come back. ``t`` counts at most a day."""
    block = 0.0
    spacing = 0.0
    for s in states:
        window_ms = min(s.reset_seconds, 86_400) * 1000
        if s.remaining <= 0:
            block = max(block, window_ms)
        else:
            spacing = max(spacing, window_ms / s.remaining)
    return math.ceil(block), math.ceil(spacing)


def smallest_hits_policy(policies: List[RateLimitPolicy]) -> Optional[int]:
    """The smallest ``ingest_hits`` quota the service names: no batch may hold more hits than that."""
    quotas = [int(p.quota) for p in policies if p.name.startswith("ingest_hits") and p.quota >= 1]
    return min(quotas) if quotas else None


def parse_retry_after(value: Optional[str], now_ms: int) -> Optional[int]:
    """``Retry-After`` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in milliseconds from now."""
    if not value:
        return None
    trimmed = value.strip()
    if trimmed.isdigit():
        return int(trimmed) * 1000
    try:
        at = email.utils.parsedate_to_datetime(trimmed)
    except (TypeError, ValueError, IndexError):
        return None
    if at is None or at.tzinfo is None:
        return None
    return max(0, int(at.timestamp() * 1000) - now_ms)


def full_jitter_delay(failures: int, base_ms: int, cap_ms: int, random: Callable[[], float]) -> int:
    """Exponential backoff with full jitter: the n-th consecutive failure waits a uniform random time in
    [0, min(cap, base * 2^(n-1))], so clients that failed together do not come back together."""
    exponent = min(max(failures, 1) - 1, 30)
    ceiling = min(cap_ms, base_ms * 2 ** exponent)
    return int(math.floor(random() * ceiling))
