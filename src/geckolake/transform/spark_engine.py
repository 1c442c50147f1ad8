"""Silver and gold rebuilt on Spark: the same SQL models, transpiled, over the lake's current files.

The write path covered here (and by the tests) is "Spark computes, geckolake commits": each input
table is read as Parquet from the data files of its current Iceberg snapshot (PyIceberg writes
copy-on-write, no delete files, so those files are exactly the table's rows), the models run as
Spark SQL (:func:`geckolake.transform.dialect.to_spark`), each result is collected to Arrow on the
driver (a group of whole partitions at a time) and committed by the lake's own writer
(``Lake.replace``), one commit per table, as the DuckDB rebuild does. No Iceberg jar is needed;
the SparkSession is any session (local, Glue, EMR).

The results equal the DuckDB rebuild's row for row: the dedup picks the same winner per key on
both engines (:func:`geckolake.transform.merge.winner_order`), and ``ordered_avg`` adds in the same
order (tests/integration/spark/test_parity.py).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from geckolake.errors import ConfigError
from geckolake.lake.catalog import Lake
from geckolake.lake.duckdb_access import local_path
from geckolake.lake.tables import all_tables
from geckolake.lake.write import conform
from geckolake.transform import spark_iceberg
from geckolake.transform.dialect import to_spark
from geckolake.transform.merge import SILVER_INPUTS, dedup_portable, filtered_sql
from geckolake.transform.recovery import log_merged
from geckolake.transform.registry import Model, model, silver_models
from geckolake.transform.report import TransformReport

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

INSTALL_HINT = "install the spark extra: pip install 'geckolake[spark]' (PySpark 3.5; needs Java 17)"
# Settings every geckolake Spark session needs: the models' calendar functions read UTC (see
# transform/dialect.py), and size(NULL) must be NULL.
SQL_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    # size(NULL) is NULL, as DuckDB's array_length (Spark's legacy answer is -1)
    "spark.sql.legacy.sizeOfNull": "false",
    # a batch's groups go from the driver to Spark through Arrow (from_arrow), not row by row
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
SESSION_CONF: dict[str, str] = {**SQL_CONF, "spark.ui.showConsoleProgress": "false"}
# A local session only: one machine needs few shuffle partitions (Spark's 200 cost more than the
# work on small lakes) and no web UI; a cluster keeps its own settings.
# Rows of a partitioned table collected to the driver at a time (whole partitions).
WRITE_CHUNK_ROWS = 1_000_000
LOCAL_CONF: dict[str, str] = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    # Local mode runs everything in the driver JVM; Spark's default 1 GB heap ran out at a 10M-point
    # replay (java.lang.OutOfMemoryError in the bench). SPARK_DRIVER_MEMORY still overrides it.
    "spark.driver.memory": os.environ.get("SPARK_DRIVER_MEMORY", "4g"),
}


# ``[transform] spark_master`` value that leaves the master to the cluster (Glue, EMR, spark-submit).
CLUSTER = "cluster"


def build_session(master: str | None = "local[*]", app_name: str = "geckolake") -> SparkSession:
    """A SparkSession for the models: ``master`` None (or ``"cluster"``) leaves it to the cluster
    (Glue, EMR, spark-submit), whose session ``getOrCreate`` returns.

    Raises:
        ConfigError: PySpark is not installed, or Java cannot be started.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        raise ConfigError("the spark engine needs PySpark", hint=INSTALL_HINT) from e
    builder: Any = SparkSession.builder.appName(app_name)
    conf = dict(SESSION_CONF)
    if master is not None and master != CLUSTER:
        builder = builder.master(master)
        if master.startswith("local"):
            conf.update(LOCAL_CONF)
            # Local Python workers (applyInPandas) must run this interpreter, with its packages, not
            # whatever `python3` is on PATH; PySpark reads only this variable (3.5), at session start.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session: SparkSession = builder.getOrCreate()
    except Exception as e:  # PySpark reports a missing or broken Java as a generic runtime error
        raise ConfigError(f"Spark could not start: {e}", hint="Spark needs Java 17 on PATH or JAVA_HOME") from e
    configure(session)
    return session


def configure(session: SparkSession) -> None:
    """Set what the models need on ``session``, which may have been made elsewhere (Glue's)."""
    for key, value in SQL_CONF.items():
        session.conf.set(key, value)


@contextmanager
def local_session(master: str = "local[*]") -> Iterator[SparkSession]:
    """A session for one job, stopped at the end (a given session is never stopped by us)."""
    session = build_session(master)
    try:
        yield session
    finally:
        session.stop()


