"""Check kinds: generic audits (unique, not null, in range, accepted values, references, freshness…).

Every check is an *audit*: a query that returns the bad rows (none = pass). The runner counts
them, keeps a few as a sample and writes one ``ops.dq_results`` row per check. ``severity``
``error`` on a bronze or silver table gates publication (see :mod:`geckolake.quality.gate`);
``warn`` is reported only. Freshness checks feed the freshness alert and ``geckolake status``;
they never gate a run (a run that just wrote is fresh by definition). Which checks apply to which
table is declared in :mod:`geckolake.quality.suite`.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from geckolake.lake.sql import quote_ident, quote_literal, quote_qualified

if TYPE_CHECKING:
    import duckdb

Severity = Literal["warn", "error"]


@dataclass(frozen=True)
class CheckContext:
    """What a check may depend on besides the table: the instant, the run, the settings."""

    now: datetime
    run_id: str | None = None  # scope row checks to this run's rows (tables with _run_id)
    run_rows: dict[str, int] = field(default_factory=dict)  # rows this run wrote per table
    freshness_minutes: dict[str, float] = field(default_factory=dict)  # SLA overrides
    row_count_runs: int = 5
    row_count_ratio: float = 5.0
    price_tolerance: float = 0.05


@dataclass(frozen=True)
class Outcome:
    failing_rows: int
    detail: str
    sample: list[dict[str, object]]


@dataclass(frozen=True)
class Check:
    """Base: ``bad_rows_sql`` returns the offending rows of ``table``."""

    table: str
    name: str
    severity: Severity = "error"
    scoped: bool = False  # row-level: only this run's rows when the table has _run_id
    kind: str = "custom"
    gating: bool = True

    def source(self, ctx: CheckContext, has_run_id: bool) -> str:
        if self.scoped and has_run_id and ctx.run_id is not None:
            return f"(SELECT * FROM {quote_qualified(self.table)} WHERE _run_id = {quote_literal(ctx.run_id)})"
        return quote_qualified(self.table)

    @property
    def reads(self) -> tuple[str, ...]:
        """Every table the check's query names (the runner creates views for these only)."""
        return (self.table,)

    @property
    def counted(self) -> bool:
        """The verdict is the count of ``bad_rows_sql`` (so the runner may count it with others)."""
        return type(self).evaluate is Check.evaluate

    def row_condition(self) -> str | None:
        """For a check whose bad rows are ``SELECT * FROM src WHERE cond``: cond (else None)."""
        return None

    def bad_rows_sql(self, ctx: CheckContext, src: str) -> str:
        cond = self.row_condition()
        if cond is None:
            raise NotImplementedError
        return f"SELECT * FROM {src} WHERE {cond}"

    def describe(self) -> str:
        return self.name

    def evaluate(self, con: duckdb.DuckDBPyConnection, ctx: CheckContext, has_run_id: bool) -> Outcome:
        sql = self.bad_rows_sql(ctx, self.source(ctx, has_run_id))
        n = (con.execute(f"SELECT count(*) FROM ({sql})").fetchone() or (0,))[0]
        return self.outcome(con, ctx, has_run_id, int(n))

    def outcome(self, con: duckdb.DuckDBPyConnection, ctx: CheckContext, has_run_id: bool, n: int) -> Outcome:
        """The verdict for ``n`` bad rows (counted here or by the runner), with a sample of them."""
        sample: list[dict[str, object]] = []
        if n:
            sql = self.bad_rows_sql(ctx, self.source(ctx, has_run_id))
            cur = con.execute(f"SELECT * FROM ({sql}) LIMIT 5")
            cols = [d[0] for d in cur.description or []]
            sample = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
        return Outcome(n, f"{n} bad row(s): {self.describe()}" if n else "ok", sample)


@dataclass(frozen=True)
class Unique(Check):
    """No two rows share ``key`` (whole table)."""

    key: tuple[str, ...] = ()
    kind: str = "unique"

    def bad_rows_sql(self, ctx: CheckContext, src: str) -> str:
        cols = ", ".join(quote_ident(k) for k in self.key)
        return f"SELECT {cols}, count(*) AS copies FROM {src} GROUP BY {cols} HAVING count(*) > 1"

    def describe(self) -> str:
        return f"duplicate key ({', '.join(self.key)})"


