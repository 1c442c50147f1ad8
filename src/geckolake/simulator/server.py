"""Run the simulator: in a background thread for tests (:func:`running_simulator`) or blocking
for the CLI (:func:`serve`)."""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from geckolake.errors import ConfigError
from geckolake.simulator.app import SimulatorApp, create_app
from geckolake.simulator.config import SimulatorConfig

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn server that wakes simulated hangs on shutdown and announces itself once listening."""

    def __init__(self, config: uvicorn.Config, state: SimulatorApp, announce: str | None) -> None:
        super().__init__(config)
        self._state = state
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self._announce is not None and self.started:
            print(self._announce, flush=True)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._state.shutdown.set()  # a "timeout" fault must not hold shutdown for 35 s
        await super().shutdown(sockets)


def _bind(cfg: SimulatorConfig) -> socket.socket:
    try:
        sock = socket.create_server((cfg.host, cfg.port), reuse_port=False)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {cfg.host}:{cfg.port}: {exc}", hint="pick another --port (0 = any free port)"
        ) from exc
    # Nagle + delayed ACK would add ~40 ms to small answers sent as header and body writes.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _make(cfg: SimulatorConfig, announce: bool) -> tuple[_Server, socket.socket, str]:
    sock = _bind(cfg)
    host, port = sock.getsockname()[:2]
    url = f"http://{host}:{port}/api/v3"
    app = create_app(cfg)
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="critical" if cfg.quiet else "warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
    )
    server = _Server(config, app.state.simulator, f"simulator listening on {url}" if announce else None)
    return server, sock, url


@contextmanager
def running_simulator(cfg: SimulatorConfig) -> Iterator[str]:
    """Start the simulator in a background thread; yield its base URL (``.../api/v3``); stop on exit.

    Raises:
        ConfigError: the address cannot be bound or the server did not start.
    """
    server, sock, url = _make(cfg, announce=False)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="geckolake-simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise ConfigError("the simulator did not start", hint="run `geckolake simulator` to see its error")
        time.sleep(0.005)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve(cfg: SimulatorConfig) -> None:
    """Serve until SIGINT/SIGTERM; print ``simulator listening on <url>`` once accepting.

    Raises:
        ConfigError: the address cannot be bound.
    """
    server, sock, _ = _make(cfg, announce=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        sys.stdout.flush()
