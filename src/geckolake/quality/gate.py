"""The publication gate: a run whose silver fails error-level checks publishes nothing.

At the lake's first open in a run, the current snapshot of every silver and gold table is
recorded (:func:`capture`). After the run's commits the checks run; if any error-level content
check on bronze or silver fails, :func:`restore` points silver and gold back at those snapshots
(an Iceberg metadata commit per table: no data is rewritten), so readers keep seeing the last
good state. Raw files, bronze rows and the manifest stay as evidence of what was received;
silver is rolled back too, so bad rows cannot leak into gold through a later run's recompute,
and the planner (which derives its state from silver) fetches the rejected spans again. The
next clean run publishes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geckolake.lake.catalog import Lake

log = logging.getLogger(__name__)

GATED_LAYERS: tuple[str, ...] = ("silver", "gold")
Snapshots = dict[str, int | None]


def capture(lake: Lake, layers: Iterable[str] = GATED_LAYERS) -> Snapshots:
    """The current snapshot id (None: never written) of every table of ``layers``."""
    wanted = tuple(layers)
    out: Snapshots = {}
    for name in lake.table_names():
        if name.split(".")[0] in wanted:
            snap = lake.table(name).current_snapshot()
            out[name] = snap.snapshot_id if snap is not None else None
    return out


def restore(lake: Lake, snapshots: Snapshots) -> list[str]:
    """Point each table back at its recorded snapshot; returns the tables that changed.

    A table that had no snapshot is emptied (one overwrite commit). Tables created since the
    capture are left alone.
    """
    changed = []
    for name, snapshot_id in snapshots.items():
        table = lake.table(name)
        current = table.current_snapshot()
        if (current.snapshot_id if current is not None else None) == snapshot_id:
            continue
        if snapshot_id is None:
            lake.replace(name, lake.arrow_schema(name).empty_table())
        else:
            table.manage_snapshots().set_current_snapshot(snapshot_id=snapshot_id).commit()
        changed.append(name)
    if changed:
        log.warning("gate: restored the last good snapshot of %s", ", ".join(changed))
    return changed