@dataclass(frozen=True)
class NotNull(Check):
    columns: tuple[str, ...] = ()
    kind: str = "not_null"
    scoped: bool = True

    def row_condition(self) -> str:
        return " OR ".join(f"{quote_ident(c)} IS NULL" for c in self.columns)

    def describe(self) -> str:
        return f"null in {', '.join(self.columns)}"


@dataclass(frozen=True)
class InRange(Check):
    column: str = ""
    min: float | None = None
    max: float | None = None
    kind: str = "range"
    scoped: bool = True

    def row_condition(self) -> str:
        conds = []
        if self.min is not None:
            conds.append(f"{quote_ident(self.column)} < {self.min}")
        if self.max is not None:
            conds.append(f"{quote_ident(self.column)} > {self.max}")
        return " OR ".join(conds)

    def describe(self) -> str:
        lo = "" if self.min is None else f"{self.min:g} ≤ "
        hi = "" if self.max is None else f" ≤ {self.max:g}"
        return f"{lo}{self.column}{hi} violated"


@dataclass(frozen=True)
class Accepted(Check):
    column: str = ""
    values: tuple[str, ...] = ()
    kind: str = "accepted_values"
    scoped: bool = True

    def row_condition(self) -> str:
        listing = ", ".join(quote_literal(v) for v in self.values)
        return f"{quote_ident(self.column)} IS NOT NULL AND {quote_ident(self.column)} NOT IN ({listing})"

    def describe(self) -> str:
        return f"{self.column} not in {{{', '.join(self.values)}}}"


@dataclass(frozen=True)
class Ordered(Check):
    """``columns[0] ≤ columns[1] ≤ …`` on every row (nulls skipped), e.g. forecast bands around the point."""

    columns: tuple[str, ...] = ()
    tolerance: float = 0.0  # relative slack for floating-point rounding
    kind: str = "ordered"
    scoped: bool = True

    def row_condition(self) -> str:
        pairs = zip(self.columns, self.columns[1:], strict=False)
        return " OR ".join(
            f"{quote_ident(a)} > {quote_ident(b)} + {self.tolerance} * abs({quote_ident(b)})" for a, b in pairs
        )

    def describe(self) -> str:
        return f"{' ≤ '.join(self.columns)} violated"


@dataclass(frozen=True)
class References(Check):
    """Every ``column`` value exists in ``ref_table.ref_column`` (referential integrity)."""

    column: str = "coin_id"
    ref_table: str = "silver.coins"
    ref_column: str = "coin_id"
    kind: str = "references"
    scoped: bool = True

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.table, self.ref_table)

    def bad_rows_sql(self, ctx: CheckContext, src: str) -> str:
        col = quote_ident(self.column)
        return (
            f"SELECT DISTINCT s.{col} FROM {src} s ANTI JOIN {quote_qualified(self.ref_table)} r "
            f"ON s.{col} = r.{quote_ident(self.ref_column)} WHERE s.{col} IS NOT NULL"
        )

    def describe(self) -> str:
        return f"{self.column} missing from {self.ref_table}"


@dataclass(frozen=True)
class Fresh(Check):
    """The newest ``ts_column`` is at most ``minutes`` old (overridable per table in [quality])."""

    ts_column: str = ""
    minutes: float = 15.0
    kind: str = "freshness"
    gating: bool = False
    optional: bool = False  # an empty table passes: the job feeding it is off (e.g. the prices job)

    def sla(self, ctx: CheckContext) -> float:
        return ctx.freshness_minutes.get(self.table, self.minutes)

    def bad_rows_sql(self, ctx: CheckContext, src: str) -> str:
        col = quote_ident(self.ts_column)
        empty = "" if self.optional else f"max({col}) IS NULL OR "
        return (
            f"SELECT max({col}) AS latest, (epoch({quote_literal(ctx.now)}) - epoch(max({col}))) / 60 AS age_minutes, "
            f"{self.sla(ctx)} AS sla_minutes FROM {src} "
            f"HAVING {empty}epoch({quote_literal(ctx.now)}) - epoch(max({col})) > {self.sla(ctx) * 60}"
        )

    def describe(self) -> str:
        return f"newest {self.ts_column} older than the SLA"


