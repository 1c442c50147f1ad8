"""Settings tests start from a clean slate."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable of the caller's shell and no ./geckolake.toml leak into a test."""
    for name in list(os.environ):
        if name.startswith(("GECKOLAKE_", "COINGECKO_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
