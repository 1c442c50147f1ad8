"""Bronze → silver → gold: incremental per batch (``apply_batch``) or from scratch (``rebuild_all``).

Both run the same SQL models (``transform/silver``, ``transform/gold``) in DuckDB over Arrow and
commit through PyIceberg, one commit per table written:

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

==================  ===============================================================================
``incremental``     ``apply_batch`` and the incremental gold recompute
``rebuild``         ``rebuild_all``, chunked by month and coin id in bounded memory
``merge``           silver merges and the per-key dedup both share
``returns``         gold.coin_daily's returns (they need the previous day's close)
``recovery``        ``ops.transform_log``: bronze left unmerged by an interrupted run
``live_prices``     ``silver.live_prices``, merged by the prices poll rather than by a run's batches
``report``          ``TransformReport``
==================  ===============================================================================
"""

from __future__ import annotations

from geckolake.transform.incremental import apply_batch
from geckolake.transform.rebuild import rebuild_all
from geckolake.transform.report import TransformReport

__all__ = ["TransformReport", "apply_batch", "rebuild_all"]
