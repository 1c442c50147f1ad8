"""``maintain``: compact small files, expire old snapshots, sweep orphan files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from geckolake.flows.lakes import writing
from geckolake.ops.maintenance import MaintenanceReport
from geckolake.ops.maintenance import maintain as maintain_lake

if TYPE_CHECKING:
    from geckolake.config import Settings


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
