"""``maintain``: compact small files, expire old snapshots, sweep orphan files; ``relocate``: adopt a
moved or copied lake."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from geckolake.errors import LakeError
from geckolake.flows.lakes import writing
from geckolake.lake.location import lake_spec
from geckolake.lake.lock import writer_lock
from geckolake.lake.relocate import Relocated
from geckolake.lake.relocate import relocate as relocate_lake
from geckolake.ops.maintenance import MaintenanceReport
from geckolake.ops.maintenance import maintain as maintain_lake

if TYPE_CHECKING:
    from geckolake.config import Settings


def relocate(settings: Settings) -> Relocated:
    """Adopt a moved or copied local lake: rebuild its catalog and tables from its own files, under
    its writer lock (see :mod:`geckolake.lake.relocate`).

    Raises:
        LakeError: the lake is not local, holds no lake, or has nothing to relocate.
        LakeLocked: another process is writing it.
    """
    spec = lake_spec(settings)
    if not spec.is_local:
        raise LakeError(f"{spec.location} is not a local lake", hint="only a moved or copied local folder needs this")
    with writer_lock(spec):
        return relocate_lake(spec.root)


def maintain(
    settings: Settings, *, tables: Sequence[str] | None = None, expire: bool = True, sweep: bool = True
) -> MaintenanceReport:
    """Compact ``tables`` (or all), expire snapshots, sweep orphans per ``[maintenance]``, under the writer lock.

    Raises:
        LakeError: no lake there.
        LakeLocked: another process is writing the lake.
    """
    with writing(settings) as lake:
        return maintain_lake(
            lake, settings.maintenance, settings.now(), list(tables) if tables else None,
            expire_snapshots=expire, sweep=sweep,
        )  # fmt: skip
