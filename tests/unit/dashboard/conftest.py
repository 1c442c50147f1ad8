"""Streamlit's AppTest runs each page as ``__main__`` and leaves it installed: restore the real one, or
a later test in this worker that spawns processes (replay's parse workers re-import ``__main__``)
would run a deleted page script."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _keep_main() -> Iterator[None]:
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
