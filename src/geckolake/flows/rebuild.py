"""``replay``: rebuild bronze, silver and gold from the raw files, no API calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from geckolake.flows.ledger import lake_job
from geckolake.ingest import replay as rebuild
from geckolake.ingest.replay import ReplayResult

if TYPE_CHECKING:
    from geckolake.config import Settings


def replay(settings: Settings, *, workers: int | Literal["auto"] = 0) -> ReplayResult:
    """Drop bronze, silver and gold and rebuild them from raw, under the writer lock.

    Gated runs stay in bronze and out of silver and gold. ``workers="auto"`` parses in worker
    processes on large lakes (what ``geckolake replay`` does); a script that opts in must guard its
    entry point with ``if __name__ == "__main__":`` (see :func:`geckolake.ingest.replay.replay`).

    Raises:
        LakeError: no lake there, or a raw file listed in the manifest is missing or unreadable.
        LakeLocked: another process is writing the lake.
    """
    with lake_job(settings, "replay") as (lake, rows):
        result = rebuild.replay(lake, workers=workers, analytics=settings.analytics)
        rows.update(result.rows)
    return result
