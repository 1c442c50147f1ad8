"""gold.coin_risk on Spark: one pandas group per (coin, currency), the same numpy functions as in the driver.

``applyInPandas`` hands each group (one coin's gold.coin_daily rows in one currency) to
:func:`geckolake.analytics.risk.coin_risk`, the function the driver's batched ``risk_table`` gives
the same values as (tests/unit/analytics/test_risk_batched.py: per coin equals batched), with the benchmark's
series (bitcoin's, per currency) shipped to every task. No formula is written twice.

The cross-coin tables (market index, movers, correlations) are per currency, not per coin; they stay
in the driver, over the same gold.coin_daily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from geckolake.analytics.risk import BENCHMARK, coin_risk
from geckolake.analytics.series import DAILY_COLUMNS, Series, iter_series, sort_order
from geckolake.lake.catalog import Lake
from geckolake.transform.spark_engine import read_table, spark_schema, to_arrow

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import SparkSession

TABLE = "gold.coin_risk"


def risk_on_spark(spark: SparkSession, lake: Lake, daily: pa.Table, risk_free_rate: float) -> pa.Table:
    """gold.coin_risk for every day of every (coin, currency) of gold.coin_daily, computed on ``spark``.

    ``daily`` is gold.coin_daily as :func:`geckolake.analytics.series.load_daily` read it (the driver
    needs only the benchmark's rows of it).
    """
    schema = lake.arrow_schema(TABLE)
    daily_schema = daily.schema
    bench_rows = daily.filter(pc.equal(daily["coin_id"], BENCHMARK))
    bench: dict[str, Series] = {s.vs_currency: s for s in iter_series(bench_rows)}

    def per_coin(rows: pd.DataFrame) -> pd.DataFrame:
        table = pa.Table.from_pandas(rows, schema=daily_schema, preserve_index=False)
        (series,) = iter_series(table.take(sort_order(table)))
        return coin_risk(series, bench.get(series.vs_currency), None, risk_free_rate).select(schema.names).to_pandas()

    frame: Any = read_table(spark, lake, "gold.coin_daily").select(*DAILY_COLUMNS)
    result = frame.groupBy("coin_id", "vs_currency").applyInPandas(per_coin, schema=spark_schema(schema))
    return to_arrow(result, schema, TABLE)
