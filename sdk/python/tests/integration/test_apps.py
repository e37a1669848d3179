"""FastAPI under uvicorn, Flask and Django apps with the SDK's middlewares against the real local runtime:
every request served is counted exactly once, by route template, in /api/usage/daily and /endpoints —
also through 503s, a redis-server restart and a restart of the runtime on its port."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any, Callable, Dict, List, Tuple

from usage_tracker import Stats, UsageTracker

from . import live

REQUESTS = 3000
# (method, path, the route template the middleware reports, the status the app answers)
Kind = Tuple[str, Callable[[int], str], str, int]


def plan_for(kinds: List[Kind], n: int) -> Tuple[List[Tuple[str, str]], Dict[str, int], Dict[str, Dict[str, int]]]:
    plan, expected, statuses = [], Counter(), {}
    for i in range(n):
        method, path, template, status = kinds[[0, 0, 0, 0, 0, 1, 1, 2, 2, 3][i % 10]]
        plan.append((method, path(i)))
        expected[template] += 1
        klass = f"{status // 100}xx"
        statuses.setdefault(template, Counter())[klass] += 1
    return plan, dict(expected), statuses


def tracker_for(key: str, events: List[Any], **more: Any) -> UsageTracker:
    return UsageTracker(live.BASE, key, flush_interval=0.2, max_buffered_hits=100_000, on_event=events.append, **more)


def check(name: str, key: str, tracker: UsageTracker, served: int, expected: Dict[str, int],
          statuses: Dict[str, Dict[str, int]], started: float) -> Stats:
    tracker.close(timeout=120)
    s = tracker.stats()
    assert s.recorded == served, s
    assert (s.acknowledged, s.pending, s.dropped, s.rejected) == (served, 0, 0, 0), s
    counted = live.settle(key)
    assert counted == s.acknowledged == live.daily_total(key)
    live.assert_counted(key, expected, statuses)
    print(f"python sdk: {name}: {served} requests served, {s}, counted {counted} in {time.time() - started:.1f} s")
    return s


def fastapi_app(tracker: UsageTracker) -> Any:
    from fastapi import APIRouter, FastAPI

    from usage_tracker.asgi import UsageTrackingMiddleware

    app = FastAPI()
    app.add_middleware(UsageTrackingMiddleware, tracker=tracker)

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> Dict[str, int]:
        return {"id": user_id}

    @app.post("/orders", status_code=201)
    async def order() -> Dict[str, bool]:
        return {"ok": True}

    items = APIRouter()

    @items.get("/items/{item_id}/reviews")
    async def reviews(item_id: str) -> List[Any]:
        return []

    app.include_router(items, prefix="/api")
    return app


FASTAPI_KINDS: List[Kind] = [
    ("GET", lambda i: f"/users/{i}", "/users/{user_id}", 200),
    ("GET", lambda i: f"/api/items/sku-{i}/reviews", "/api/items/{item_id}/reviews", 200),
    ("POST", lambda i: "/orders", "/orders", 201),
    ("GET", lambda i: "/missing/page", "/missing/page", 404),
]


class Uvicorn:
    def __init__(self, app: Any) -> None:
        import uvicorn

        class Server(uvicorn.Server):
            def install_signal_handlers(self) -> None:  # not the main thread
                pass

        self.server = Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        sock = live.free_socket()
        self.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            assert time.time() < deadline, "uvicorn did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def test_fastapi_under_uvicorn_is_counted_exactly_by_route_template() -> None:
    started = time.time()
    _, key = live.register("py-fastapi")
    events: List[Any] = []
    tracker = tracker_for(key, events)
    server = Uvicorn(fastapi_app(tracker))
    plan, expected, statuses = plan_for(FASTAPI_KINDS, REQUESTS)
    try:
        answered = live.drive(server.base, plan)
    finally:
        server.stop()
    assert Counter(answered) == Counter({200: 2100, 201: 600, 404: 300})
    check("fastapi+uvicorn", key, tracker, REQUESTS, expected, statuses, started)


def flask_app(tracker: UsageTracker) -> Any:
    from flask import Blueprint, Flask

    from usage_tracker.wsgi import UsageTrackingMiddleware

    app = Flask(__name__)

    @app.get("/users/<int:user_id>")
    def user(user_id: int) -> Any:
        return {"id": user_id}

    @app.post("/orders")
    def order() -> Any:
        return {"ok": True}, 201

    items = Blueprint("items", __name__)

    @items.get("/items/<item_id>/reviews")
    def reviews(item_id: str) -> Any:
        return []

    app.register_blueprint(items, url_prefix="/api")
    app.wsgi_app = UsageTrackingMiddleware(app.wsgi_app, tracker)  # type: ignore[method-assign]
    return app


def run_wsgi(name: str, make_app: Callable[[UsageTracker], Any], kinds: List[Kind]) -> None:
    started = time.time()
    _, key = live.register("py-" + name)
    events: List[Any] = []
    tracker = tracker_for(key, events)
    base, stop = live.serve_wsgi(make_app(tracker))
    plan, expected, statuses = plan_for(kinds, REQUESTS)
    try:
        answered = live.drive(base, plan)
    finally:
        stop()
    assert Counter(answered) == Counter({200: 2100, 201: 600, 404: 300})
    check(name, key, tracker, REQUESTS, expected, statuses, started)


def test_flask_is_counted_exactly_by_url_rule() -> None:
    run_wsgi("flask", flask_app, [
        ("GET", lambda i: f"/users/{i}", "/users/<int:user_id>", 200),
        ("GET", lambda i: f"/api/items/sku-{i}/reviews", "/api/items/<item_id>/reviews", 200),
        ("POST", lambda i: "/orders", "/orders", 201),
        ("GET", lambda i: "/missing/page", "/missing/page", 404),
    ])


def django_app(tracker: UsageTracker) -> Any:
    import django
    from django.conf import settings

    settings.configure(DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF="tests.integration.django_urls", SECRET_KEY="s" * 50,
                       USE_TZ=True, MIDDLEWARE=["usage_tracker.django.UsageTrackingMiddleware"], USAGE_TRACKER=tracker,
                       LOGGING_CONFIG=None)
    django.setup()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def test_django_is_counted_exactly_by_resolver_match_route() -> None:
    run_wsgi("django", django_app, [
        ("GET", lambda i: f"/users/{i}/", "/users/<int:user_id>/", 200),
        ("GET", lambda i: f"/api/items/sku-{i}/reviews/", "/api/items/<str:item_id>/reviews/", 200),
        ("POST", lambda i: "/orders/", "/orders/", 201),
        ("GET", lambda i: "/missing/page", "/missing/page", 404),
    ])


def test_every_acknowledged_hit_is_counted_once_through_503s_a_redis_restart_and_a_runtime_restart() -> None:
    started = time.time()
    _, key = live.register("py-faults")
    events: List[Any] = []
    # the backoff's cap shortened from 30 s so that the test ends soon after the faults do
    tracker = tracker_for(key, events, backoff_cap=4, request_timeout=15)
    server = Uvicorn(fastapi_app(tracker))
    stop = threading.Event()
    served = Counter()
    totals = {"expected": Counter(), "statuses": {}}
    load_error: List[BaseException] = []

    def load() -> None:
        try:
            round_ = 0
            while not stop.is_set():
                plan, expected, statuses = plan_for(FASTAPI_KINDS, 100)
                answered = live.drive(server.base, plan, threads=4)
                served.update(answered)
                totals["expected"].update(expected)
                for template, by_class in statuses.items():
                    totals["statuses"].setdefault(template, Counter()).update(by_class)
                round_ += 1
                time.sleep(0.2)
        except BaseException as e:  # noqa: BLE001 - reported by the test below
            load_error.append(e)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        time.sleep(4)
        live.control("/fault/restart-redis")
        time.sleep(3)
        live.control("/fault/cut")  # neither SQS nor DynamoDB: ingest answers 503
        recorded_at_cut = tracker.stats().recorded
        time.sleep(5)
        acked = tracker.stats().acknowledged
        time.sleep(1)
        assert tracker.stats().acknowledged == acked, "nothing acknowledged while ingest cannot make hits durable"
        live.control("/fault/restore")
        recorded_at_restore = tracker.stats().recorded
        time.sleep(3)
        live.control("/fault/restart-runtime")
        time.sleep(4)
    finally:
        stop.set()
        loader.join(120)
        server.stop()
    assert not load_error, load_error
    total = sum(served.values())
    assert total == sum(totals["expected"].values()), served
    assert recorded_at_restore > recorded_at_cut, "the app served (and the SDK buffered) requests during the outage"
    s = check("faults", key, tracker, total, dict(totals["expected"]), totals["statuses"], started)
    retried_on = Counter(e.status for e in events if e.kind == "retrying")
    print(f"python sdk: faults: retries by status (None = network) {dict(retried_on)}; "
          f"events {dict(Counter(e.kind for e in events))}")
    assert 503 in retried_on and None in retried_on, retried_on
    assert s.retried > 0
    assert not [e for e in events if e.kind in ("halted", "rejected", "expired", "buffer-full")], events
