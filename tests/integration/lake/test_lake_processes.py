"""Across processes: one writer at a time; readers are never blocked by the writer lock."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from geckolake.errors import LakeLocked
from geckolake.lake.catalog import open_lake
from geckolake.lake.lock import writer_lock

HOLDER = """
import sys, time
from pathlib import Path
from geckolake.lake.lock import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_second_process_is_refused_while_first_writes(tmp_path: Path) -> None:
    lake = open_lake(tmp_path / "lake")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lake.root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LakeLocked, match=rf"pid {holder.pid}\)") as info, writer_lock(lake.root):
            pass
        assert "readers" in info.value.hint
        # readers work while the writer holds the lock
        con = lake.connect_duckdb()
        assert con.execute("SELECT count(*) FROM silver.price_history").fetchone() == (0,)
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    with writer_lock(lake.root):
        pass


def test_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.wait()
    deadline = time.monotonic() + 5
    while True:
        try:
            with writer_lock(tmp_path):
                break
        except LakeLocked:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
