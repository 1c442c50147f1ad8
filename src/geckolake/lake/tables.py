"""Every table of the lake: name, Arrow schema, declared key, identity partition column, grain.

The definitions are the single source of truth for ``open_lake`` (which creates the tables),
the transforms (which merge by ``key`` and overwrite by ``partition``) and ``docs/tables.md``.

Bronze schemas come from :mod:`geckolake.lake.bronze`, the one place the parsers also take them from.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from geckolake.lake.bronze import BRONZE_SCHEMAS, LINEAGE_FIELDS, QUARANTINE_SCHEMA, TS

STR = pa.string()
F64 = pa.float64()
I64 = pa.int64()
I32 = pa.int32()

LINEAGE_COLUMNS: tuple[str, ...] = ("_run_id", "_fetched_at", "_raw_sha256", "_raw_path")
LAYERS: tuple[str, ...] = ("bronze", "silver", "gold", "ops")

_LINEAGE_FIELDS = list(LINEAGE_FIELDS)


def _schema(*fields: tuple[str, pa.DataType], lineage: bool = False) -> pa.Schema:
    out = [pa.field(name, typ) for name, typ in fields]
    return pa.schema(out + (_LINEAGE_FIELDS if lineage else []))


@dataclass(frozen=True)
class TableDef:
    """One Iceberg table: its schema, declared key, identity partition column and grain."""

    name: str  # "<namespace>.<table>"
    schema: pa.Schema
    key: tuple[str, ...] = ()
    partition: str | None = None  # identity-partitioned column, or None for unpartitioned
    grain: str = ""

    @property
    def namespace(self) -> str:
        return self.name.split(".", 1)[0]


# --- bronze: the schemas live in geckolake.lake.bronze (the parsers produce exactly those) ------


def bronze_schemas() -> tuple[dict[str, pa.Schema], pa.Schema]:
    """The bronze schemas by table name (``"quarantine"`` included) and the quarantine schema."""
    return dict(BRONZE_SCHEMAS), QUARANTINE_SCHEMA


# --- silver -----------------------------------------------------------------------------------

SILVER: tuple[TableDef, ...] = (
    TableDef(
        "silver.coins",
        _schema(
            ("coin_id", STR),
            ("symbol", STR),
            ("name", STR),
            ("image", STR),
            ("market_cap_rank", I64),
            ("rank_ts", TS),
            ("platforms", pa.map_(STR, STR)),
            ("name_source", STR),
            ("first_seen", TS),
            ("last_seen", TS),
            ("_platforms_fetched_at", TS),
            lineage=True,
        ),
        key=("coin_id",),
        grain="one row per coin ever seen in /coins/markets or /coins/list",
    ),
    TableDef(
        "silver.market_snapshots",
        _schema(
            ("coin_id", STR),
            ("vs_currency", STR),
            ("snapshot_ts", TS),
            ("symbol", STR),
            ("name", STR),
            ("current_price", F64),
            ("market_cap", F64),
            ("market_cap_rank", I64),
            ("fully_diluted_valuation", F64),
            ("total_volume", F64),
            ("high_24h", F64),
            ("low_24h", F64),
            ("price_change_24h", F64),
            ("price_change_percentage_24h", F64),
            ("market_cap_change_24h", F64),
            ("market_cap_change_percentage_24h", F64),
            ("price_change_percentage_1h", F64),
            ("price_change_percentage_24h_in_currency", F64),
            ("price_change_percentage_7d", F64),
            ("price_change_percentage_30d", F64),
            ("circulating_supply", F64),
            ("total_supply", F64),
            ("max_supply", F64),
            ("ath", F64),
            ("ath_change_percentage", F64),
            ("ath_date", TS),
            ("atl", F64),
            ("atl_change_percentage", F64),
            ("atl_date", TS),
            ("roi_times", F64),
            ("roi_currency", STR),
            ("roi_percentage", F64),
            ("last_updated", TS),
            ("date", pa.date32()),
            lineage=True,
        ),
        key=("coin_id", "vs_currency", "snapshot_ts"),
        partition="date",
        grain="one row per distinct CoinGecko market snapshot (coin, currency, last_updated)",
    ),
    TableDef(
        "silver.price_history",
        _schema(
            ("coin_id", STR),
            ("vs_currency", STR),
            ("ts", TS),
            ("granularity", STR),
            ("price", F64),
            ("market_cap", F64),
            ("total_volume", F64),
            ("month", STR),
            lineage=True,
        ),
        key=("coin_id", "vs_currency", "ts", "granularity"),
        partition="month",
        grain="one row per market_chart point (coin, currency, time, granularity)",
    ),
    TableDef(
        "silver.sparkline_prices",
        _schema(
            ("coin_id", STR),
            ("vs_currency", STR),
            ("ts", TS),
            ("price", F64),
            ("snapshot_ts", TS),
            ("date", pa.date32()),
            lineage=True,
        ),
        key=("coin_id", "vs_currency", "ts"),
        partition="date",
        grain="one row per inferred hourly sparkline point (coin, currency, hour)",
    ),
    TableDef(
        "silver.live_prices",
        _schema(
            ("coin_id", STR),
            ("vs_currency", STR),
            ("last_updated_at", TS),
            ("price", F64),
            ("market_cap", F64),
            ("vol_24h", F64),
            ("change_24h", F64),
            ("date", pa.date32()),
            lineage=True,
        ),
        key=("coin_id", "vs_currency", "last_updated_at"),
        partition="date",
        grain="one row per distinct /simple/price point (coin, currency, CoinGecko's last_updated_at)",
    ),
    TableDef(
        "silver.global_market",
        _schema(
            ("updated_at", TS),
            ("active_cryptocurrencies", I64),
            ("upcoming_icos", I64),
            ("ongoing_icos", I64),
            ("ended_icos", I64),
            ("markets", I64),
            ("total_market_cap_usd", F64),
            ("total_volume_usd", F64),
            ("btc_dominance", F64),
            ("eth_dominance", F64),
            ("market_cap_change_percentage_24h_usd", F64),
            ("volume_change_percentage_24h_usd", F64),
            ("total_market_cap", pa.map_(STR, F64)),
            ("total_volume", pa.map_(STR, F64)),
            ("market_cap_percentage", pa.map_(STR, F64)),
            lineage=True,
        ),
        key=("updated_at",),
        grain="one row per /global snapshot (CoinGecko's updated_at)",
    ),
    TableDef(
        "silver.categories",
        _schema(
            ("category_id", STR),
            ("snapshot_date", pa.date32()),
            ("name", STR),
            ("market_cap", F64),
            ("market_cap_change_24h", F64),
            ("volume_24h", F64),
            ("content", STR),
            ("top_3_coins_id", pa.list_(STR)),
            ("top_3_coins", pa.list_(STR)),
            ("position", I32),
            ("updated_at", TS),
            lineage=True,
        ),
        key=("category_id", "snapshot_date"),
        grain="one row per category per UTC day (latest fetch of the day wins)",
    ),
    TableDef(
        "silver.category_members",
        _schema(
            ("category_id", STR),
            ("coin_id", STR),
            ("snapshot_date", pa.date32()),
            ("rank_in_category", I32),
            ("vs_currency", STR),
            ("market_cap", F64),
            ("market_cap_rank", pa.int64()),
            ("last_updated", TS),
            lineage=True,
        ),
        key=("category_id", "coin_id", "snapshot_date"),
        grain="one row per category, member coin and UTC day of a /coins/markets?category= fetch",
    ),
    TableDef(
        "silver.trending",
        _schema(
            ("snapshot_ts", TS),
            ("item_type", STR),
            ("item_id", STR),
            ("name", STR),
            ("symbol", STR),
            ("market_cap_rank", I64),
            ("score", I64),
            ("position", I32),
            ("price_btc", F64),
            ("price_usd", F64),
            ("market_cap_usd", F64),
            ("total_volume_usd", F64),
            ("price_change_percentage_24h_usd", F64),
            ("coins_count", I64),
            ("floor_price", STR),
            lineage=True,
        ),
        key=("snapshot_ts", "item_type", "item_id"),
        grain="one trending list per UTC hour (the latest fetch of the hour), one row per item",
    ),
)

# --- gold ---------------------------------------------------------------------------------------

GOLD: tuple[TableDef, ...] = (
    TableDef(
        "gold.coin_aggregates",
        _schema(
            ("coin_id", STR),
            ("vs_currency", STR),
            ("date", pa.date32()),
            ("symbol", STR),
            ("name", STR),
            ("avg_price", F64),
            ("min_price", F64),
            ("max_price", F64),
            ("records_count", I64),
            ("first_snapshot_ts", TS),
            ("last_snapshot_ts", TS),
            ("month", STR),
        ),
        key=("coin_id", "vs_currency", "date"),
        partition="month",
        grain="one row per coin, currency and UTC day with at least one market snapshot",
    ),
    TableDef(
        "gold.coin_daily",
        _schema(
            ("coin_id", STR),
            ("vs_currency", STR),
            ("date", pa.date32()),
            ("open", F64),
            ("high", F64),
            ("low", F64),
            ("close", F64),
            ("volume", F64),
            ("market_cap", F64),
            ("market_cap_rank", I64),
            ("return_1d", F64),
            ("log_return_1d", F64),
            ("quality", STR),
            ("source", STR),
            ("observations", I64),
            ("month", STR),
        ),
        key=("coin_id", "vs_currency", "date"),
        partition="month",
        grain="one row per coin, currency and UTC day with at least one observation",
    ),
    # --- analytics (geckolake.analytics; formulas in docs/metrics.md) ---
    TableDef(
        "gold.coin_risk",
        _schema(
            ("coin_id", STR),
            ("vs_currency", STR),
            ("date", pa.date32()),
            ("vol_7d", F64),
            ("vol_30d", F64),
            ("vol_90d", F64),
            ("max_drawdown_90d", F64),
            ("max_drawdown_365d", F64),
            ("sharpe_90d", F64),
            ("beta_btc_90d", F64),
            ("corr_btc_90d", F64),
            ("var_95_1d", F64),
            ("es_95_1d", F64),
            ("month", STR),
        ),
        key=("coin_id", "vs_currency", "date"),
        partition="month",
        grain="one row per gold.coin_daily row: trailing-window risk measures ending on the day",
    ),
    TableDef(
        "gold.market_daily",
        _schema(
            ("vs_currency", STR),
            ("date", pa.date32()),
            ("total_market_cap", F64),
            ("total_volume", F64),
            ("totals_source", STR),
            ("covered_market_cap", F64),
            ("covered_volume", F64),
            ("btc_dominance", F64),
            ("eth_dominance", F64),
            ("stablecoin_share", F64),
            ("coins", I64),
            ("advancers", I64),
            ("decliners", I64),
            ("unchanged", I64),
            ("provisional_coins", I64),
            ("index_level", F64),
            ("index_return", F64),
            ("index_constituents", I64),
        ),
        key=("vs_currency", "date"),
        grain="one row per currency and UTC day with at least one gold.coin_daily row",
    ),
    TableDef(
        "gold.top_movers",
        _schema(
            ("vs_currency", STR),
            ("date", pa.date32()),
            ("horizon", STR),
            ("direction", STR),
            ("position", I32),
            ("coin_id", STR),
            ("period_return", F64),
            ("universe_rank", I32),
            ("month", STR),
        ),
        key=("vs_currency", "date", "horizon", "direction", "position"),
        partition="month",
        grain="one row per currency, day, horizon (1d/7d/30d), direction (top/bottom) and position",
    ),
    TableDef(
        "gold.correlations",
        _schema(
            ("vs_currency", STR),
            ("date", pa.date32()),
            ("window_days", I32),
            ("coin_a", STR),
            ("coin_b", STR),
            ("corr", F64),
            ("month", STR),
        ),
        key=("vs_currency", "date", "window_days", "coin_a", "coin_b"),
        partition="month",
        grain="one row per currency, day, window (30/90) and ordered pair of distinct top-N coins",
    ),
    TableDef(
        "gold.category_daily",
        _schema(
            ("category_id", STR),
            ("date", pa.date32()),
            ("name", STR),
            ("market_cap", F64),
            ("volume", F64),
            ("return_1d", F64),
            ("coin_count", I64),
            ("top_3_coins_id", pa.list_(STR)),
        ),
        key=("category_id", "date"),
        grain="one row per category and UTC day in silver.categories",
    ),
    TableDef(
        "gold.price_forecasts",
        _schema(
            ("coin_id", STR),
            ("vs_currency", STR),
            ("run_date", pa.date32()),
            ("model", STR),
            ("horizon", I32),
            ("target_date", pa.date32()),
            ("point", F64),
            ("lo_80", F64),
            ("hi_80", F64),
            ("lo_95", F64),
            ("hi_95", F64),
            ("last_close", F64),
            ("train_days", I32),
            ("month", STR),
        ),
        key=("coin_id", "vs_currency", "run_date", "model", "horizon"),
        partition="month",
        grain="one row per coin, currency, forecast origin (run_date), model and horizon (1-30 days)",
    ),
    TableDef(
        "gold.forecast_backtests",
        _schema(
            ("coin_id", STR),
            ("vs_currency", STR),
            ("run_date", pa.date32()),
            ("model", STR),
            ("horizon", I32),
            ("folds", I32),
            ("mape", F64),
            ("smape", F64),
            ("mase", F64),
            ("coverage_80", F64),
            ("coverage_95", F64),
            ("beats_naive", pa.bool_()),
            ("month", STR),
        ),
        key=("coin_id", "vs_currency", "run_date", "model", "horizon"),
        partition="month",
        grain="one row per coin, currency, run_date, model and horizon: rolling-origin backtest scores",
    ),
)

# --- ops ----------------------------------------------------------------------------------------

OPS: tuple[TableDef, ...] = (
    TableDef(
        "ops.raw_manifest",
        _schema(
            ("run_id", STR),
            ("seq", I64),
            ("endpoint", STR),
            ("path", STR),
            ("params_json", STR),
            ("coin_id", STR),
            ("vs_currency", STR),
            ("granularity", STR),
            ("status", I32),
            ("outcome", STR),
            ("error", STR),
            ("fetched_at", TS),
            ("elapsed_ms", F64),
            ("attempts", I32),
            ("sha256", STR),
            ("size_bytes", I64),
            ("raw_path", STR),
        ),
        key=("run_id", "seq"),
        grain="one row per API request a run made (ok, quarantined or failed)",
    ),
    TableDef(
        "ops.pipeline_runs",
        _schema(
            ("run_id", STR),
            ("command", STR),
            ("as_of", TS),
            ("started_at", TS),
            ("finished_at", TS),
            ("status", STR),
            ("api_calls", I64),
            ("retries", I64),
            ("rate_limited", I64),
            ("failed_requests", I64),
            ("quarantined", I64),
            ("rows_json", STR),
            ("error", STR),
            ("plan", STR),  # the CoinGecko plan the run used (added later: null in older rows)
        ),
        key=("run_id",),
        grain="one row per pipeline run",
    ),
    TableDef(
        "ops.transform_log",
        _schema(
            ("batch_id", STR),
            ("kind", STR),
            ("finished_at", TS),
            ("bronze_snapshots_json", STR),
        ),
        key=("batch_id",),
        grain="one row per completed apply_batch / rebuild_all: the bronze snapshots merged so far",
    ),
    # --- operations (geckolake.quality, geckolake.ops) ---
    TableDef(
        "ops.dq_results",
        _schema(
            ("check_run_id", STR),
            ("run_id", STR),
            ("checked_at", TS),
            ("table_name", STR),
            ("check_name", STR),
            ("kind", STR),
            ("severity", STR),
            ("passed", pa.bool_()),
            ("failing_rows", I64),
            ("detail", STR),
            ("sample_json", STR),
        ),
        key=("check_run_id", "table_name", "check_name"),
        grain="one row per data-quality check per evaluation (a run's gate or `geckolake check`)",
    ),
    TableDef(
        "ops.anomalies",
        _schema(
            ("run_id", STR),
            ("detected_at", TS),
            ("kind", STR),
            ("coin_id", STR),
            ("vs_currency", STR),
            ("snapshot_ts", TS),
            ("value", F64),
            ("expected", F64),
            ("score", F64),
            ("detail", STR),
        ),
        key=("run_id", "kind", "coin_id", "vs_currency", "snapshot_ts"),
        grain="one row per market anomaly found in a run's snapshots",
    ),
    TableDef(
        "ops.task_runs",
        _schema(
            ("run_id", STR),
            ("task", STR),
            ("command", STR),
            ("started_at", TS),
            ("finished_at", TS),
            ("seconds", F64),
            ("status", STR),
            ("rows_in", I64),
            ("rows_out", I64),
            ("api_calls", I64),
            ("retries", I64),
            ("rate_limited", I64),
            ("bytes_in", I64),
            ("error", STR),
        ),
        key=("run_id", "task"),
        grain="one row per phase of a pipeline run (fetch/commit phases, quality, publish)",
    ),
    TableDef(
        "ops.alerts_sent",
        _schema(
            ("alert_key", STR),
            ("rule", STR),
            ("severity", STR),
            ("title", STR),
            ("sent_at", TS),
            ("channels", STR),
            ("outcome", STR),
            ("run_id", STR),
        ),
        key=("alert_key", "sent_at"),
        grain="one row per alert delivered (or attempted); the de-duplication and cool-down state",
    ),
)


def bronze_tables() -> tuple[TableDef, ...]:
    """Bronze table definitions: one per endpoint plus ``bronze.quarantine`` (append-only)."""
    defs = [
        TableDef(f"bronze.{name}", schema, grain="one row per entity per response")
        for name, schema in BRONZE_SCHEMAS.items()
        if name != "quarantine"
    ]
    defs.append(TableDef("bronze.quarantine", QUARANTINE_SCHEMA, grain="one row per rejected record or body"))
    return tuple(defs)


def all_tables() -> dict[str, TableDef]:
    """Every table of the lake by full name, in creation order."""
    return {t.name: t for t in (*bronze_tables(), *SILVER, *GOLD, *OPS)}
