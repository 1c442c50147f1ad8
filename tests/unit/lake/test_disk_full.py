"""A full disk is recognised however the library below says it, and nothing else is mistaken for one."""

from __future__ import annotations

import errno
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy.exc

from geckolake.errors import DiskFull, LakeError, disk_full


def _raised_from(cause: BaseException) -> LakeError:
    try:
        raise LakeError("commit failed") from cause
    except LakeError as e:
        return e


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EDQUOT, "Disk quota exceeded"),
        OSError(errno.EFBIG, "File too large"),
        # PyArrow's writer: errno not set on the Python exception, only in its text
        OSError("[Errno 28] Error writing bytes to file. Detail: [errno 28] No space left on device"),
        # SQLite through SQLAlchemy (the catalog's commit)
        sqlalchemy.exc.OperationalError("UPDATE x", {}, sqlite3.OperationalError("database or disk is full")),
        _raised_from(OSError(errno.ENOSPC, "No space left on device")),
    ],
)
def test_recognised(error: BaseException) -> None:
    full = disk_full(error, "/data/lake")
    assert isinstance(full, DiskFull) and isinstance(full, LakeError)
    assert str(full).startswith("the disk holding the lake /data/lake is full (")
    assert "free some space" in str(full)


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EACCES, "Permission denied"),
        FileNotFoundError(errno.ENOENT, "No such file or directory"),
        ValueError("bad value"),
        sqlalchemy.exc.OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked")),
    ],
)
def test_not_mistaken(error: BaseException) -> None:
    assert disk_full(error, "/data/lake") is None


def test_a_real_file_size_limit_is_recognised(tmp_path: Path) -> None:
    """EFBIG from the kernel, through PyArrow's Parquet writer, in a child with a 64 kB file-size limit."""
    script = (
        "import resource, numpy as np, pyarrow as pa, pyarrow.parquet as pq\n"
        "from geckolake.errors import disk_full\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))\n"
        "try:\n"
        f"    pq.write_table(pa.table({{'x': np.random.rand(100000)}}), {str(tmp_path)!r} + '/big.parquet')\n"
        "except Exception as e:\n"
        "    print(type(disk_full(e)).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "DiskFull", out.stdout + out.stderr
