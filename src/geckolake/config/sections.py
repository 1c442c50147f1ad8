"""Typed sections of :class:`geckolake.config.Settings`: ``[quality]``, ``[alerts]``, ``[schedule]``,
``[maintenance]`` (operations, see docs/operations.md), ``[analytics]`` (see docs/metrics.md) and
``[transform]`` (the engine, see docs/spark.md).

Each is a field of ``Settings``, so ``geckolake.toml`` sections, flags and ``GECKOLAKE_<SECTION>``
(a JSON object) resolve with the usual precedence.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

RuleName = Literal["run_failed", "check_failed", "freshness", "anomaly", "budget"]
ALL_RULES: tuple[RuleName, ...] = ("run_failed", "check_failed", "freshness", "anomaly", "budget")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QualitySettings(_Section):
    """Data-quality checks and the publication gate."""

    gate: bool = Field(default=True, description="error-level silver failures keep gold at its last good snapshot")
    freshness_minutes: dict[str, float] = Field(
        default_factory=dict, description="per-table freshness SLA overrides, minutes (table name → minutes)"
    )
    row_count_runs: int = Field(default=5, ge=2, description="recent runs the row-count anomaly compares with")
    row_count_ratio: float = Field(default=5.0, gt=1, description="a run writing > ratio× or < 1/ratio× the median")
    price_tolerance: float = Field(
        default=0.05,
        gt=0,
        description="floor of markets price vs latest history point (|ln ratio|); scaled up by the coin's volatility",
    )
    anomaly_sigma: float = Field(default=6.0, gt=0, description="price jump beyond k·σ of recent returns")
    anomaly_window: int = Field(default=30, ge=3, description="recent snapshots per coin for σ and volume")
    stale_snapshots: int = Field(default=6, ge=2, description="unchanged price across N snapshots is stale")
    volume_spike: float = Field(default=10.0, gt=1, description="volume > factor × recent median")
    cap_tolerance: float = Field(default=0.10, gt=0, description="market cap vs price × circulating supply")


class AlertSettings(_Section):
    """Where alerts go and when they are sent. Secrets (URLs with tokens, passwords) never appear in alerts."""

    rules: list[RuleName] = Field(default_factory=lambda: list(ALL_RULES))
    cooldown_minutes: float = Field(default=60.0, ge=0, description="same alert again only after this")
    webhook_url: SecretStr | None = Field(default=None, description="Slack-compatible incoming webhook")
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "geckolake@localhost"
    smtp_to: list[str] = Field(default_factory=list)
    sns_topic_arn: str | None = None
    timeout_s: float = Field(default=10.0, gt=0)


class JobSettings(_Section):
    """One scheduled job."""

    cron: str
    kind: Literal["markets", "history", "prices", "maintenance", "watch"]
    enabled: bool = True


def default_jobs() -> dict[str, JobSettings]:
    return {
        "markets": JobSettings(cron="*/5 * * * *", kind="markets"),
        "history": JobSettings(cron="40 0 * * *", kind="history"),
        "maintenance": JobSettings(cron="55 0 * * *", kind="maintenance"),
        "watch": JobSettings(cron="*/5 * * * *", kind="watch"),
        "prices": JobSettings(cron="* * * * *", kind="prices", enabled=False),
    }


class ScheduleSettings(_Section):
    """``geckolake schedule``: cron jobs, missed-run policy, credit budget, metrics port."""

    jobs: dict[str, JobSettings] = Field(default_factory=default_jobs)
    missed: Literal["skip", "run_once"] = Field(
        default="run_once", description="after downtime: run a missed job once, or wait for its next time"
    )
    budget_fraction: float = Field(
        default=1.0, gt=0, description="stop scheduling calls when projected monthly usage exceeds this × plan credits"
    )
    monthly_credits: int | None = Field(default=None, ge=1, description="override the plan's monthly credits")
    metrics_port: int | None = Field(default=None, ge=0, le=65535, description="serve /metrics on 127.0.0.1:PORT")
    price_coins: int = Field(default=50, ge=1, le=1000, description="coins polled by the prices job")


class MaintenanceSettings(_Section):
    """Compaction, snapshot expiry and the orphan-file sweep."""

    small_file_count: int = Field(default=8, ge=2, description="compact a table (or partition) above this many files")
    keep_snapshots_hours: float = Field(default=168.0, ge=0, description="time travel kept, hours")
    keep_last_snapshots: int = Field(default=5, ge=1, description="always keep at least this many snapshots")
    orphan_min_age_hours: float = Field(
        default=24.0, ge=0, description="delete files no snapshot references once older than this, hours"
    )


# USD-pegged stablecoins known by id; a coin whose close stayed within 2% of 1 USD for 30 days is
# treated as one too (see docs/metrics.md, gold.market_daily). Kept here, not in analytics, because it
# is the default of ``AnalyticsSettings.stablecoins`` and config sits below analytics in the layers.
KNOWN_STABLECOINS: frozenset[str] = frozenset(
    {
        "tether",
        "usd-coin",
        "dai",
        "first-digital-usd",
        "ethena-usde",
        "true-usd",
        "paypal-usd",
        "frax",
        "usds",
        "binance-usd",
        "paxos-standard",
        "gemini-dollar",
        "usdd",
        "liquity-usd",
    }
)

ForecastModel = Literal["naive", "auto_ets", "auto_theta"]
FORECAST_MODELS: tuple[ForecastModel, ...] = ("naive", "auto_ets", "auto_theta")


class AnalyticsSettings(_Section):
    """What the analytics compute (``[analytics]``): universe sizes, windows and forecasting knobs.

    Frozen (and hashable), so one instance can serve as a function's default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    risk_free_rate: float = Field(default=0.0, description="annual, for Sharpe (daily rate = annual / 365)")
    index_size: int = Field(default=10, ge=1, description="constituents of the market-cap-weighted index")
    movers_universe: int = Field(default=50, ge=1, description="top N by market cap among which movers are ranked")
    movers_count: int = Field(default=10, ge=1, description="rows per (day, horizon, direction)")
    correlation_coins: int = Field(
        default=20, ge=0, description="top N by market cap whose pairwise correlations are kept"
    )
    forecast_coins: int = Field(default=10, ge=0, description="top N by market cap that get forecasts and backtests")
    forecast_stablecoins: bool = Field(
        default=False, description="let stablecoins (as gold.market_daily classifies them) among the forecast coins"
    )
    beats_naive_min_gain: float = Field(
        default=0.05, ge=0.0, lt=1.0, description="relative MASE gain over naive a model needs for beats_naive"
    )
    forecast_models: tuple[ForecastModel, ...] = Field(default=FORECAST_MODELS, description="models fitted per coin")
    forecast_horizon: int = Field(default=30, ge=1, description="days forecast")
    backtest_folds: int = Field(default=6, ge=0, description="rolling origins")
    backtest_step: int = Field(default=7, ge=1, description="days between origins")
    train_days: int = Field(default=365, ge=1, description="most recent closes a model is fitted on")
    min_train_days: int = Field(default=60, ge=1, description="fewer contiguous closes: no forecast for the coin")
    category_members: int = Field(
        default=5,
        ge=0,
        description="top N categories by market cap whose members are fetched once a day (besides stablecoins)",
    )
    stablecoins: frozenset[str] = Field(
        default=KNOWN_STABLECOINS, description="coin ids always counted as stablecoins (besides the 30-day USD rule)"
    )


class TransformSettings(_Section):
    """``[transform]``: where silver and gold are computed (docs/spark.md)."""

    engine: Literal["duckdb", "spark"] = Field(
        default="duckdb", description="duckdb (in this process) or spark (PySpark; `--engine`, GECKOLAKE_ENGINE)"
    )
    spark_master: str = Field(
        default="local[*]",
        min_length=1,
        description="the master of the session a command starts (engine spark); cluster: the cluster's own (Glue, EMR)",
    )
