"""sdk/python/README.md's FastAPI, Flask and Django examples run as written: each file is written out,
started with the command in its first line (uvicorn, flask run, manage-style runserver) against a stub
of the service, sent a request, and stopped with Ctrl-C; the stub must have received the hit under the
route template with method, status and duration."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List

README = Path(__file__).resolve().parents[2] / "README.md"
SRC = Path(__file__).resolve().parents[2] / "src"
EXAMPLE = re.compile(r"<!-- example: (\w+) (\S+) -->\n```python\n(.*?)```", re.S)


class Stub:
    """POST /api/logs answered 202, the hits kept."""

    def __init__(self) -> None:
        self.hits: List[Dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/api/logs" and self.headers.get("X-API-Key") == "ut_readme_key":
                    stub.hits.extend(json.loads(body)["hits"])
                    self.send_response(202)
                else:
                    self.send_response(401)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def examples() -> Dict[str, Any]:
    return {m.group(1): (m.group(2), m.group(3)) for m in EXAMPLE.finditer(README.read_text())}


class ReadmeExamples(unittest.TestCase):
    def test_the_readme_has_the_three_examples(self):
        self.assertEqual(sorted(examples()), ["django", "fastapi", "flask"])

    def run_example(self, name: str, port_args: List[str], path: str, template: str) -> None:
        filename, code = examples()[name]
        command = re.search(r"run: (?:\S+=\S+ )*(.+)$", code.splitlines()[0]).group(1)
        argv = shlex.split(command)
        if argv[0] in ("uvicorn", "flask"):
            argv = [sys.executable, "-m", argv[0]] + argv[1:]
        elif argv[0] == "python3":
            argv = [sys.executable] + argv[1:]
        port = free_port()
        stub = Stub()
        self.addCleanup(stub.close)
        with tempfile.TemporaryDirectory() as directory:
            Path(directory, filename).write_text(code)
            env = dict(os.environ, USAGE_TRACKER_URL=stub.url, USAGE_TRACKER_API_KEY="ut_readme_key",
                       PYTHONPATH=str(SRC), PYTHONDONTWRITEBYTECODE="1")
            server = subprocess.Popen(argv + [a.format(port=port) for a in port_args], cwd=directory, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            try:
                deadline = time.time() + 60
                while True:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                            self.assertEqual(r.status, 200)
                            break
                    except OSError:
                        self.assertIsNone(server.poll(), server.stdout.read().decode() if server.poll() is not None else "")
                        self.assertLess(time.time(), deadline, "the example did not start")
                        time.sleep(0.2)
                # the server takes the hit when it closes the response, just after the client has it
                time.sleep(1)
            finally:
                server.send_signal(signal.SIGINT)  # Ctrl-C: the shutdown hook or atexit closes the tracker
                try:
                    output = server.communicate(timeout=30)[0].decode()
                except subprocess.TimeoutExpired:
                    server.kill()
                    output = server.communicate()[0].decode()
        self.assertEqual(len(stub.hits), 1, output)
        hit = stub.hits[0]
        self.assertEqual((hit["ip"], hit["endpoint"], hit["method"], hit["status"]), ("127.0.0.1", template, "GET", 200), output)
        self.assertGreaterEqual(hit["duration_ms"], 0)

    @unittest.skipUnless(importlib.util.find_spec("fastapi") and importlib.util.find_spec("uvicorn"), "python3-fastapi/-uvicorn missing")
    def test_fastapi(self):
        self.run_example("fastapi", ["--port", "{port}"], "/users/7", "/users/{user_id}")

    @unittest.skipUnless(importlib.util.find_spec("flask"), "python3-flask missing")
    def test_flask(self):
        self.run_example("flask", ["--port", "{port}"], "/users/7", "/users/<int:user_id>")

    @unittest.skipUnless(importlib.util.find_spec("django"), "python3-django missing")
    def test_django(self):
        self.run_example("django", ["127.0.0.1:{port}", "--noreload"], "/users/7/", "/users/<int:user_id>/")


if __name__ == "__main__":
    unittest.main()