@dataclass(frozen=True)
class DailyGaps(Check):
    """Daily series have every day between their first and last point."""

    kind: str = "gaps"
    severity: Severity = "warn"

    def bad_rows_sql(self, ctx: CheckContext, src: str) -> str:
        return (
            f"SELECT coin_id, vs_currency, min(ts) AS first, max(ts) AS last, count(DISTINCT ts) AS points, "
            f"CAST((epoch(max(ts)) - epoch(min(ts))) / 86400 AS BIGINT) + 1 - count(DISTINCT ts) AS missing_days "
            f"FROM {src} WHERE granularity = 'daily' GROUP BY coin_id, vs_currency "
            f"HAVING CAST((epoch(max(ts)) - epoch(min(ts))) / 86400 AS BIGINT) + 1 > count(DISTINCT ts)"
        )

    def describe(self) -> str:
        return "missing days in a daily series"


@dataclass(frozen=True)
class PriceMatchesHistory(Check):
    """Each coin's latest market price is within a volatility-scaled tolerance of its latest history point.

    The history point is the coin's latest ``silver.price_history`` or ``silver.sparkline_prices``
    point at most 2 h before the snapshot. The move between the two, ``|ln(price / point)|``, fails
    beyond ``min(max_tolerance, max(price_tolerance, sigmas · σ · √h))``: σ is the coin's own
    hourly volatility (root mean square of its per-hour-scaled log returns over the
    ``window_hours`` before the snapshot, with at least ``min_returns`` of them, else 0) and h the
    hours between the two timestamps, at least 1 (sparkline hours are inferred and the markets
    price lags its ``last_updated``). So an ordinary move of a volatile small cap passes, a stable
    coin keeps the fixed ``price_tolerance``, and a 2× or ½× error (a move of 0.69) always fails.
    """

    kind: str = "consistency"
    severity: Severity = "warn"
    sigmas: float = 6.0  # the largest move in 18,000 clean simulator snapshots was 4.5σ (fat tails)
    max_tolerance: float = 0.4  # ×1.49 / ×0.67: a price off by half or double always fails
    window_hours: int = 168  # the markets sparkline's 7 days
    min_returns: int = 24

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.table, "silver.price_history", "silver.sparkline_prices")

    def bad_rows_sql(self, ctx: CheckContext, src: str) -> str:
        tolerance = (
            f"least({self.max_tolerance}, greatest({ctx.price_tolerance}, "
            f"{self.sigmas} * coalesce(v.hourly_vol, 0) * sqrt(greatest(n.hours, 1))))"
        )
        return f"""
            WITH latest AS (
                SELECT coin_id, vs_currency, snapshot_ts, current_price FROM {src}
                QUALIFY row_number() OVER (PARTITION BY coin_id, vs_currency ORDER BY snapshot_ts DESC) = 1
            ), points AS (
                -- the history and sparkline points of the window before each snapshot, one per instant
                SELECT p.coin_id, p.vs_currency, p.ts, avg(p.price) AS price
                FROM (
                    SELECT coin_id, vs_currency, ts, price FROM silver.price_history
                    UNION ALL SELECT coin_id, vs_currency, ts, price FROM silver.sparkline_prices
                ) p JOIN latest l ON p.coin_id = l.coin_id AND p.vs_currency = l.vs_currency
                 AND p.ts <= l.snapshot_ts AND p.ts > l.snapshot_ts - INTERVAL {int(self.window_hours)} HOUR
                GROUP BY p.coin_id, p.vs_currency, p.ts
            ), nearest AS (
                SELECT l.*, p.ts AS history_ts, p.price AS history_price,
                       (epoch(l.snapshot_ts) - epoch(p.ts)) / 3600 AS hours
                FROM latest l JOIN points p ON p.coin_id = l.coin_id AND p.vs_currency = l.vs_currency
                 AND p.ts >= l.snapshot_ts - INTERVAL 2 HOUR
                QUALIFY row_number() OVER (PARTITION BY l.coin_id, l.vs_currency ORDER BY p.ts DESC) = 1
            ), steps AS (
                SELECT coin_id, vs_currency, price, lag(price) OVER w AS before,
                       (epoch(ts) - epoch(lag(ts) OVER w)) / 3600 AS step_hours
                FROM points WINDOW w AS (PARTITION BY coin_id, vs_currency ORDER BY ts)
            ), vol AS (
                -- realized hourly volatility: each log return scaled to one hour, zero mean
                SELECT coin_id, vs_currency, sqrt(avg(pow(ln(price / before), 2) / step_hours)) AS hourly_vol
                FROM (SELECT * FROM steps WHERE price > 0 AND before > 0 AND step_hours > 0)
                GROUP BY coin_id, vs_currency HAVING count(*) >= {int(self.min_returns)}
            ), judged AS (
                SELECT n.coin_id, n.vs_currency, n.snapshot_ts, n.current_price, n.history_ts, n.history_price,
                       CASE WHEN n.current_price > 0 THEN abs(ln(n.current_price / n.history_price)) END AS move,
                       v.hourly_vol, {tolerance} AS tolerance
                FROM (SELECT * FROM nearest WHERE history_price > 0) n
                LEFT JOIN vol v ON v.coin_id = n.coin_id AND v.vs_currency = n.vs_currency
            )
            SELECT * FROM judged WHERE current_price <= 0 OR move > tolerance"""

    def describe(self) -> str:
        return "latest market price further from the latest history point than the coin's volatility explains"


