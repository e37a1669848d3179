"""The middlewares with the real frameworks (Debian's python3-fastapi, -flask, -django): the matched
route's template, method, status and duration; unmatched requests; the trusted-proxy rule; a tracker
that fails never breaks the response. Skipped, saying why, where a framework is not installed."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import time
import unittest
from typing import Any, Dict, List

from usage_tracker import client_address, compile_trust

HAVE = {m: importlib.util.find_spec(m) is not None for m in ("fastapi", "starlette", "httpx", "flask", "django")}


class Recorder:
    def __init__(self) -> None:
        self.hits: List[Dict[str, Any]] = []

    def record(self, ip, endpoint, *, timestamp=None, method=None, status=None, duration_ms=None):
        self.hits.append(dict(ip=ip, endpoint=endpoint, timestamp=timestamp, method=method, status=status,
                              duration_ms=duration_ms))
        return True

    def endpoints(self):
        return [(h["method"], h["endpoint"], h["status"]) for h in self.hits]


class Broken:
    def record(self, *a, **k):
        raise RuntimeError("boom")


def asgi_get(app, paths, headers=None, client=("127.0.0.1", 5000), method="GET"):
    import httpx

    async def run():
        transport = httpx.ASGITransport(app=app, client=client, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as c:
            return [await c.request(method, p, headers=headers or {}) for p in paths]

    return asyncio.run(run())


@unittest.skipUnless(HAVE["fastapi"] and HAVE["httpx"], "python3-fastapi / python3-httpx not installed")
class FastAPIApps(unittest.TestCase):
    def app(self, tracker, **options):
        from fastapi import APIRouter, FastAPI, HTTPException

        from usage_tracker.asgi import UsageTrackingMiddleware

        app = FastAPI()
        app.add_middleware(UsageTrackingMiddleware, tracker=tracker, **options)

        @app.get("/users/{user_id}")
        def user(user_id: int):
            return {"id": user_id}

        @app.post("/orders", status_code=201)
        def order():
            return {"ok": True}

        @app.get("/fail")
        def fail():
            raise HTTPException(503, "down")

        @app.get("/crash")
        def crash():
            raise RuntimeError("bug")

        router = APIRouter()

        @router.get("/items/{item_id}/reviews")
        def reviews(item_id: str):
            time.sleep(0.02)
            return []

        app.include_router(router, prefix="/api")
        sub = FastAPI()

        @sub.get("/things/{thing_id:int}")
        def thing(thing_id: int):
            return {}

        app.mount("/v2", sub)
        return app

    def test_the_route_template_method_status_and_duration(self):
        tracker = Recorder()
        before = time.time()
        responses = asgi_get(self.app(tracker), ["/users/42?x=1", "/api/items/abc-123/reviews", "/v2/things/7",
                                                 "/fail", "/crash", "/nothing/here/7?q=1"])
        self.assertEqual([r.status_code for r in responses], [200, 200, 200, 503, 500, 404])
        responses = asgi_get(self.app(tracker), ["/orders"], method="POST")
        self.assertEqual(tracker.endpoints(), [
            ("GET", "/users/{user_id}", 200), ("GET", "/api/items/{item_id}/reviews", 200),
            ("GET", "/v2/things/{thing_id}", 200), ("GET", "/fail", 503), ("GET", "/crash", 500),
            ("GET", "/nothing/here/7", 404), ("POST", "/orders", 201)])
        self.assertTrue(all(h["ip"] == "127.0.0.1" for h in tracker.hits))
        self.assertTrue(all(before <= h["timestamp"] <= time.time() for h in tracker.hits))
        self.assertGreaterEqual(tracker.hits[1]["duration_ms"], 20)
        self.assertTrue(all(h["duration_ms"] >= 0 for h in tracker.hits))

    def test_unmatched_requests_can_be_skipped_and_so_can_chosen_ones(self):
        tracker = Recorder()
        asgi_get(self.app(tracker, skip_unmatched=True, skip=lambda scope: scope["path"] == "/orders"),
                 ["/nothing", "/users/1", "/orders"])
        self.assertEqual(tracker.endpoints(), [("GET", "/users/{user_id}", 200)])

    def test_x_forwarded_for_is_believed_only_from_trusted_proxies(self):
        xff = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
        trusting, plain = Recorder(), Recorder()
        asgi_get(self.app(trusting, trust_proxy="loopback"), ["/users/1"], headers=xff)
        asgi_get(self.app(plain), ["/users/1"], headers=xff)
        self.assertEqual(trusting.hits[0]["ip"], "203.0.113.9", "the nearest untrusted hop, not the leftmost entry")
        self.assertEqual(plain.hits[0]["ip"], "127.0.0.1")

    def test_a_tracker_that_raises_never_breaks_the_response(self):
        (r,) = asgi_get(self.app(Broken()), ["/users/5"])
        self.assertEqual((r.status_code, r.json()), (200, {"id": 5}))


@unittest.skipUnless(HAVE["starlette"] and HAVE["httpx"], "python3-starlette / python3-httpx not installed")
class StarletteApps(unittest.TestCase):
    def test_plain_starlette_routes_and_mounts_are_found_by_their_template(self):
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.responses import PlainTextResponse
        from starlette.routing import Mount, Route

        from usage_tracker.asgi import UsageTrackingMiddleware

        async def ok(request):
            return PlainTextResponse("ok")

        tracker = Recorder()
        app = Starlette(routes=[Route("/a/{x}", ok), Mount("/m/{tenant}", routes=[Route("/b/{y:int}", ok, methods=["PUT"])])],
                        middleware=[Middleware(UsageTrackingMiddleware, tracker=tracker)])
        asgi_get(app, ["/a/1", "/zzz"])
        asgi_get(app, ["/m/acme/b/2"], method="PUT")
        self.assertEqual(tracker.endpoints(), [("GET", "/a/{x}", 200), ("GET", "/zzz", 404), ("PUT", "/m/{tenant}/b/{y}", 200)])


@unittest.skipUnless(HAVE["flask"], "python3-flask not installed")
class FlaskApps(unittest.TestCase):
    def app(self, tracker, **options):
        from flask import Blueprint, Flask, abort

        from usage_tracker.wsgi import UsageTrackingMiddleware

        app = Flask(__name__)

        @app.get("/users/<int:user_id>")
        def user(user_id):
            return {"id": user_id}

        @app.post("/orders")
        def order():
            return {"ok": True}, 201

        @app.get("/fail")
        def fail():
            abort(503)

        @app.get("/stream")
        def stream():
            def chunks():
                time.sleep(0.02)
                yield b"a"
                yield b"b"
            return app.response_class(chunks())

        bp = Blueprint("api", __name__)

        @bp.get("/items/<item_id>/reviews")
        def reviews(item_id):
            return []

        app.register_blueprint(bp, url_prefix="/api")
        app.wsgi_app = UsageTrackingMiddleware(app.wsgi_app, tracker, **options)  # type: ignore[method-assign]
        return app

    def test_url_rule_method_status_and_duration(self):
        tracker = Recorder()
        c = self.app(tracker).test_client()
        # a WSGI server closes every response: the hit is taken then
        r = c.get("/users/42?x=1")
        r.close()
        self.assertEqual(r.status_code, 200)
        c.get("/api/items/abc/reviews").close()
        c.post("/orders").close()
        c.get("/fail").close()
        c.get("/nothing/here").close()
        c.get("/stream").close()
        self.assertEqual(tracker.endpoints(), [
            ("GET", "/users/<int:user_id>", 200), ("GET", "/api/items/<item_id>/reviews", 200), ("POST", "/orders", 201),
            ("GET", "/fail", 503), ("GET", "/nothing/here", 404), ("GET", "/stream", 200)])
        self.assertGreaterEqual(tracker.hits[-1]["duration_ms"], 20, "the body streamed before the hit was taken")
        self.assertTrue(all(h["ip"] == "127.0.0.1" for h in tracker.hits))

    def test_mounted_under_a_script_name_unmatched_skipped_and_proxies(self):
        tracker = Recorder()
        c = self.app(tracker, skip_unmatched=True, trust_proxy=["127.0.0.1"]).test_client()
        c.get("/users/1", base_url="http://localhost/svc",
              headers={"X-Forwarded-For": "203.0.113.4"}).close()
        c.get("/nope").close()
        self.assertEqual(tracker.endpoints(), [("GET", "/svc/users/<int:user_id>", 200)])
        self.assertEqual(tracker.hits[0]["ip"], "203.0.113.4")

    def test_a_tracker_that_raises_never_breaks_the_response(self):
        r = self.app(Broken()).test_client().get("/users/3")
        r.close()
        self.assertEqual((r.status_code, r.json), (200, {"id": 3}))


@unittest.skipUnless(HAVE["django"], "python3-django not installed")
class DjangoApps(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from django.conf import settings

        if not settings.configured:
            settings.configure(DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF="tests.unit.django_urls", SECRET_KEY="x" * 50,
                               MIDDLEWARE=["usage_tracker.django.UsageTrackingMiddleware"], USE_TZ=True, LOGGING_CONFIG=None)
            import django

            django.setup()

    def client(self, tracker, **options):
        from django.test import Client, override_settings

        self.override = override_settings(USAGE_TRACKER=tracker, USAGE_TRACKER_OPTIONS=options)
        self.override.enable()
        self.addCleanup(self.override.disable)
        return Client(raise_request_exception=False)

    def test_resolver_match_route_method_status_and_duration(self):
        tracker = Recorder()
        c = self.client(tracker)
        self.assertEqual(c.get("/users/42/").status_code, 200)
        c.get("/api/items/abc/reviews/")
        c.post("/orders/")
        c.get("/crash/")
        c.get("/archive/2024/")
        c.get("/nothing/here")
        self.assertEqual(tracker.endpoints(), [
            ("GET", "/users/<int:user_id>/", 200), ("GET", "/api/items/<str:item_id>/reviews/", 200),
            ("POST", "/orders/", 201), ("GET", "/crash/", 500), ("GET", "/archive/2024/", 200),
            ("GET", "/nothing/here", 404)])
        self.assertTrue(all(h["ip"] == "127.0.0.1" and h["duration_ms"] >= 0 for h in tracker.hits))

    def test_unmatched_skipped_and_trusted_proxies(self):
        tracker = Recorder()
        c = self.client(tracker, skip_unmatched=True, trust_proxy=1)
        c.get("/users/1/", HTTP_X_FORWARDED_FOR="203.0.113.8")
        c.get("/nothing")
        self.assertEqual([(h["endpoint"], h["ip"]) for h in tracker.hits], [("/users/<int:user_id>/", "203.0.113.8")])

    def test_a_tracker_that_raises_never_breaks_the_response(self):
        r = self.client(Broken()).get("/users/3/")
        self.assertEqual(r.status_code, 200)


class ClientAddress(unittest.TestCase):
    def test_walks_from_the_socket_peer_outwards_while_hops_are_trusted(self):
        xff = "198.51.100.1, 10.0.0.7, 10.0.0.8"
        self.assertEqual(client_address("10.0.0.9", xff, compile_trust(False)), "10.0.0.9")
        self.assertEqual(client_address("10.0.0.9", xff, compile_trust(True)), "198.51.100.1")
        self.assertEqual(client_address("10.0.0.9", xff, compile_trust(1)), "10.0.0.8")
        self.assertEqual(client_address("10.0.0.9", xff, compile_trust(3)), "198.51.100.1")
        self.assertEqual(client_address("10.0.0.9", xff, compile_trust(["10.0.0.0/8"])), "198.51.100.1")
        self.assertEqual(client_address("10.0.0.9", xff, compile_trust("10.0.0.9,10.0.0.8")), "10.0.0.7")
        self.assertEqual(client_address("203.0.113.5", xff, compile_trust("uniquelocal")), "203.0.113.5",
                         "an untrusted peer is the client")
        self.assertEqual(client_address("::ffff:10.0.0.9", "[2001:db8::5]:443", compile_trust("10.0.0.9")), "2001:db8::5")
        self.assertEqual(client_address("10.0.0.9", "garbage", compile_trust(True)), "10.0.0.9", "a malformed entry is not believed")
        self.assertEqual(client_address("10.0.0.9", ["198.51.100.1:8080", "10.0.0.8"], compile_trust(True)), "198.51.100.1")
        self.assertEqual(client_address("fe80::1%eth0", None, compile_trust(False)), "fe80::1")
        self.assertIsNone(client_address(None, xff, compile_trust(True)))
        self.assertIsNone(client_address("testclient", None, compile_trust(False)))
        with self.assertRaises(ValueError):
            compile_trust(["not-a-cidr"])
        with self.assertRaises(ValueError):
            compile_trust(-1)


if __name__ == "__main__":
    unittest.main()
