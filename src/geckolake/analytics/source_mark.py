"""Which snapshot of gold.coin_daily the analytics tables were last computed from.

The analytics are derived after a run's commits, so a run can stop (killed, disk full) with
gold.coin_daily committed and the analytics not refreshed. The next run recomputes only the days
it touched and would never repair the others. Every refresh therefore records the snapshot of
gold.coin_daily it read, as a property of that table. A run that finds, before its own commits,
another snapshot current refreshes the analytics in full (``Run._read_existing``).

A table property rather than a file beside the catalog: it lives with the table in any catalog
(SQLite or Glue) and costs one metadata commit per refresh.
"""

from __future__ import annotations

from geckolake.lake.catalog import Lake

SOURCE = "gold.coin_daily"
PROPERTY = "geckolake.analytics.source-snapshot-id"


def source_snapshot(lake: Lake) -> int | None:
    """The current snapshot id of gold.coin_daily (None while it has none)."""
    snap = lake.table(SOURCE).current_snapshot()
    return None if snap is None else snap.snapshot_id


def is_current(lake: Lake) -> bool:
    """True when the analytics were computed from gold.coin_daily's current snapshot (or it has none)."""
    table = lake.table(SOURCE)
    snap = table.current_snapshot()
    return snap is None or table.properties.get(PROPERTY) == str(snap.snapshot_id)


def mark(lake: Lake, snapshot_id: int | None) -> None:
    """Record that the analytics now reflect gold.coin_daily at ``snapshot_id``."""
    if snapshot_id is None:
        return
    with lake.table(SOURCE).transaction() as tx:
        tx.set_properties({PROPERTY: str(snapshot_id)})


def carry_over(lake: Lake, before: int | None) -> None:
    """After a rewrite that kept gold.coin_daily's content (compaction): keep the analytics current.

    Only when they were current at ``before``, the snapshot the rewrite started from.
    """
    if before is not None and lake.table(SOURCE).properties.get(PROPERTY) == str(before):
        mark(lake, source_snapshot(lake))