def spark_type(typ: pa.DataType) -> Any:
    """The Spark SQL type of an Arrow type of our tables (PySpark's own converter refuses the large
    types PyIceberg's schemas use)."""
    from pyspark.sql import types as T

    simple = {
        pa.string(): T.StringType(), pa.large_string(): T.StringType(), pa.bool_(): T.BooleanType(),
        pa.int8(): T.ByteType(), pa.int16(): T.ShortType(), pa.int32(): T.IntegerType(),
        pa.int64(): T.LongType(), pa.float32(): T.FloatType(), pa.float64(): T.DoubleType(),
        pa.date32(): T.DateType(), pa.binary(): T.BinaryType(), pa.large_binary(): T.BinaryType(),
    }  # fmt: skip
    if typ in simple:
        return simple[typ]
    if pa.types.is_timestamp(typ):
        return T.TimestampType() if typ.tz is not None else T.TimestampNTZType()
    if pa.types.is_decimal(typ):
        return T.DecimalType(typ.precision, typ.scale)
    if pa.types.is_map(typ):
        return T.MapType(spark_type(typ.key_type), spark_type(typ.item_type))
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return T.ArrayType(spark_type(typ.value_type))
    if pa.types.is_struct(typ):
        return T.StructType([T.StructField(f.name, spark_type(f.type)) for f in typ])
    raise ConfigError(f"no Spark type for {typ}", hint="add it to transform/spark_engine.py: spark_type")


def spark_schema(schema: pa.Schema) -> Any:
    """The Spark schema of an Arrow schema (see :func:`spark_type`)."""
    from pyspark.sql import types as T

    return T.StructType([T.StructField(f.name, spark_type(f.type)) for f in schema])


def read_table(spark: SparkSession, lake: Lake, name: str) -> DataFrame:
    """The current content of table ``name`` as a DataFrame: the Parquet files of its current snapshot,
    read with the table's schema (files written before a column was added read it as null)."""
    return read_files(spark, lake, name, lake.data_files(name))


def read_files(spark: SparkSession, lake: Lake, name: str, files: Collection[str]) -> DataFrame:
    """Data files of table ``name`` (URIs from ``Lake.data_files``) as a DataFrame, with the table's schema."""
    schema = spark_schema(lake.arrow_schema(name))
    if not files:
        return spark.createDataFrame([], schema)
    # local files as paths; s3:// as is (Glue and EMR read it; plain Spark needs fs.s3.impl set to S3A)
    return spark.read.schema(schema).parquet(*(local_path(f) for f in files))


def from_arrow(spark: SparkSession, table: pa.Table) -> DataFrame:
    """A small Arrow table of the driver (a batch's touched groups) as a DataFrame."""
    schema = spark_schema(table.schema)
    if int(spark.version.split(".")[0]) >= 4:  # Spark 4 takes Arrow itself
        return spark.createDataFrame(table, schema)  # type: ignore[arg-type,unused-ignore]
    # Spark 3.5: through pandas, converted by Arrow (spark.sql.execution.arrow.pyspark.enabled, SQL_CONF)
    return spark.createDataFrame(table.to_pandas(), schema)


def to_arrow(frame: DataFrame, schema: pa.Schema, name: str) -> pa.Table:
    """``frame`` collected to the driver as Arrow, cast to ``schema``."""
    collect: Any = getattr(type(frame), "toArrow", None)  # Spark 4
    if collect is not None:
        return conform(collect(frame), schema, name)
    # Spark 3.5 (Glue 5.0) collects to Arrow only through this method (what toPandas uses)
    batches = frame._collect_as_arrow()
    if not batches:
        return schema.empty_table()
    return conform(pa.Table.from_batches(batches), schema, name)


def _parts(frame: DataFrame, partition: str | None, schema: pa.Schema, name: str) -> Iterator[pa.Table]:
    """``frame`` as Arrow tables of whole ``partition`` values, about ``WRITE_CHUNK_ROWS`` rows each."""
    if partition is None:
        yield to_arrow(frame, schema, name)
        return
    from pyspark.sql import functions as F

    def rows_in(values: list[object]) -> pa.Table:
        column = F.col(partition)
        keep = column.isin([v for v in values if v is not None])
        if None in values:  # isin never matches a null
            keep = keep | column.isNull()
        return to_arrow(frame.filter(keep), schema, name)

    counts = sorted(
        ((row[0], int(row[1])) for row in frame.groupBy(partition).count().collect()),
        key=lambda c: (c[0] is None, c[0]),
    )
    group: list[object] = []
    rows = 0
    for value, n in counts:
        if group and rows + n > WRITE_CHUNK_ROWS:
            yield rows_in(group)
            group, rows = [], 0
        group.append(value)
        rows += n
    yield rows_in(group) if group else schema.empty_table()


def _count(spark: SparkSession, sql: str) -> int:
    row = spark.sql(to_spark(sql)).collect()[0]
    return int(row[0] or 0)


