"""One writer per lake (and one scheduler per lake), wherever the lake lives.

- Local lake, SQLite catalog: an exclusive, non-blocking ``flock`` on ``<lake>/.writer.lock``
  (``.scheduler.lock``). The kernel releases it when the holder dies: a ``kill -9`` leaves no stale lock.
- PostgreSQL catalog (several users and hosts): a session-level advisory lock in the catalog's own
  database, keyed by the catalog name and lake location. The server releases it when the holder's
  connection ends, including a crashed host's (TCP keepalive).
- ``s3://`` lake: a lock object ``<lake>/locks/writer.lock`` created with a conditional PUT
  (``If-None-Match: *``) holding a lease that the holder renews; a crashed holder's lease runs out and
  the next writer takes the object over with a conditional PUT on its ETag (``If-Match``), so two
  writers can never both win. See :mod:`geckolake.lake.object_lock`.

Why a lock rather than only Iceberg's optimistic commits: a run commits many tables in turn and merges
each from what it read; two runs interleaving could each commit a merge of the same base and count a
fetch twice in derived tables. With one writer at a time no such interleaving exists.

Readers (``geckolake sql``, ``tables``, the dashboard) never take it: Iceberg commits are atomic,
so a reader always sees a whole snapshot.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from geckolake.errors import LakeError, LakeLocked
from geckolake.lake.location import LakeSpec, lake_spec

if TYPE_CHECKING:
    from geckolake.config import Settings

LOCK_NAME = ".writer.lock"
SCHEDULER_LOCK_NAME = ".scheduler.lock"


@contextmanager
def writer_lock(where: Settings | LakeSpec | Path | str) -> Iterator[None]:
    """Hold the lake's writer lock for the duration of the ``with`` block.

    Raises:
        LakeLocked: another process holds the lock (its pid, or host and pid, is in the message).
        LakeError: the lock cannot be created (folder missing or unwritable, store unreachable).
    """
    spec = lake_spec(where)
    with _lock(
        spec,
        "writer",
        f"another geckolake run is writing {spec.location}",
        "wait for it to finish, or stop it; readers such as `geckolake sql` work meanwhile",
    ):
        yield


@contextmanager
def scheduler_lock(where: Settings | LakeSpec | Path | str) -> Iterator[None]:
    """One ``geckolake schedule`` per lake, for the ``with`` block.

    Raises:
        LakeLocked: a scheduler already runs for this lake (its pid is in the message).
        LakeError: the lock cannot be created.
    """
    spec = lake_spec(where)
    with _lock(
        spec,
        "scheduler",
        f"a scheduler is already running for {spec.location}",
        "one `geckolake schedule` per lake; stop the other one (SIGTERM) first",
    ):
        yield


def _lock(spec: LakeSpec, role: str, held: str, hint: str) -> AbstractContextManager[None]:
    if not spec.is_local:
        from geckolake.lake.object_lock import object_lock

        return object_lock(spec, f"locks/{role}.lock", held, hint)
    if spec.catalog == "sql" and str(spec.catalog_uri).startswith("postgresql"):
        from geckolake.lake.advisory_lock import advisory_lock

        return advisory_lock(spec, role, held, hint)
    return exclusive(spec.root / (LOCK_NAME if role == "writer" else SCHEDULER_LOCK_NAME), held, hint)


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
