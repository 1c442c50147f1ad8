"""Transform engines: where silver and gold are computed from bronze. One factory, two backends.

``duckdb`` (the default) runs the models in this process; ``spark`` runs the same model files,
transpiled, on a SparkSession (local, Glue, EMR) and commits through the same lake writer. Both give
the same tables (tests/integration/spark/test_parity.py). PySpark is imported only when the
``spark`` engine is asked for (``pip install 'geckolake[spark]'``).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from importlib.util import find_spec
from typing import TYPE_CHECKING, Literal, Protocol

import pyarrow as pa

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

    def apply_batch(self, lake: Lake, bronze: Mapping[str, pa.Table], quarantine: pa.Table | None) -> TransformReport:
        """Append a run's parsed batch to bronze and merge it into silver and gold (incrementally)."""
        ...


class DuckDBEngine:
    """The models in DuckDB, in this process (bounded memory, chunked: transform/rebuild.py)."""

    name: EngineName = "duckdb"

    def rebuild_all(self, lake: Lake, *, exclude_runs: Collection[str] = ()) -> TransformReport:
        from geckolake.transform.rebuild import rebuild_all

        return rebuild_all(lake, exclude_runs=exclude_runs)

    def apply_batch(self, lake: Lake, bronze: Mapping[str, pa.Table], quarantine: pa.Table | None) -> TransformReport:
        from geckolake.transform.incremental import apply_batch

        return apply_batch(lake, bronze, quarantine)


class SparkEngine:
    """The models on a SparkSession (transform/spark_engine.py, transform/spark_incremental.py).

    ``session``: a session made by the caller (Glue's, a notebook's), used and left running. Without
    one, a local session on ``master`` is started at the first use of :attr:`session` and stopped
    by :meth:`close`, so a run that merges nothing never starts a JVM.
    """

    name: EngineName = "spark"

    def __init__(self, session: SparkSession | None = None, *, master: str = "local[*]") -> None:
        self._session = session
        self._started: SparkSession | None = None  # the session we started, which we stop
        self.master = master
        self._lock = threading.Lock()  # a run's commits use it from the committer's thread

    @property
    def session(self) -> SparkSession:
        """The session, started now if none is running yet.

        Raises:
            ConfigError: PySpark is missing, or Java cannot be started.
        """
        with self._lock:
            if self._session is None:
                from geckolake.transform.spark_engine import build_session

                self._session = self._started = build_session(self.master)
            return self._session

    def close(self) -> None:
        """Stop the session this engine started (a given one keeps running)."""
        with self._lock:
            if self._started is not None:
                self._started.stop()
                self._session = self._started = None

    def rebuild_all(self, lake: Lake, *, exclude_runs: Collection[str] = ()) -> TransformReport:
        from geckolake.transform.spark_engine import rebuild_all_spark

        session = self.session
        with spark_failures():
            return rebuild_all_spark(session, lake, exclude_runs=exclude_runs)

    def apply_batch(self, lake: Lake, bronze: Mapping[str, pa.Table], quarantine: pa.Table | None) -> TransformReport:
        from geckolake.transform.spark_incremental import apply_batch_spark

        session = self.session  # started before bronze is touched: without Java the lake stays as it was
        with spark_failures():
            return apply_batch_spark(session, lake, bronze, quarantine)


@contextmanager
def spark_failures() -> Iterator[None]:
    """A failed Spark job as one clear error.

    It arrives as a Java trace: a captured Java exception, or, when the driver JVM died
    (java.lang.OutOfMemoryError), a Py4J connection error.

    Raises:
        TerminalError: a Spark job failed.
    """
    from py4j.protocol import Py4JError
    from pyspark.errors.exceptions.captured import CapturedException

    from geckolake.errors import TerminalError

    try:
        yield
    except (Py4JError, CapturedException, ConnectionError) as e:
        first = next((line for line in str(e).splitlines() if "Error" in line or "Exception" in line), str(e))
        raise TerminalError(
            f"the Spark engine failed: {first.strip()[:300]}",
            hint="give the driver more memory (SPARK_DRIVER_MEMORY, default 4g locally) or use --engine duckdb; "
            "then run the command again (what it had not committed is rebuilt)",
        ) from e


@contextmanager
def open_engine(
    name: EngineName = "duckdb", *, spark: SparkSession | None = None, master: str = "local[*]", lazy: bool = False
) -> Iterator[Engine]:
    """The engine called ``name``. For ``spark``: ``spark`` when given (a Glue or notebook session,
    left running), else a session on ``master``, stopped on exit: started now (before the caller
    touches the lake), or with ``lazy`` at its first use (a run: only when it has a batch to merge).

    Raises:
        ConfigError: an unknown engine; PySpark missing; Java cannot be started (``lazy``: at first use).
        TerminalError: a Spark job failed.
    """
    from geckolake.errors import ConfigError

    if name == "duckdb":
        yield DuckDBEngine()
    elif name == "spark":
        if spark is None and find_spec("pyspark") is None:  # known now, before any lake or API work
            from geckolake.transform.spark_engine import INSTALL_HINT

            raise ConfigError("the spark engine needs PySpark", hint=INSTALL_HINT)
        if spark is None and master.startswith("local") and not _java_found():
            # PySpark would say so only when the session starts; a run starts it at its first batch,
            # after the markets calls were spent. Known now, before any lake or API work.
            raise ConfigError(
                "the spark engine needs Java, and none was found (JAVA_HOME, PATH)",
                hint="install Java 17 (e.g. apt-get install openjdk-17-jre-headless) or use --engine duckdb",
            )
        engine = SparkEngine(spark, master=master)
        try:
            if not lazy:
                _ = engine.session
            with spark_failures():
                yield engine
        finally:
            engine.close()
    else:
        raise ConfigError(f"unknown engine {name!r}", hint=f"use one of {', '.join(ENGINES)}")


def _java_found() -> bool:
    """Whether a Java launcher is where PySpark's ``spark-class`` looks: ``$JAVA_HOME/bin/java``, else PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        return os.access(os.path.join(home, "bin", "java"), os.X_OK)
    return shutil.which("java") is not None
