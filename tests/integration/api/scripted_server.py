"""A small scriptable HTTP server on 127.0.0.1 for the client's integration tests.

(Its own module rather than conftest.py so tests can import it by a name no other conftest shares.)

It runs uvicorn in a background thread for the whole session; each test gets it reset. A test
queues :class:`Reply` objects per path (served in order, then a default 200), can switch on a
sliding-window rate limit, and inspects :attr:`ScriptedServer.requests` afterwards.
Deliberately independent of ``geckolake.simulator`` (the client must not need it to be tested).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import uvicorn
from starlette.types import Receive, Scope, Send


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes | str | dict[str, object] | list[object] = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before answering (client timeouts)
    truncate: bool = False  # declare a Content-Length larger than the bytes sent, then close

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/html; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


@dataclass(frozen=True)
class SeenRequest:
    path: str
    query: str
    url: str
    headers: dict[str, str]
    at: float


class ScriptedServer:
    """State shared between the test (main thread) and the ASGI app (server thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.base_url = ""
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._scripts: dict[str, deque[Reply]] = {}
            self.requests: list[SeenRequest] = []
            self.rejected = 0
            self._window: tuple[int, float] | None = None
            self._accepted: deque[float] = deque()

    def script(self, path: str, *replies: Reply) -> None:
        """Serve ``replies`` in order for ``path`` (relative to /api/v3), then the default 200."""
        with self._lock:
            self._scripts.setdefault("/api/v3" + path, deque()).extend(replies)

    def enforce_rate(self, limit: int, window_s: float) -> None:
        """Answer 429 when more than ``limit`` requests would fall in any ``window_s`` window."""
        with self._lock:
            self._window = (limit, window_s)

    def _next_reply(self, scope: Scope) -> Reply:
        now = time.monotonic()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope["query_string"].decode("latin-1")
        url = f"{scope['path']}?{query}" if query else scope["path"]
        with self._lock:
            self.requests.append(SeenRequest(scope["path"], query, url, headers, now))
            if self._window is not None:
                limit, window_s = self._window
                while self._accepted and self._accepted[0] <= now - window_s:
                    self._accepted.popleft()
                if len(self._accepted) >= limit:
                    self.rejected += 1
                    wait = self._accepted[0] + window_s - now
                    return Reply(
                        429,
                        {"status": {"error_code": 429, "error_message": "You've exceeded the Rate Limit."}},
                        {"retry-after": str(max(1, round(wait)))},
                    )
                self._accepted.append(now)
            queue = self._scripts.get(scope["path"])
            if queue:
                return queue.popleft()
        return Reply(200, {"ok": True, "path": scope["path"], "query": query})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        reply = self._next_reply(scope)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        body, content_type = reply.encoded()
        length = len(body) * 2 + 100 if reply.truncate else len(body)
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(length).encode())]
        headers += [(k.encode(), v.encode()) for k, v in reply.headers.items()]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        if reply.truncate:
            # Send part of the body, then fail: uvicorn drops the connection mid-body.
            await send({"type": "http.response.body", "body": body, "more_body": True})
            raise RuntimeError("scripted truncation")
        await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def serving() -> Iterator[ScriptedServer]:
    """Run a :class:`ScriptedServer` on a free port of 127.0.0.1 until the block ends."""
    app = ScriptedServer()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="critical", http="h11", lifespan="on", timeout_graceful_shutdown=1, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    app.base_url = f"http://127.0.0.1:{port}/api/v3"
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
