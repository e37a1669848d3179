"""ASGI middleware (Starlette, FastAPI): records every HTTP request once it is answered, under the
matched route's path template (``/users/{user_id}``, mount prefixes included), with its method, status
and duration; a request no route matched under its path (or skipped: ``skip_unmatched=True``).

    app = FastAPI()
    app.add_middleware(UsageTrackingMiddleware, tracker=tracker)
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable, Dict, MutableMapping, Optional

from ._middleware import Options, Recorder, join, report
from .client_address import TrustProxy

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["UsageTrackingMiddleware"]


class UsageTrackingMiddleware:
    def __init__(self, app: ASGIApp, tracker: Recorder, *, trust_proxy: Optional[TrustProxy] = None,
                 skip_unmatched: bool = False, skip: Optional[Callable[[Scope], bool]] = None,
                 endpoint: Optional[Callable[[Scope], Optional[str]]] = None) -> None:
        self.app = app
        self.tracker = tracker
        self.options = Options(trust_proxy, skip_unmatched, skip, endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.time()
        started = time.perf_counter()
        # the router updates the scope in place (route, root_path of mounts, endpoint): keep what it was
        before = {"path": scope.get("path", "/"), "root_path": scope.get("root_path", ""),
                  "method": scope.get("method", "GET"), "type": "http"}
        state: Dict[str, Any] = {"status": None, "ended": None}

        async def send_and_watch(message: Message) -> None:
            if message.get("type") == "http.response.start":
                state["status"] = message.get("status")
            elif message.get("type") == "http.response.body" and not message.get("more_body", False):
                state["ended"] = time.perf_counter()
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        except BaseException:
            if state["status"] is None:
                state["status"] = 500
            raise
        finally:
            ended = state["ended"] or time.perf_counter()
            try:
                route = route_template(scope, before)
                client = scope.get("client")
                peer = client[0] if client else None
                forwarded = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k.lower() == b"x-forwarded-for"]
                report(self.tracker, self.options, scope, peer, forwarded or None, route, before["path"],
                       before["method"], state["status"], arrived, (ended - started) * 1000)
            except Exception:
                pass


def route_template(scope: Scope, before: Dict[str, Any]) -> Optional[str]:
    """The matched route's template: FastAPI puts the route in the scope; plain Starlette only the endpoint,
    so its router's routes are matched again (the way the router did) to find it."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str):
        root = scope.get("root_path", "")
        prefix = root[len(before["root_path"]):] if root.startswith(before["root_path"]) else ""
        return join(prefix, template)
    if scope.get("endpoint") is None:
        return None
    router = scope.get("router")
    routes = getattr(router, "routes", None)
    if routes is None:
        return None
    return _match(routes, dict(before), 0)


def _match(routes: Any, scope: Dict[str, Any], depth: int) -> Optional[str]:
    if depth > 8:
        return None
    try:
        from starlette.routing import Match, Mount
    except ImportError:  # pragma: no cover - only Starlette puts "router" in the scope
        return None
    for route in routes:
        try:
            match, child = route.matches(scope)
        except Exception:
            continue
        if match != Match.FULL:
            continue
        if isinstance(route, Mount):
            inner = dict(scope)
            inner.update(child)
            if "path" not in child:  # newer Starlette keeps the full path and moves root_path only
                inner["path"] = scope["path"][len(child.get("root_path", "")) - len(scope.get("root_path", "")):]
            below = _match(route.routes, inner, depth + 1)
            return join(route.path, below) if below else None
        template = getattr(route, "path_format", None)
        return template if isinstance(template, str) else None
    return None
