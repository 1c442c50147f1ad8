"""One writer per lake: an exclusive, non-blocking ``flock`` on ``<lake>/.writer.lock`` (and one
scheduler per lake on ``<lake>/.scheduler.lock``).

Readers (``geckolake sql``, ``tables``, the dashboard) never take it: Iceberg commits are atomic,
so a reader always sees a whole snapshot. The kernel releases the lock when the holder dies, so a
``kill -9`` never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geckolake.errors import LakeError, LakeLocked

LOCK_NAME = ".writer.lock"
SCHEDULER_LOCK_NAME = ".scheduler.lock"


@contextmanager
def writer_lock(lake_root: Path) -> Iterator[None]:
    """Hold the lake's writer lock for the duration of the ``with`` block.

    Raises:
        LakeLocked: another process holds the lock (its pid is in the message).
        LakeError: the lock file cannot be created (folder missing or unwritable).
    """
    with exclusive(
        Path(lake_root) / LOCK_NAME,
        f"another geckolake run is writing {lake_root}",
        "wait for it to finish, or stop it; readers such as `geckolake sql` work meanwhile",
    ):
        yield


@contextmanager
def scheduler_lock(lake_root: Path) -> Iterator[None]:
    """One ``geckolake schedule`` per lake: hold ``<lake>/.scheduler.lock`` for the ``with`` block.

    Raises:
        LakeLocked: a scheduler already runs for this lake (its pid is in the message).
        LakeError: the lock file cannot be created.
    """
    with exclusive(
        Path(lake_root) / SCHEDULER_LOCK_NAME,
        f"a scheduler is already running for {lake_root}",
        "one `geckolake schedule` per lake; stop the other one (SIGTERM) first",
    ):
        yield


@contextmanager
def exclusive(path: Path, held: str, hint: str) -> Iterator[None]:
    """A non-blocking ``flock`` on ``path`` holding our pid; ``held`` (+ the holder's pid) if taken.

    Raises:
        LakeLocked: another process holds the lock.
        LakeError: the lock file cannot be created (folder missing or unwritable).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise LakeError(
            f"cannot create the lock {path}: {e.strerror}",
            hint="check that the lake folder exists and is writable, or pass another --lake",
        ) from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            holder = _read_pid(fd)
            raise LakeLocked(held + (f" (pid {holder})" if holder else ""), hint=hint) from e
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None
