"""usage-tracker client: report the hits your Python service serves, in batches, exactly once.

    from usage_tracker import UsageTracker
    tracker = UsageTracker("https://usage.example.com", api_key)
    tracker.record(client_ip, "/users/{id}", method="GET", status=200, duration_ms=12.5)
    tracker.close()

Middlewares: ``usage_tracker.asgi`` (Starlette, FastAPI), ``usage_tracker.wsgi`` (Flask and any WSGI app),
``usage_tracker.django``.
"""

from ._wire import FieldError, Problem
from .client_address import TrustProxy, client_address, compile_trust
from .tracker import MAX_BATCH_BYTES, MAX_BATCH_SIZE, VERSION, Event, Stats, UsageTracker

__version__ = VERSION
__all__ = [
    "UsageTracker",
    "Stats",
    "Event",
    "Problem",
    "FieldError",
    "TrustProxy",
    "client_address",
    "compile_trust",
    "MAX_BATCH_SIZE",
    "MAX_BATCH_BYTES",
]
