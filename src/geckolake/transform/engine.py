"""Transform engines: where silver and gold are computed from bronze. One factory, two backends.

``duckdb`` (the default) runs the models in this process; ``spark`` runs the same model files,
transpiled, on a SparkSession (local, Glue, EMR) and commits through the same lake writer. Both give
the same tables (tests/integration/spark/test_parity.py). PySpark is imported only when the
``spark`` engine is asked for (``pip install 'geckolake[spark]'``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal, Protocol

from geckolake.lake.catalog import Lake
from geckolake.transform.report import TransformReport

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")


class Engine(Protocol):
    """Computes silver and gold from bronze and commits them to the lake."""

    name: EngineName

    def rebuild_all(self, lake: Lake, *, exclude_runs: Collection[str] = ()) -> TransformReport:
        """Recompute silver and gold from all of bronze, leaving out the rows of ``exclude_runs``."""
        ...


class DuckDBEngine:
    """The models in DuckDB, in this process (bounded memory, chunked: transform/rebuild.py)."""

    name: EngineName = "duckdb"

    def rebuild_all(self, lake: Lake, *, exclude_runs: Collection[str] = ()) -> TransformReport:
        from geckolake.transform.rebuild import rebuild_all

        return rebuild_all(lake, exclude_runs=exclude_runs)


class SparkEngine:
    """The models on ``session`` (transform/spark_engine.py)."""

    name: EngineName = "spark"

    def __init__(self, session: SparkSession) -> None:
        self.session = session

    def rebuild_all(self, lake: Lake, *, exclude_runs: Collection[str] = ()) -> TransformReport:
        from geckolake.transform.spark_engine import rebuild_all_spark

        return rebuild_all_spark(self.session, lake, exclude_runs=exclude_runs)


@contextmanager
def open_engine(
    name: EngineName = "duckdb", *, spark: SparkSession | None = None, master: str = "local[*]"
) -> Iterator[Engine]:
    """The engine called ``name``. For ``spark``: ``spark`` when given (a Glue or notebook session,
    left running), else a session on ``master`` started now and stopped on exit.

    Raises:
        ConfigError: an unknown engine; PySpark missing; Java cannot be started.
    """
    from geckolake.errors import ConfigError, TerminalError

    if name == "duckdb":
        yield DuckDBEngine()
    elif name == "spark":
        from py4j.protocol import Py4JError
        from pyspark.errors.exceptions.captured import CapturedException

        from geckolake.transform.spark_engine import local_session

        try:
            if spark is not None:
                yield SparkEngine(spark)
                return
            with local_session(master) as session:
                yield SparkEngine(session)
        # A failed Spark job arrives as a Java trace: a captured Java exception, or, when the driver JVM
        # died (java.lang.OutOfMemoryError), a Py4J connection error.
        except (Py4JError, CapturedException, ConnectionError) as e:
            first = next((line for line in str(e).splitlines() if "Error" in line or "Exception" in line), str(e))
            raise TerminalError(
                f"the Spark engine failed: {first.strip()[:300]}",
                hint="give the driver more memory (SPARK_DRIVER_MEMORY, default 4g locally) or use --engine duckdb; "
                "then run the command again (what it had not committed is rebuilt)",
            ) from e
    else:
        raise ConfigError(f"unknown engine {name!r}", hint=f"use one of {', '.join(ENGINES)}")
