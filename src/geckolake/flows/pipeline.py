"""``run``: plan → fetch → raw → bronze → silver → gold → checks and gate → ledger → alerts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from geckolake.flows.lakes import creating
from geckolake.flows.ledger import recorded
from geckolake.flows.publish import publish
from geckolake.ingest import planner
from geckolake.ingest.pipeline import Observer, Run, RunResult, drive, make_client
from geckolake.lake.catalog import is_lake, open_lake
from geckolake.transform.engine import open_engine

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from geckolake.api.client import CoinGeckoClient
    from geckolake.config import Settings


def run(
    settings: Settings,
    *,
    ids: Sequence[str] = (),
    observer: Observer | None = None,
    command: str = "run",
    client_factory: Callable[[Settings], CoinGeckoClient] | None = None,
    overlap: bool = True,
    spark: SparkSession | None = None,
) -> RunResult:
    """Run the whole pipeline once under the lake's writer lock; the lake is created by its first commit.

    ``ids`` adds coins to the history set; ``overlap=False`` commits each batch before fetching the
    next instead of in the background (same lake content, slower; tests compare the two).

    Each batch is merged by ``settings.transform.engine`` (``--engine``), and so is the Spark part of
    a full analytics refresh, as in a replay. With ``spark``, on ``spark`` (a session made by the
    caller, e.g. a Glue job's, left running); else on one local session (``settings.transform.spark_master``)
    started at the run's first commit and stopped at its end. The engines are interchangeable: runs
    on either may follow each other on one lake.

    Raises:
        LakeLocked: another run is writing this lake.
        AuthError: the key is missing or wrong (nothing is written).
        ApiError: CoinGecko refused a parameter (e.g. an invalid vs currency).
        ConfigError: a coin id in ``ids`` is unknown; the spark engine without PySpark or Java.
        LakeError, DiskFull: the lake cannot be written.
        TerminalError: a Spark job failed.
    """
    config = settings.transform
    with (
        open_engine(config.engine, spark=spark, master=config.spark_master, lazy=True) as engine,
        creating(settings),
    ):
        client = (client_factory or make_client)(settings)
        job = Run(
            settings, client, explicit_ids=ids, observer=observer, command=command, overlap=overlap, engine=engine
        )

        def body() -> RunResult:
            async def go() -> RunResult:
                try:
                    return await job.execute()
                finally:
                    await client.aclose()

            result = drive(go())
            publish(job)
            return result

        return recorded(job, body)


def plan(settings: Settings, *, ids: Sequence[str] = ()) -> planner.PlanSummary:
    """The calls the next run (with ``ids``) would make, per endpoint, with credits and ETA; calls nothing."""
    return planner.dry_run(settings, open_lake(settings, read_only=True) if is_lake(settings) else None, ids)
