"""The CLI's fast exit (``geckolake.cli._end``) does what Python's own exit would, then ends the process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import atexit, sys, tempfile, threading, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

out = Path(sys.argv[1])
pool = ThreadPoolExecutor(max_workers=2)  # idle, non-daemon workers: told to stop, not waited on forever
pool.submit(time.sleep, 0).result()
done = []
worker = threading.Thread(target=lambda: (time.sleep(0.2), done.append(1)))  # still working at exit
worker.start()
folder = tempfile.TemporaryDirectory()  # removed by its finalizer at exit
(out / "folder").write_text(folder.name)
atexit.register(lambda: (out / "atexit").write_text(f"worker done: {bool(done)}"))
sys.stdout.write("no newline yet")  # buffered: must still be flushed
from geckolake.cli import _end
_end(CODE)
"""


@pytest.mark.parametrize(("code", "status"), [("0", 0), ("None", 0), ("3", 3), ("130", 130)])
def test_end_joins_threads_runs_exit_handlers_and_flushes(tmp_path: Path, code: str, status: int) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT.replace("CODE", code), str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == status, proc.stderr
    assert proc.stdout == "no newline yet"
    assert (tmp_path / "atexit").read_text() == "worker done: True"
    assert not Path((tmp_path / "folder").read_text()).exists()


def test_end_with_a_message_prints_it_and_exits_1(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT.replace("CODE", "'stopped: why'"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == "stopped: why"
