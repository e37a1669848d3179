"""What the ASGI, WSGI and Django middlewares share: the options and the one call to ``record``."""

from __future__ import annotations

from typing import Any, Callable, Optional, Protocol, Union

from .client_address import Trust, TrustProxy, client_address, compile_trust


class Recorder(Protocol):
    """The part of :class:`~usage_tracker.UsageTracker` a middleware uses."""

    def record(self, ip: str, endpoint: str, *, timestamp: Any = None, method: Optional[str] = None,
               status: Optional[int] = None, duration_ms: Optional[float] = None) -> bool: ...


class Options:
    """``trust_proxy``: which proxies may tell the client's address (see :data:`TrustProxy`); default none.
    ``skip_unmatched``: leave out requests no route matched (default: recorded under their path, with
    their status, e.g. 404). ``skip(request)``: requests not to report (health checks, ...).
    ``endpoint(request)``: the name to report instead of the route template (``None``: the default)."""

    def __init__(self, trust_proxy: Optional[TrustProxy] = None, skip_unmatched: bool = False,
                 skip: Optional[Callable[[Any], bool]] = None,
                 endpoint: Optional[Callable[[Any], Optional[str]]] = None) -> None:
        self.trust: Trust = compile_trust(trust_proxy)
        self.skip_unmatched = skip_unmatched
        self.skip = skip
        self.endpoint = endpoint


def report(tracker: Recorder, options: Options, request: Any, peer: Optional[str],
           forwarded_for: Union[str, list, None], route: Optional[str], path: str, method: str,
           status: Optional[int], arrived: float, duration_ms: float) -> None:
    """Records one served request; metering never breaks or delays the response, so nothing is raised."""
    try:
        if route is None and options.skip_unmatched:
            return
        if options.skip is not None and options.skip(request):
            return
        ip = client_address(peer, forwarded_for, options.trust)
        if ip is None:
            return
        name = options.endpoint(request) if options.endpoint is not None else None
        tracker.record(ip, name or route or path_of(path), timestamp=arrived, method=method, status=status,
                       duration_ms=round(duration_ms, 3))
    except Exception:
        pass


def path_of(path: str) -> str:
    for mark in ("?", "#"):
        cut = path.find(mark)
        if cut >= 0:
            path = path[:cut]
    return path if path.startswith("/") else "/" + path


def join(prefix: str, template: str) -> str:
    """A mount prefix and a template relative to it, with one slash between."""
    if not prefix:
        return template if template.startswith("/") else "/" + template
    if not template or template == "/":
        return prefix.rstrip("/") or "/"
    return prefix.rstrip("/") + "/" + template.lstrip("/")
