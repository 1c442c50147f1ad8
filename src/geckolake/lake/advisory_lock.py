"""The writer lock of a lake whose catalog is PostgreSQL: an advisory lock in the catalog's database.

Every host that writes the lake already talks to that database, so the lock needs nothing else. A
session-level ``pg_try_advisory_lock`` is held by one open connection; PostgreSQL releases it when that
connection ends — a clean exit, a killed process, or (after TCP keepalive) a dead host.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from geckolake.errors import LakeError, LakeLocked

if TYPE_CHECKING:
    from geckolake.lake.location import LakeSpec


def lock_key(spec: LakeSpec, role: str) -> int:
    """A signed 64-bit key for (catalog, location, role): one lock per lake and role."""
    digest = hashlib.sha256(f"{spec.catalog_name}|{spec.location}|{role}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def advisory_lock(spec: LakeSpec, role: str, held: str, hint: str) -> Iterator[None]:
    """Hold the advisory lock of ``spec``'s lake for ``role`` during the ``with`` block.

    Raises:
        LakeLocked: another session holds it (its application name says which host and pid).
        LakeError: the database cannot be reached.
    """
    import sqlalchemy as sa

    key = lock_key(spec, role)
    engine = sa.create_engine(str(spec.catalog_uri), poolclass=sa.pool.NullPool)
    try:
        conn = engine.connect()
    except sa.exc.SQLAlchemyError as e:
        engine.dispose()
        reason = (str(getattr(e, "orig", None) or e).strip().splitlines() or [type(e).__name__])[0]
        raise LakeError(
            f"cannot reach the catalog database to take the {role} lock: {reason}",
            hint="check GECKOLAKE_CATALOG_URI and that the database is up",
        ) from e
    try:
        name = f"geckolake {role} {socket.gethostname()} pid {os.getpid()}"[:63]
        conn.execute(sa.text("SELECT set_config('application_name', :n, false)"), {"n": name})
        if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            holder = conn.execute(
                sa.text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                    "AND l.classid::bigint = :hi AND l.objid::bigint = :lo LIMIT 1"
                ),
                {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF},
            ).scalar()
            conn.rollback()
            raise LakeLocked(held + (f" ({holder.removeprefix(f'geckolake {role} ')})" if holder else ""), hint=hint)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
    finally:
        conn.close()
        engine.dispose()
