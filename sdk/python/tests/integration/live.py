"""The real local runtime, as the integration tests use it: register a client, read its counts, ask the
JUnit side (PythonSdkIT's control endpoint) to break things or to wait until the queue has drained."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import threading
import urllib.parse
import urllib.request
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from socketserver import ThreadingMixIn

BASE = os.environ.get("USAGE_TRACKER_BASE_URL", "")
CONTROL = os.environ.get("USAGE_TRACKER_CONTROL_URL", "")


def call(method: str, url: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
         timeout: float = 60) -> Tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            text = r.read().decode()
            return r.status, json.loads(text) if text.startswith(("{", "[")) else text
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        return e.code, json.loads(text) if text.startswith(("{", "[")) else text


def register(prefix: str) -> Tuple[str, str]:
    client_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
    status, body = call("POST", BASE + "/api/register", {"name": client_id, "email": f"{client_id}@py.example", "client_id": client_id})
    assert status == 201, body
    return client_id, body["api_key"]


def token(api_key: str) -> str:
    status, body = call("POST", BASE + "/api/token", headers={"X-API-Key": api_key})
    assert status == 200, body
    return body["access_token"]


def daily_total(api_key: str) -> int:
    status, body = call("GET", BASE + "/api/usage/daily?days=2", headers={"Authorization": "Bearer " + token(api_key)})
    assert status == 200, body
    assert len(body["clients"]) == 1, body
    return body["clients"][0]["total"]


def endpoints(api_key: str) -> Dict[str, Any]:
    status, body = call("GET", BASE + "/api/usage/endpoints?days=2&limit=100", headers={"Authorization": "Bearer " + token(api_key)})
    assert status == 200, body
    return body


def control(what: str) -> str:
    status, body = call("POST", CONTROL + what, timeout=240)
    assert status == 200, (what, body)
    return body


def settle(api_key: str) -> int:
    """Waits until the runtime's queue has drained and the client's count holds still; returns it."""
    status, body = call("GET", CONTROL + "/settle?api_key=" + urllib.parse.quote(api_key), timeout=240)
    assert status == 200, body
    return int(body)


_FRAMEWORK_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}|<(?:[A-Za-z_][A-Za-z0-9_]*:)?([A-Za-z_][A-Za-z0-9_]*)>|:([A-Za-z_][A-Za-z0-9_]*)")


def canonical(template: str) -> str:
    """The route as a service with contract v1.2 names it: every framework's parameter syntax as {name}."""
    return _FRAMEWORK_PARAM.sub(lambda m: "{" + (m.group(1) or m.group(2) or m.group(3)) + "}", template)


def assert_counted(api_key: str, expected: Dict[str, int], statuses: Optional[Dict[str, Dict[str, int]]] = None) -> None:
    """/endpoints names each template (as sent, or canonicalised by a v1.2 service) with exactly its count."""
    body = endpoints(api_key)
    rows = {row["endpoint"]: row for row in body["endpoints"]}
    seen = {}
    for template, count in expected.items():
        names = [n for n in {template, canonical(template)} if n in rows]
        assert len(names) == 1, (template, sorted(rows))
        seen[template] = rows[names[0]]["count"]
        if statuses and "statuses" in rows[names[0]]:
            for klass, n in statuses.get(template, {}).items():
                assert rows[names[0]]["statuses"][klass] == n, (template, rows[names[0]])
    assert seen == expected, (seen, expected)
    assert body["other"] == 0 and body["total"] == sum(expected.values()), body
    assert len(rows) == len(expected), sorted(rows)


def free_socket() -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    return s


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


def serve_wsgi(app: Callable) -> Tuple[str, Callable[[], None]]:
    """A threaded stdlib WSGI server on a free port (it closes every response, as PEP 3333 asks)."""
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_address[1]}", stop


def drive(base: str, plan: List[Tuple[str, str]], threads: int = 8) -> List[int]:
    """Sends each (method, path) of the plan once, from several threads; returns the statuses."""
    parsed = urllib.parse.urlsplit(base)
    statuses: List[int] = [0] * len(plan)
    lock = threading.Lock()
    position = [0]

    def worker() -> None:
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        while True:
            with lock:
                i = position[0]
                position[0] += 1
            if i >= len(plan):
                break
            method, path = plan[i]
            # no retry: a request that may have been served must not be sent twice (the counts are exact)
            conn.request(method, path, body=b"" if method == "POST" else None)
            r = conn.getresponse()
            r.read()
            statuses[i] = r.status
            if r.will_close:
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        conn.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return statuses
