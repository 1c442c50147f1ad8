"""Health at a glance: last run per job, freshness vs SLA, failing checks, API credits this month."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from geckolake.config import Settings
    from geckolake.lake.catalog import Lake


@dataclass(frozen=True)
class JobStatus:
    command: str
    run_id: str
    status: str
    started_at: datetime | None
    seconds: float | None
    api_calls: int
    error: str | None


@dataclass(frozen=True)
class Freshness:
    table: str
    latest: datetime | None
    age_minutes: float | None
    sla_minutes: float
    severity: str

    @property
    def ok(self) -> bool:
        return self.age_minutes is not None and self.age_minutes <= self.sla_minutes


@dataclass(frozen=True)
class FailingCheck:
    table: str
    check: str
    severity: str
    detail: str
    checked_at: datetime


@dataclass(frozen=True)
class Credits:
    month: str
    used: int
    plan: str
    monthly: int | None

    @property
    def fraction(self) -> float | None:
        return self.used / self.monthly if self.monthly else None


@dataclass
class Status:
    now: datetime
    jobs: list[JobStatus] = field(default_factory=list)
    freshness: list[Freshness] = field(default_factory=list)
    failing: list[FailingCheck] = field(default_factory=list)
    credits: Credits | None = None

    @property
    def healthy(self) -> bool:
        return (
            all(f.ok for f in self.freshness if f.severity == "error")
            and not any(c.severity == "error" for c in self.failing)
            and all(j.status in ("succeeded", "partial") for j in self.jobs)
        )

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "healthy": self.healthy}, default=str, indent=2)


def monthly_credits(settings: Settings, plan: str | None = None) -> int | None:
    """The month's credit budget: ``[schedule] monthly_credits``, else that of ``plan`` (default: the settings')."""
    from geckolake.api.plans import get_plan

    return settings.schedule.monthly_credits or get_plan(plan or settings.plan_name).monthly_credits


def last_plan(con: duckdb.DuckDBPyConnection) -> str | None:
    """The plan of the newest run that recorded one (lakes made before runs recorded it have none)."""
    columns = {d[0] for d in con.execute("SELECT * FROM ops.pipeline_runs LIMIT 0").description or []}
    if "plan" not in columns:
        return None
    row = con.execute(
        "SELECT plan FROM ops.pipeline_runs WHERE plan IS NOT NULL ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    return str(row[0]) if row else None


def credits_used(con: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Calls answered by the API this calendar month (UTC): each is one credit."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    row = con.execute(
        "SELECT count(*) FROM ops.raw_manifest WHERE status IS NOT NULL AND fetched_at >= ?",
        [start],
    ).fetchone()
    return int(row[0]) if row else 0


# Optional tables (their job may be off) whose job is recorded in the ledger: once the job has run,
# an empty table is news (a replay dropped the forecasts; `geckolake forecast` refits them).
FED_BY = {"gold.price_forecasts": "forecast", "gold.forecast_backtests": "forecast"}


def _job_ran(con: duckdb.DuckDBPyConnection, command: str | None) -> bool:
    if command is None:
        return False
    row = con.execute("SELECT count(*) FROM ops.pipeline_runs WHERE command = ?", [command]).fetchone()
    return bool(row and row[0])


def freshness(lake: Lake, settings: Settings, con: duckdb.DuckDBPyConnection | None = None) -> list[Freshness]:
    """Each table with a freshness SLA: newest timestamp, age and SLA at ``settings.now()``."""
    from geckolake.lake.sql import quote_ident, quote_literal, quote_qualified
    from geckolake.quality.checks import Fresh
    from geckolake.quality.runner import context_from
    from geckolake.quality.suite import checks_for

    ctx = context_from(settings)
    own = con is None
    con = con or lake.connect_duckdb()
    out = []
    try:
        for check in checks_for():
            if isinstance(check, Fresh):
                newest = f"SELECT max({quote_ident(check.ts_column)}) FROM {quote_qualified(check.table)}"
                latest = (con.execute(newest).fetchone() or (None,))[0]
                if latest is None and check.optional and not _job_ran(con, FED_BY.get(check.table)):
                    continue  # its job is off: no SLA to keep
                age = None
                if latest is not None:
                    age = (
                        con.execute(
                            f"SELECT (epoch({quote_literal(ctx.now)}) - epoch(?::TIMESTAMPTZ)) / 60", [latest]
                        ).fetchone()
                        or (None,)
                    )[0]
                out.append(Freshness(check.table, latest, age, check.sla(ctx), check.severity))
    finally:
        if own:
            con.close()
    return out


def status(lake: Lake, settings: Settings) -> Status:
    """The lake's operational status at ``settings.now()``."""
    now = settings.now()
    con = lake.connect_duckdb()
    try:
        result = Status(now)
        for r in con.execute(
            "SELECT command, run_id, status, started_at, epoch(finished_at) - epoch(started_at), api_calls, error "
            "FROM ops.pipeline_runs QUALIFY row_number() OVER (PARTITION BY command ORDER BY started_at DESC) = 1 "
            "ORDER BY command"
        ).fetchall():
            result.jobs.append(JobStatus(r[0], r[1], r[2], r[3], r[4], int(r[5] or 0), r[6]))
        result.freshness = freshness(lake, settings, con)
        for r in con.execute(
            "SELECT table_name, check_name, severity, detail, checked_at FROM ops.dq_results "
            "QUALIFY row_number() OVER (PARTITION BY table_name, check_name ORDER BY checked_at DESC) = 1 "
            "AND NOT passed AND kind <> 'freshness' ORDER BY severity, table_name, check_name"
        ).fetchall():
            result.failing.append(FailingCheck(*r))
        plan = last_plan(con) or settings.plan_name
        result.credits = Credits(f"{now:%Y-%m}", credits_used(con, now), plan, monthly_credits(settings, plan))
    finally:
        con.close()
    return result
