"""Fixtures for the client's integration tests: one scripted server per session, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scripted_server import ScriptedServer, serving


@pytest.fixture(scope="session")
def _running_server() -> Iterator[ScriptedServer]:
    with serving() as app:
        yield app


@pytest.fixture
def server(_running_server: ScriptedServer) -> ScriptedServer:
    _running_server.reset()
    return _running_server
