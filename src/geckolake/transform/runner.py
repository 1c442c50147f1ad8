"""Bronze → silver → gold: incremental per batch (``apply_batch``) or from scratch (``rebuild_all``).

Both run the same SQL models (``transform/silver``, ``transform/gold``; what each declares is read
from its header by ``registry``) in DuckDB over Arrow and commit through PyIceberg, one commit per
table written. Both may also run on Spark (``engine``: the same model files, transpiled by
``dialect``), committing through the same writer:

* bronze tables are appended;
* partitioned silver tables (by ``month`` or ``date``) merge the batch with the existing rows of
  the partitions it touches, keep one row per key (latest ``_fetched_at`` wins; ties broken by
  ``_raw_sha256``, ``_raw_path``, then a hash of the row) and overwrite only those partitions;
* small silver tables (coins, global_market, categories, trending) are merged and rewritten whole;
* gold is recomputed for the (coin, currency, day) groups the batch touched and those partitions
  are overwritten.

Every merge is "pick the winner per key" over a union, which is associative and commutative, so
applying batches one by one gives the same silver and gold as one rebuild over all of bronze.

This module is the public entry; the work is done in:

=====================  ============================================================================
``incremental``        ``apply_batch`` on DuckDB and the incremental gold recompute
``batch_scope``        what a batch touches (groups, months, days) and the SQL both engines run on it
``rebuild``            ``rebuild_all``, chunked by month and coin id in bounded memory
``merge``              silver merges and the per-key dedup both share
``returns``            gold.coin_daily's returns (they need the previous day's close)
``recovery``           ``ops.transform_log``: bronze left unmerged by an interrupted run
``live_prices``        ``silver.live_prices``, merged by the prices poll rather than by a run's batches
``report``             ``TransformReport``
``registry``           the models and their headers (grain, key, partition, inputs, merge)
``dialect``            the models' SQL transpiled to Spark (SQLGlot plus our function mappings)
``engine``             the engines (``duckdb``, ``spark``) and their factory ``open_engine``
``spark_engine``       ``rebuild_all`` on Spark
``spark_incremental``  ``apply_batch`` on Spark
=====================  ============================================================================
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import pyarrow as pa

from geckolake.lake.catalog import Lake
from geckolake.transform.engine import DuckDBEngine, Engine, open_engine
from geckolake.transform.report import TransformReport

__all__ = ["Engine", "TransformReport", "apply_batch", "open_engine", "rebuild_all"]


def apply_batch(
    lake: Lake, bronze: Mapping[str, pa.Table], quarantine: pa.Table | None, *, engine: Engine | None = None
) -> TransformReport:
    """Append a parsed batch to bronze and merge it into silver and gold on ``engine`` (None: DuckDB).

    ``bronze`` maps endpoint names ("coins_markets", "market_chart", ...) to tables with the bronze
    schemas; ``quarantine`` holds rejected records. Both engines give the same tables, so they may
    take turns on one lake; re-applying the same batch changes no silver or gold content.

    Raises:
        LakeError: a table is missing or data does not fit its schema.
        TerminalError: a Spark job failed.
    """
    return (engine or DuckDBEngine()).apply_batch(lake, bronze, quarantine)


def rebuild_all(lake: Lake, *, exclude_runs: Collection[str] = (), engine: Engine | None = None) -> TransformReport:
    """Recompute silver and gold from all of bronze on ``engine`` (None: DuckDB, in this process).

    Raises:
        LakeError: a table is missing or data does not fit its schema.
    """
    return (engine or DuckDBEngine()).rebuild_all(lake, exclude_runs=exclude_runs)
