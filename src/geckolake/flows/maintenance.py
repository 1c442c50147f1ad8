"""``maintain``: compact small files, expire old snapshots, sweep orphan files; ``relocate``: adopt a
moved or copied lake."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from geckolake.analytics import source_mark
from geckolake.errors import LakeError
from geckolake.flows.lakes import writing
from geckolake.lake.catalog import Lake, open_lake
from geckolake.lake.location import lake_spec
from geckolake.lake.lock import writer_lock
from geckolake.lake.relocate import Relocated
from geckolake.lake.relocate import relocate as relocate_lake
from geckolake.ops.maintenance import MaintenanceReport
from geckolake.ops.maintenance import maintain as maintain_lake
from geckolake.transform.merge import SILVER_INPUTS
from geckolake.transform.recovery import log_merged

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
        done = relocate_lake(spec.root)
        _carry_over(open_lake(spec), done)
    return done


def _carry_over(lake: Lake, done: Relocated) -> None:
    """Keep the lake's bookkeeping true across the new snapshot ids a relocation gives every table.

    ``ops.transform_log`` names the bronze snapshots the last merge covered, and gold.coin_daily names
    the snapshot the analytics were computed from; after a relocation none of those ids exist. When they
    matched the old tables' current snapshots (nothing was left unmerged or stale before the move), the
    same is recorded for the new ones, so the next run does not re-merge all bronze as if a run had
    been interrupted. Otherwise nothing is recorded and the next run repairs what was pending.
    """
    log_rows = lake.read("ops.transform_log", columns=("finished_at", "batch_id", "bronze_snapshots_json"))
    if log_rows.num_rows:
        last = max(log_rows.to_pylist(), key=lambda r: (r["finished_at"], r["batch_id"]))
        merged = json.loads(last["bronze_snapshots_json"])
        if all(merged.get(f"bronze.{e}") == done.old_snapshots.get(f"bronze.{e}") for e in SILVER_INPUTS):
            log_merged(lake, "relocate")
    gold = done.old_properties.get(source_mark.SOURCE, {}).get(source_mark.PROPERTY)
    if gold is not None and gold == str(done.old_snapshots.get(source_mark.SOURCE)):
        source_mark.mark(lake, source_mark.source_snapshot(lake))


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
