"""Django middleware: records every request under its URL pattern (``request.resolver_match.route``,
e.g. ``/users/<int:user_id>/``, includes joined), with its method, status and duration; a request no
pattern matched under its path (or skipped). Regular-expression patterns (``re_path``) are reported by
path, which the service turns into a template itself.

settings.py::

    from usage_tracker import UsageTracker
    USAGE_TRACKER = UsageTracker(os.environ["USAGE_TRACKER_URL"], os.environ["USAGE_TRACKER_API_KEY"])
    USAGE_TRACKER_OPTIONS = {"trust_proxy": "uniquelocal", "skip_unmatched": False}
    MIDDLEWARE = ["usage_tracker.django.UsageTrackingMiddleware", ...]   # first: it sees every response
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from ._middleware import Options, Recorder, join, report

__all__ = ["UsageTrackingMiddleware"]


class UsageTrackingMiddleware:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[Any], Any], tracker: Optional[Recorder] = None,
                 **options: Any) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        self.get_response = get_response
        self.tracker = tracker if tracker is not None else getattr(settings, "USAGE_TRACKER", None)
        if self.tracker is None or not hasattr(self.tracker, "record"):
            raise ImproperlyConfigured("usage_tracker.django: set USAGE_TRACKER in settings to a UsageTracker")
        configured = dict(getattr(settings, "USAGE_TRACKER_OPTIONS", {}) or {})
        configured.update(options)
        self.options = Options(**configured)

    def __call__(self, request: Any) -> Any:
        arrived = time.time()
        started = time.perf_counter()
        status: Optional[int] = 500
        try:
            response = self.get_response(request)
            status = getattr(response, "status_code", None)
            return response
        finally:
            try:
                meta = request.META
                report(self.tracker, self.options, request, meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR"),
                       route_template(request), request.path, request.method, status, arrived,
                       (time.perf_counter() - started) * 1000)
            except Exception:
                pass


def route_template(request: Any) -> Optional[str]:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    route = getattr(match, "route", None)
    if not isinstance(route, str) or route.startswith("^") or "(?P<" in route:
        return request.path  # matched, but by a regular expression: the path, templated by the service
    return join(request.META.get("SCRIPT_NAME", "") or "", "/" + route)
