"""``apply_batch`` on Spark: one parsed batch appended to bronze, merged into silver and gold by Spark.

The same steps and rules as :mod:`geckolake.transform.incremental` (DuckDB), so the engines are
interchangeable on one lake, batch by batch:

* bronze is appended by the lake's writer, exactly as on DuckDB; Spark then reads the batch (and any
  bronze an interrupted run left unmerged) as the bronze data files no merge has covered yet
  (:func:`geckolake.transform.recovery.unmerged_files`), so the batch never travels row by row;
* silver: each model's rows, one per key (:func:`geckolake.transform.merge.dedup_portable`: the same
  winners as DuckDB's dedup), merged with the partitions they touch (or the whole small table),
  collected to Arrow and committed by ``Lake.overwrite_partitions`` / ``Lake.replace``;
* gold: the groups, months and days to recompute come from
  :func:`geckolake.transform.batch_scope.gold_scope`, computed on the driver with pyarrow from the
  staged rows' few bookkeeping columns (shared with DuckDB); the models, the merge with existing
  rows and coin_daily's returns are the same SQL, transpiled (:func:`geckolake.transform.dialect.to_spark`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from geckolake.errors import LakeError
from geckolake.lake.catalog import Lake, isin
from geckolake.lake.tables import all_tables
from geckolake.transform.batch_scope import (
    GOLD_MODELS,
    GROUP,
    MERGED_GOLD_SQL,
    PRICES_SQL,
    SNAPSHOTS_SQL,
    TOUCH_COLUMNS,
    GoldScope,
    first_day,
    fresh_sql,
    gold_scope,
)
from geckolake.transform.dialect import to_spark
from geckolake.transform.merge import SILVER_INPUTS, dedup_portable, filtered_sql
from geckolake.transform.models import load_sql
from geckolake.transform.recovery import log_merged, unmerged_files
from geckolake.transform.registry import Model, silver_models
from geckolake.transform.report import TransformReport
from geckolake.transform.returns import RETURN_COLUMNS
from geckolake.transform.spark_engine import configure, from_arrow, read_files, spark_type, to_arrow

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


def apply_batch_spark(
    spark: SparkSession, lake: Lake, bronze: Mapping[str, pa.Table], quarantine: pa.Table | None
) -> TransformReport:
    """Append a parsed batch to bronze and merge it into silver and gold on ``spark``; the same
    tables and report as :func:`geckolake.transform.incremental.apply_batch`.

    Raises:
        LakeError: a table is missing or data does not fit its schema.
    """
    started = time.perf_counter()
    configure(spark)
    report = TransformReport()
    # Bronze an interrupted batch appended but never merged: merged along with this batch (merges
    # are idempotent, so re-merging rows that did reach silver changes nothing).
    for endpoint, left in unmerged_files(lake).items():
        rows = sum(n for _, n in left)
        report.recovered[f"bronze.{endpoint}"] = rows
        log.warning("merging %d bronze rows of bronze.%s left by an interrupted run", rows, endpoint)
    for endpoint, data in bronze.items():
        name = f"bronze.{endpoint}"
        lake.append(name, lake.conform(name, data))
        report.rows[name] = data.num_rows
    if quarantine is not None and quarantine.num_rows:
        lake.append("bronze.quarantine", quarantine)
        report.rows["bronze.quarantine"] = quarantine.num_rows

    job = _Batch(spark, lake, report)
    # Now the batch's own files are unmerged too: the batch and the recovered rows, as on DuckDB.
    unmerged = unmerged_files(lake)
    for endpoint in SILVER_INPUTS:
        files = [f for f, _ in unmerged.get(endpoint, [])]
        job.inputs[endpoint] = sum(n for _, n in unmerged.get(endpoint, []))
        job.view(f"bronze_{endpoint}", read_files(spark, lake, f"bronze.{endpoint}", files))
    staged = job.silver()
    report.first_day = first_day(staged)
    scope = gold_scope(staged["price_history"], staged["market_snapshots"])
    if scope is not None:
        job.gold(scope)
    log_merged(lake, "batch")
    report.seconds = time.perf_counter() - started
    log.info("applied batch on Spark in %.2fs: %s", report.seconds, report.rows)
    return report


class _Batch:
    """One batch's merge on Spark: the session, the lake, the report, the bronze rows per input."""

    def __init__(self, spark: SparkSession, lake: Lake, report: TransformReport) -> None:
        self.spark, self.lake, self.report = spark, lake, report
        self.inputs: dict[str, int] = {}  # bronze rows to merge per endpoint

    def view(self, name: str, frame: DataFrame) -> None:
        frame.createOrReplaceTempView(name)

    def sql(self, text: str) -> DataFrame:
        return self.spark.sql(to_spark(text))

    def has_rows(self, spec: Model) -> bool:
        """Whether the batch holds bronze rows ``spec`` reads (else it has nothing to merge)."""
        return any(self.inputs.get(e, 0) for e in spec.bronze_inputs)

    def partitions(self, name: str, values: list[object]) -> DataFrame:
        """The rows of the partitions ``values`` of table ``name`` (its files pruned to them)."""
        from pyspark.sql import functions as F

        column = all_tables()[name].partition
        if column is None:
            raise LakeError(f"{name} is not partitioned", hint="report this: a model's header names no partition")
        files = self.lake.data_files(name, isin(column, values))
        return read_files(self.spark, self.lake, name, files).filter(F.col(column).isin(values))

    # --- silver ---------------------------------------------------------------------------------
    def silver(self) -> dict[str, pa.Table]:
        """Merge the bronze views into every silver table; per staged model, its rows' bookkeeping
        columns (:data:`TOUCH_COLUMNS`) for gold and the first touched day."""
        staged: dict[str, pa.Table] = {}
        for spec in silver_models("partitions") + silver_models("whole"):
            staged[spec.stem] = self.merge_keyed(spec)
        for spec in silver_models("model"):
            self.merge_model(spec)
        self.count_filtered()
        return staged

    def merge_keyed(self, spec: Model) -> pa.Table:
        """A ``partitions`` or ``whole`` model: the batch's rows, one per key, merged into the table."""
        name, tdef = spec.table, all_tables()[spec.table]
        schema = self.lake.arrow_schema(name)
        columns = TOUCH_COLUMNS.get(spec.stem, ()) + ((tdef.partition,) if tdef.partition else ())
        kept = pa.schema([schema.field(c) for c in dict.fromkeys(columns)])
        if not self.has_rows(spec):
            self.report.rows[name] = 0
            return kept.empty_table()
        batch = self.sql(dedup_portable(spec.sql, tdef.key, schema)).cache()
        try:
            touched = to_arrow(batch.select(*kept.names), kept, name) if kept.names else None
            n = touched.num_rows if touched is not None else batch.count()
            self.report.rows[name] = n
            if n == 0:
                return kept.empty_table()
            if tdef.partition is not None and touched is not None:
                values = pc.unique(touched[tdef.partition]).to_pylist()
                files = self.lake.data_files(name, isin(tdef.partition, values))
            else:
                files = self.lake.data_files(name)
            merged = batch
            if files:  # nothing to merge with (a new lake, new partitions) needs no second pass
                self.view("batch_rows", batch)
                existing = read_files(self.spark, self.lake, name, files)
                if tdef.partition is not None:
                    from pyspark.sql import functions as F

                    existing = existing.filter(F.col(tdef.partition).isin(values))
                self.view("existing_rows", existing)
                union = "SELECT * FROM batch_rows UNION ALL SELECT * FROM existing_rows"
                merged = self.sql(dedup_portable(union, tdef.key, schema))
            rows = to_arrow(merged, schema, name)
            if tdef.partition is not None:
                self.lake.overwrite_partitions(name, rows)
            else:
                self.lake.replace(name, rows)
            self.report.rewritten[name] = rows.num_rows
            return touched if touched is not None else kept.empty_table()
        finally:
            batch.unpersist()

    def merge_model(self, spec: Model) -> None:
        """A ``model`` model (coins, trending): its SQL merges the batch with ``existing`` itself."""
        name = spec.table
        if not self.has_rows(spec):
            self.report.rows[name] = 0  # the model gives ``existing`` back: nothing to rewrite
            return
        schema = self.lake.arrow_schema(name)
        files = self.lake.data_files(name)
        self.view("existing", read_files(self.spark, self.lake, name, files))
        before = self.lake.read(name, columns=(schema.names[0],)).num_rows
        merged = to_arrow(self.sql(spec.sql), schema, name)
        self.lake.replace(name, merged)
        self.report.rewritten[name] = merged.num_rows
        self.report.rows[name] = merged.num_rows - before

    def count_filtered(self) -> None:
        """Bronze units each silver model's rule left out, for every model the batch feeds, in one job."""
        every = silver_models("partitions") + silver_models("whole") + silver_models("model")
        specs = [s for s in every if self.has_rows(s)]
        if not specs:
            return
        parts = []
        for i, spec in enumerate(specs):
            units, kept = filtered_sql(spec.stem)
            parts.append(f"({units}) - ({kept}) AS f{i}")
        row = self.sql("SELECT " + ", ".join(parts)).collect()[0]
        for i, spec in enumerate(specs):
            self.report.count_filtered(spec.table, int(row[i] or 0))

    # --- gold -----------------------------------------------------------------------------------
    def gold(self, scope: GoldScope) -> None:
        """Recompute gold for the groups of ``scope``, as :mod:`geckolake.transform.incremental` does."""
        from pyspark.sql import functions as F

        self.view("groups", from_arrow(self.spark, scope.groups))
        self.view("wanted", from_arrow(self.spark, scope.wanted))
        self.view("silver_prices", self.partitions("silver.price_history", list(scope.price_months)))
        self.view("silver_snapshots", self.partitions("silver.market_snapshots", list(scope.days)))
        self.view("prices", self.sql(PRICES_SQL))
        self.view("snapshots", self.sql(SNAPSHOTS_SQL))
        for model in GOLD_MODELS:
            name = f"gold.{model}"
            schema = self.lake.arrow_schema(name)
            self.view("fresh_gold", _in_schema(self.sql(fresh_sql(model)), schema))
            self.view("existing_gold", self.partitions(name, list(scope.read_months(model))))
            merged = self.sql(MERGED_GOLD_SQL)
            if model == "coin_daily":
                merged = merged.cache()
                self.view("daily", merged.filter(F.col("month").isin(scope.daily_months)))
                self.view("closes", merged.select("coin_id", "vs_currency", "date", "close"))
                try:
                    rows = to_arrow(self.sql(load_sql("gold", "coin_daily_returns")), schema, name)
                finally:
                    merged.unpersist()
            else:
                rows = to_arrow(merged, schema, name)
            self.lake.overwrite_partitions(name, rows)
            # the recomputed groups' rows (every row of a touched group is fresh), counted on the driver
            fresh = rows.select(list(GROUP)).join(scope.groups, list(GROUP), join_type="left semi")
            self.report.rows[name] = fresh.num_rows
            self.report.rewritten[name] = rows.num_rows


def _in_schema(frame: DataFrame, schema: pa.Schema) -> DataFrame:
    """A gold model's rows with the table's columns, in order, cast to its types; the return columns
    coin_daily.sql leaves to coin_daily_returns.sql are null (as ``returns.with_null_returns``)."""
    from pyspark.sql import functions as F

    nullable = {n for n, _ in RETURN_COLUMNS}
    columns = []
    for field in schema:
        if field.name in frame.columns:
            columns.append(F.col(field.name).cast(spark_type(field.type)).alias(field.name))
        elif field.name in nullable:
            columns.append(F.lit(None).cast(spark_type(field.type)).alias(field.name))
        else:
            raise LakeError(f"the gold model lacks column {field.name}", hint="see transform/gold/*.sql")
    return frame.select(*columns)