class _Rebuild:
    """One rebuild's state: the session, the lake, the report."""

    def __init__(self, spark: SparkSession, lake: Lake, report: TransformReport) -> None:
        self.spark, self.lake, self.report = spark, lake, report
        # The session's Iceberg catalog for this lake, if it has one: then Spark commits (spark_iceberg).
        self.iceberg = spark_iceberg.lake_catalog(spark, lake)

    def write(self, name: str, frame: DataFrame) -> None:
        """Replace table ``name`` with ``frame``'s rows, in one commit.

        A partitioned table is collected a group of whole partitions at a time (at most about
        ``WRITE_CHUNK_ROWS`` rows, unless one partition alone is more), each written while the next
        is collected, so the driver never holds a large table at once.
        """
        if self.iceberg is not None:  # Spark commits itself, no rows through the driver
            written_by_spark = spark_iceberg.replace(self.spark, self.iceberg, self.lake, name, frame)
            self.report.rows[name] = self.report.rewritten[name] = written_by_spark
            return
        schema = self.lake.arrow_schema(name)
        partition = all_tables()[name].partition
        cached = partition is not None and not frame.is_cached
        if cached:
            frame = frame.cache()  # each group reads it again
        written = 0

        def parts() -> Iterator[pa.Table]:
            nonlocal written
            for part in _parts(frame, partition, schema, name):
                written += part.num_rows
                yield part

        try:
            self.lake.replace(name, parts())
        finally:
            if cached:
                frame.unpersist()
        self.report.rows[name] = self.report.rewritten[name] = written

    def view(self, name: str, frame: DataFrame) -> None:
        frame.createOrReplaceTempView(name)

    def staged(self, spec: Model) -> DataFrame:
        """One row per key of a stage model's rows (``partitions`` and ``whole`` models)."""
        schema = self.lake.arrow_schema(spec.table)
        return self.spark.sql(to_spark(dedup_portable(spec.sql, spec.key, schema)))

    def count_filtered(self, spec: Model) -> None:
        units, kept = filtered_sql(spec.stem)
        self.report.count_filtered(spec.table, _count(self.spark, units) - _count(self.spark, kept))


def rebuild_all_spark(spark: SparkSession, lake: Lake, *, exclude_runs: Collection[str] = ()) -> TransformReport:
    """Recompute silver and gold from bronze on Spark; same content as :func:`geckolake.transform.rebuild.rebuild_all`.

    Bronze rows of ``exclude_runs`` (gated runs) are left out, as there.

    Raises:
        LakeError: a table is missing or a result does not fit its schema.
    """
    from pyspark.sql import functions as F

    started = time.perf_counter()
    configure(spark)
    report = TransformReport()
    job = _Rebuild(spark, lake, report)
    excluded = sorted(exclude_runs)
    for endpoint in SILVER_INPUTS:
        frame = read_table(spark, lake, f"bronze.{endpoint}")
        if excluded:
            frame = frame.filter(~F.col("_run_id").isin(excluded))
        job.view(f"bronze_{endpoint}", frame)
    cached: list[DataFrame] = []
    for spec in silver_models("partitions") + silver_models("whole"):
        frame = job.staged(spec)
        if spec.stem in ("market_snapshots", "price_history"):
            frame = frame.cache()  # gold reads them again
            cached.append(frame)
        job.write(spec.table, frame)
        job.count_filtered(spec)
        job.view(spec.stem, frame)
    for spec in silver_models("model"):
        job.view("existing", spark.createDataFrame([], read_table(spark, lake, spec.table).schema))
        job.write(spec.table, spark.sql(to_spark(spec.sql)))
        job.count_filtered(spec)
    _gold(job)
    for frame in cached:
        frame.unpersist()
    _live_prices(job)
    log_merged(lake, "rebuild")
    report.seconds = time.perf_counter() - started
    log.info("rebuilt silver and gold on Spark in %.2fs: %s", report.seconds, report.rows)
    return report


def _gold(job: _Rebuild) -> None:
    """gold.coin_aggregates and gold.coin_daily over all of silver (no chunks: Spark spreads the work)."""
    job.view("snapshots", job.spark.table("market_snapshots"))
    job.view("prices", job.spark.table("price_history"))
    job.write("gold.coin_aggregates", job.spark.sql(to_spark(model("gold.coin_aggregates").sql)))
    daily = job.spark.sql(to_spark(model("gold.coin_daily").sql)).cache()
    job.view("daily", daily)
    job.view("closes", daily.select("coin_id", "vs_currency", "date", "close"))
    job.write("gold.coin_daily", job.spark.sql(to_spark(model("gold.coin_daily_returns").sql)))
    daily.unpersist()


def _live_prices(job: _Rebuild) -> None:
    """silver.live_prices from all of bronze.simple_price (as the DuckDB rebuild: gated runs included,
    the prices poll is not gated)."""
    spec = model("silver.live_prices")
    job.view("bronze_simple_price", read_table(job.spark, job.lake, "bronze.simple_price"))
    job.write(spec.table, job.staged(spec))
    job.count_filtered(spec)
