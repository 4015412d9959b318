"""``app.http``: a small HTTP client bound to the in-process host, over real HTTP/1.1.

The standard library's ``http.client`` on one keep-alive connection per thread: a request
costs a round trip on loopback and no connection set-up, and nothing beyond the standard
library is needed. Any other client (requests, httpx) works too, with ``app.url(path)``.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlencode

# A keep-alive connection the server closed while it sat idle fails on its next use with one
# of these, before the request reached a function: sending it again on a new one is safe.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


@dataclass(frozen=True)
class Response:
    """What the host answered: status, headers (case-insensitive ``get``) and the body."""

    status: int
    reason: str
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        """The body decoded with the Content-Type's charset, UTF-8 without one."""
        charset = self.headers.get_content_charset() or "utf-8"
        return self.body.decode(charset, errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonlib.loads(self.body)


class HttpClient:
    """Requests to one host: ``get``, ``post``, ``put``, ``patch``, ``delete``, ``head``, …

    ``path`` is what follows the port (``/api/hello?name=x``); ``params`` adds a query,
    ``json`` sends a JSON body with its Content-Type, ``body`` sends text or bytes.
    """

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[http.client.HTTPConnection] = []

    def request(
        self,
        method: str,
        path: str,
        *,
        body: str | bytes | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Response:
        """Send one request and read the whole answer."""
        sent_headers = dict(headers or {})
        data = body.encode() if isinstance(body, str) else body
        if json is not None:
            data = jsonlib.dumps(json).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        target = _target(path, params)
        connection = self._connection()
        reused = connection.sock is not None
        try:
            return self._exchange(connection, method, target, data, sent_headers)
        except _STALE:
            if not reused:
                raise
        return self._exchange(self._connection(), method, target, data, sent_headers)

    def get(self, path: str, **kwargs: Any) -> Response:
        """GET ``path``."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Response:
        """POST ``path``."""
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Response:
        """PUT ``path``."""
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Response:
        """PATCH ``path``."""
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        """DELETE ``path``."""
        return self.request("DELETE", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> Response:
        """HEAD ``path``."""
        return self.request("HEAD", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> Response:
        """OPTIONS ``path``."""
        return self.request("OPTIONS", path, **kwargs)

    def close(self) -> None:
        """Close every connection this client opened, in any thread."""
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        target: str,
        data: bytes | None,
        headers: dict[str, str],
    ) -> Response:
        try:
            connection.request(method, target, body=data, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
        except BaseException:
            self._drop()  # part of a request or answer is on the wire: the connection is done
            raise
        if answer.will_close:
            self._drop()
        return Response(answer.status, answer.reason, answer.headers, content)

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = _Connection(self.host, self.port, timeout=self.timeout)
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    def _drop(self) -> None:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()
            with self._lock:
                if connection in self._opened:
                    self._opened.remove(connection)


class _Connection(http.client.HTTPConnection):
    """With Nagle off: a request's last segment must not wait for the previous one's ACK."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _target(path: str, params: Mapping[str, str] | None) -> str:
    target = path if path.startswith("/") else f"/{path}"
    if params:
        target += ("&" if "?" in target else "?") + urlencode(params)
    return target
