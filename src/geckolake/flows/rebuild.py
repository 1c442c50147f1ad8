"""``replay``: rebuild bronze, silver and gold from the raw files, no API calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from geckolake.flows.ledger import lake_job
from geckolake.ingest import replay as rebuild
from geckolake.ingest.replay import ReplayResult
from geckolake.transform.engine import open_engine

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from geckolake.config import Settings


def replay(
    settings: Settings, *, workers: int | Literal["auto"] = 0, spark: SparkSession | None = None
) -> ReplayResult:
    """Drop bronze, silver and gold and rebuild them from raw, under the writer lock.

    Gated runs stay in bronze and out of silver and gold. ``workers="auto"`` parses in worker
    processes on large lakes (what ``geckolake replay`` does); a script that opts in must guard its
    entry point with ``if __name__ == "__main__":`` (see :func:`geckolake.ingest.replay.replay`).
    Silver and gold are computed by ``settings.transform.engine``; with ``spark``, on ``spark`` (a
    session made by the caller, e.g. a Glue job's), else on a local session started for the replay
    (``settings.transform.spark_master``). The engine starts before anything is dropped, so a
    missing Java or PySpark leaves the lake as it was.

    Raises:
        ConfigError: the spark engine without PySpark or Java.
        LakeError: no lake there, or a raw file listed in the manifest is missing or unreadable.
        LakeLocked: another process is writing the lake.
    """
    config = settings.transform
    with (
        open_engine(config.engine, spark=spark, master=config.spark_master) as engine,
        lake_job(settings, "replay") as (lake, rows),
    ):
        result = rebuild.replay(lake, workers=workers, analytics=settings.analytics, engine=engine)
        rows.update(result.rows)
    return result
