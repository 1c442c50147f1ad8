"""The writer lock: exclusive, non-blocking, with the holder's pid in the message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geckolake.errors import LakeLocked
from geckolake.lake.lock import LOCK_NAME, writer_lock


def test_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    with writer_lock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())
        with (
            pytest.raises(LakeLocked, match=rf"another geckolake run is writing .* \(pid {os.getpid()}\)"),
            writer_lock(tmp_path),
        ):
            pass
    with writer_lock(tmp_path):  # released: can be taken again
        pass


def test_lock_creates_the_folder(tmp_path: Path) -> None:
    with writer_lock(tmp_path / "new" / "lake"):
        assert (tmp_path / "new" / "lake" / LOCK_NAME).exists()
