"""Real local servers for the operations tests: a webhook listener and a corrupting API proxy."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


class Listener:
    """Collects JSON bodies POSTed to it (a stand-in for a Slack incoming webhook)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.url = ""
        self.event = threading.Event()


@contextmanager
def webhook_listener(status: int = 200) -> Iterator[Listener]:
    listener = Listener()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            listener.bodies.append(json.loads(body))
            listener.event.set()
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    listener.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/B000/secret-token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        server.shutdown()
        server.server_close()


Mutator = Callable[[str, Any], Any]


@contextmanager
def proxy(upstream: str, mutate: Mutator) -> Iterator[str]:
    """An HTTP proxy to ``upstream`` (".../api/v3") passing each JSON body through ``mutate(path, body)``."""
    client = httpx.Client(timeout=30)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.removeprefix("/api/v3")
            resp = client.get(
                upstream + path, headers={k: v for k, v in self.headers.items() if k.lower().startswith("x-")}
            )
            body = resp.content
            if resp.status_code == 200:
                body = json.dumps(mutate(path.split("?")[0], json.loads(body))).encode()
            self.send_response(resp.status_code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    finally:
        server.shutdown()
        server.server_close()
        client.close()


def corrupt_markets(path: str, body: Any) -> Any:
    """Negative prices for three coins and the first coin listed twice, on every markets page."""
    if path == "/coins/markets" and isinstance(body, list) and body:
        for coin in body[:3]:
            coin["current_price"] = -abs(coin["current_price"] or 1.0)
        body.append(dict(body[0]))
    return body