@dataclass(frozen=True)
class RowCountAnomaly(Check):
    """This run's rows for the table vs the median of recent runs (same command)."""

    kind: str = "row_count"
    severity: Severity = "warn"
    gating: bool = False

    @property
    def reads(self) -> tuple[str, ...]:
        return ("ops.pipeline_runs",)

    def evaluate(self, con: duckdb.DuckDBPyConnection, ctx: CheckContext, has_run_id: bool) -> Outcome:
        current = ctx.run_rows.get(self.table)
        rows = con.execute(
            "SELECT rows_json FROM ops.pipeline_runs WHERE status IN ('succeeded', 'partial') "
            f"ORDER BY started_at DESC LIMIT {int(ctx.row_count_runs) + (0 if ctx.run_rows else 1)}"
        ).fetchall()
        history = [json.loads(r[0] or "{}").get(self.table) for r in rows]
        if not ctx.run_rows and history:  # on demand: the last run against the ones before it
            current, history = history[0], history[1:]
        past = [h for h in history if isinstance(h, int) and h > 0]
        if current is None or len(past) < 2:
            return Outcome(0, "ok (not enough recent runs)", [])
        median = statistics.median(past)
        ratio = ctx.row_count_ratio
        if current > median * ratio or current < median / ratio:
            detail = f"{current} rows vs median {median:g} of {len(past)} recent runs"
            return Outcome(1, detail, [{"rows": current, "median": median}])
        return Outcome(0, "ok", [])


@dataclass(frozen=True)
class DriftNotRecovered(Check):
    """Calls of ``ops.raw_manifest`` whose body lacked a part (schema drift: the manifest's ``error``
    matches ``pattern``) and that no later complete (``ok``) call of the same request has replaced.

    "The same request": for a chart, the coin, currency and granularity (the planner asks for the
    missing span again, from other ``from``/``to``); for any other call, the same parameters. Until
    then the part is missing from the lake; once the planner's next fetch lands complete, it passes.
    """

    pattern: str = "missing required: %"
    kind: str = "drift"

    def bad_rows_sql(self, ctx: CheckContext, src: str) -> str:
        same = (
            "o.endpoint = i.endpoint AND CASE WHEN i.coin_id IS NULL THEN o.params_json = i.params_json "
            "ELSE o.coin_id = i.coin_id AND o.vs_currency IS NOT DISTINCT FROM i.vs_currency "
            "AND o.granularity IS NOT DISTINCT FROM i.granularity END"
        )
        return (
            f"SELECT i.run_id, i.seq, i.endpoint, i.coin_id, i.fetched_at, i.outcome, i.error FROM {src} i "
            f"WHERE i.outcome <> 'ok' AND i.error LIKE {quote_literal(self.pattern)} AND NOT EXISTS "
            f"(SELECT 1 FROM {src} o WHERE o.outcome = 'ok' AND o.fetched_at > i.fetched_at AND {same})"
        )

    def describe(self) -> str:
        return f"calls whose body lacked a part ({self.pattern.rstrip(' %')}), not fetched complete since"
