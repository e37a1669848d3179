"""WSGI middleware (Flask, or any WSGI app): records every request once its response is closed, under
the matched route's template — Flask's ``request.url_rule.rule`` (``/users/<int:user_id>``), or whatever
a framework put in ``environ["usage_tracker.route"]`` — with its method, status and duration; a request
no route matched under its path (or skipped: ``skip_unmatched=True``). Django: :mod:`usage_tracker.django`.

    app = Flask(__name__)
    app.wsgi_app = UsageTrackingMiddleware(app.wsgi_app, tracker)   # before the first request

Given a Flask app (or its ``wsgi_app``), the middleware registers a URL value preprocessor that notes the
matched rule: Flask drops its request object when the request context ends, before the response is
closed, so the rule cannot be read afterwards.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional

from ._middleware import Options, Recorder, join, report
from .client_address import TrustProxy

__all__ = ["UsageTrackingMiddleware", "ROUTE_KEY"]

#: A framework adapter may put the matched route's template here; the middleware reads it after the response.
ROUTE_KEY = "usage_tracker.route"

Environ = Dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class UsageTrackingMiddleware:
    def __init__(self, app: WSGIApp, tracker: Recorder, *, trust_proxy: Optional[TrustProxy] = None,
                 skip_unmatched: bool = False, skip: Optional[Callable[[Environ], bool]] = None,
                 endpoint: Optional[Callable[[Environ], Optional[str]]] = None) -> None:
        self.app = app
        self.tracker = tracker
        self.options = Options(trust_proxy, skip_unmatched, skip, endpoint)
        _note_flask_rules(app)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        arrived = time.time()
        started = time.perf_counter()
        state: Dict[str, Any] = {"status": None}

        def start_and_watch(status: str, headers: List[Any], exc_info: Any = None) -> Any:
            try:
                state["status"] = int(status.split(" ", 1)[0])
            except (ValueError, AttributeError):
                pass
            return start_response(status, headers, exc_info) if exc_info is not None else start_response(status, headers)

        def done() -> None:
            self._report(environ, state["status"], arrived, (time.perf_counter() - started) * 1000)

        try:
            body = self.app(environ, start_and_watch)
        except BaseException:
            state["status"] = state["status"] or 500
            done()
            raise
        return _Closing(body, done)

    def _report(self, environ: Environ, status: Optional[int], arrived: float, duration_ms: float) -> None:
        try:
            route = route_template(environ)
            path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "/")
            report(self.tracker, self.options, environ, environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"),
                   route, path or "/", environ.get("REQUEST_METHOD", "GET"), status, arrived, duration_ms)
        except Exception:
            pass


def _note_flask_rules(app: Any) -> None:
    flask_app = app if hasattr(app, "url_value_preprocessor") else getattr(app, "__self__", None)
    if flask_app is None or not hasattr(flask_app, "url_value_preprocessor") or not hasattr(flask_app, "url_map"):
        return
    from flask import request

    def note_rule(endpoint: Optional[str], values: Optional[Dict[str, Any]]) -> None:
        rule = request.url_rule
        if rule is not None:
            request.environ[ROUTE_KEY] = join(request.environ.get("SCRIPT_NAME", ""), rule.rule)

    # runs for every request once it is matched, before any before_request function can answer it
    flask_app.url_value_preprocessor(note_rule)


def route_template(environ: Environ) -> Optional[str]:
    given = environ.get(ROUTE_KEY)
    if isinstance(given, str):
        return given
    request = environ.get("werkzeug.request")  # a plain Werkzeug app's request, still there after it
    rule = getattr(getattr(request, "url_rule", None), "rule", None)
    if isinstance(rule, str):
        return join(environ.get("SCRIPT_NAME", ""), rule)
    return None


class _Closing:
    """The response body, passed through; ``done`` runs once when the server closes it (the end of the
    response, as PEP 3333 promises), or when iterating it fails."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]) -> None:
        self._body = body
        self._done = done
        self._reported = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            if not self._reported:
                self._reported = True
                self._done()
