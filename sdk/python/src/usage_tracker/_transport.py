"""One HTTP POST at a time over a kept-alive connection, with the standard library only (http.client):
no redirects are followed, so a hit is never posted somewhere the caller did not name."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Dict, Optional, Protocol
from urllib.parse import urlsplit

MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Response:
    status: int
    headers: Dict[str, str]  # names in lower case
    body: str


class Transport(Protocol):
    def post(self, headers: Dict[str, str], body: bytes, timeout: float) -> Response: ...

    def abort(self) -> None: ...


class HttpTransport:
    """``POST <base>/api/logs``. A request that fails on a connection kept from an earlier one is tried
    once more on a fresh connection at once (the server may have closed it while idle); any other failure
    is the caller's to retry, with the same Idempotency-Key."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http(s) URL")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = parts.path or "/"
        self._context = ssl.create_default_context() if self._https else None
        self._conn: Optional[http.client.HTTPConnection] = None
        self._lock = threading.Lock()

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._context)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def post(self, headers: Dict[str, str], body: bytes, timeout: float) -> Response:
        with self._lock:
            conn = self._conn
            reused = conn is not None
            if conn is None:
                conn = self._conn = self._connect(timeout)
        try:
            return self._exchange(conn, headers, body, timeout)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, http.client.BadStatusLine):
            self._discard(conn)
            if not reused:
                raise
        except BaseException:
            self._discard(conn)
            raise
        with self._lock:
            conn = self._conn = self._connect(timeout)
        try:
            return self._exchange(conn, headers, body, timeout)
        except BaseException:
            self._discard(conn)
            raise

    def _exchange(self, conn: http.client.HTTPConnection, headers: Dict[str, str], body: bytes, timeout: float) -> Response:
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        conn.request("POST", self._path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read(MAX_RESPONSE_BYTES + 1)
        if len(data) > MAX_RESPONSE_BYTES or response.will_close:
            self._discard(conn)
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()},
                        data[:MAX_RESPONSE_BYTES].decode("utf-8", "replace"))

    def _discard(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if self._conn is conn:
                self._conn = None
        try:
            conn.close()
        except OSError:
            pass

    def abort(self) -> None:
        """Ends a request in flight from another thread (close's deadline): its read fails at once."""
        with self._lock:
            conn = self._conn
            self._conn = None
        sock = getattr(conn, "sock", None) if conn is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def forget(self) -> None:
        """After fork: the connection belongs to the parent; the child neither uses nor shuts it down."""
        with self._lock:
            self._conn = None
        self._lock = threading.Lock()
