"""Run declared checks on a lake's current snapshots and record them in ``ops.dq_results``."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from geckolake.quality.checks import Check, CheckContext
from geckolake.quality.suite import checks_for

if TYPE_CHECKING:
    import duckdb

    from geckolake.config import Settings
    from geckolake.lake.catalog import Lake

log = logging.getLogger(__name__)

# how failing checks are listed: the ones that gate and alert first
_SEVERITY_ORDER: dict[str, int] = {"error": 0, "warn": 1}


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict."""

    table: str
    name: str
    kind: str
    severity: str
    passed: bool
    failing_rows: int
    detail: str
    sample_json: str
    gating: bool

    @property
    def label(self) -> str:
        """``table.check``, e.g. ``silver.price_history.freshness``."""
        return f"{self.table}.{self.name}"

    @property
    def tagged(self) -> str:
        """``table.check (severity)``: the label as run output and alerts show it.

        Parentheses, not brackets: the CLI prints through Rich, which takes ``[warn]`` for
        markup and drops it, leaving a stray space.
        """
        return f"{self.label} ({self.severity})"

    @property
    def blocks(self) -> bool:
        """An error-level content failure on bronze or silver: gold must not be published."""
        return (
            not self.passed
            and self.severity == "error"
            and self.gating
            and self.table.split(".")[0] in ("bronze", "silver")
        )


@dataclass
class CheckReport:
    check_run_id: str
    checked_at: datetime
    results: list[CheckResult]

    @property
    def failures(self) -> list[CheckResult]:
        """The failing checks, errors first, then warnings (declaration order within each)."""
        bad = [r for r in self.results if not r.passed]
        return sorted(bad, key=lambda r: _SEVERITY_ORDER.get(r.severity, len(_SEVERITY_ORDER)))

    @property
    def failing(self) -> list[str]:
        """Each failing check as ``table.check (severity)``, errors first (a run's ``checks_failed``)."""
        return [r.tagged for r in self.failures]

    @property
    def blocking(self) -> list[CheckResult]:
        return [r for r in self.results if r.blocks]

    def summary(self) -> str:
        """One line naming the failing checks (for run output and alerts)."""
        bad = self.failures
        if not bad:
            return f"all {len(self.results)} checks passed"
        return "; ".join(f"{r.tagged}: {r.detail}" for r in bad)


def context_from(
    settings: Settings, *, run_id: str | None = None, run_rows: dict[str, int] | None = None
) -> CheckContext:
    """The check context the settings describe (now, SLAs, tolerances)."""
    qs = settings.quality
    return CheckContext(
        now=settings.now(),
        run_id=run_id,
        run_rows=dict(run_rows or {}),
        freshness_minutes=dict(qs.freshness_minutes),
        row_count_runs=qs.row_count_runs,
        row_count_ratio=qs.row_count_ratio,
        price_tolerance=qs.price_tolerance,
    )


def run_checks(
    lake: Lake,
    ctx: CheckContext,
    *,
    tables: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    checks: Sequence[Check] | None = None,
) -> CheckReport:
    """Evaluate checks (all declared, or of ``tables`` / ``kinds``) on the current snapshots.

    A check that cannot be evaluated (e.g. a table missing) fails with the reason as detail.
    The checks of one table are counted by one query (see :func:`_count_together`).
    """
    selected = list(checks) if checks is not None else checks_for(tables)
    if kinds is not None:
        selected = [c for c in selected if c.kind in kinds]
    reads = {name for c in selected for name in (c.table, *c.reads)}
    con = lake.connect_duckdb(tables=sorted(reads))
    verdicts: dict[int, CheckResult] = {}
    try:
        by_table: dict[str, list[int]] = {}
        for i, check in enumerate(selected):
            by_table.setdefault(check.table, []).append(i)
        for table, members in by_table.items():
            tdef = lake.defs.get(table)
            has_run_id = tdef is not None and "_run_id" in tdef.schema.names
            scoped = _table_context(con, table, ctx, has_run_id)
            counts = _count_together(con, [selected[i] for i in members], scoped, has_run_id)
            for i, n in zip(members, counts, strict=True):
                verdicts[i] = _verdict(con, selected[i], scoped, has_run_id, n)
    finally:
        con.close()
    return CheckReport(uuid.uuid4().hex[:12], datetime.now(UTC), [verdicts[i] for i in range(len(selected))])


def _table_context(con: duckdb.DuckDBPyConnection, table: str, ctx: CheckContext, has_run_id: bool) -> CheckContext:
    if table.startswith("bronze.") and ctx.run_id is None and has_run_id:
        # bronze keeps every batch ever received; on demand, audit the latest run's rows
        row = con.execute(f"SELECT _run_id FROM {table} ORDER BY _fetched_at DESC NULLS LAST LIMIT 1").fetchone()
        return CheckContext(**{**ctx.__dict__, "run_id": row[0] if row else None})
    return ctx


def _count_together(
    con: duckdb.DuckDBPyConnection, checks: list[Check], ctx: CheckContext, has_run_id: bool
) -> list[int | None]:
    """Bad-row counts of one table's checks in one query (None: the check counts on its own).

    Row-condition checks on the same rows become ``count(*) FILTER (WHERE cond)`` of one scan;
    other counted checks a ``count(*)`` subquery each. When the query fails, every check counts
    alone, so a check that cannot run fails with its own error as before.
    """
    import duckdb

    scans: dict[str, list[tuple[int, str]]] = {}
    subqueries: list[str] = []
    for i, check in enumerate(checks):
        if not check.counted:
            continue
        src = check.source(ctx, has_run_id)
        cond = check.row_condition()
        if cond is not None:
            scans.setdefault(src, []).append((i, cond))
        else:
            subqueries.append(f"(SELECT count(*) AS n{i} FROM ({check.bad_rows_sql(ctx, src)}))")
    for src, conds in scans.items():
        counts = ", ".join(f"count(*) FILTER (WHERE {cond}) AS n{i}" for i, cond in conds)
        subqueries.append(f"(SELECT {counts} FROM {src})")
    if not subqueries:
        return [None] * len(checks)
    try:
        cur = con.execute(f"SELECT * FROM {', '.join(subqueries)}")
        row = cur.fetchone()
    except duckdb.Error as e:
        log.debug("checks of %s counted one by one: %s", checks[0].table, e)
        return [None] * len(checks)
    names = [d[0] for d in cur.description or []]
    found = {int(name[1:]): int(n) for name, n in zip(names, row or (), strict=True)}
    return [found.get(i) for i in range(len(checks))]


def _verdict(
    con: duckdb.DuckDBPyConnection, check: Check, ctx: CheckContext, has_run_id: bool, n: int | None
) -> CheckResult:
    """``check``'s result from its count ``n`` (None: evaluated here)."""
    import duckdb

    try:
        out = check.evaluate(con, ctx, has_run_id) if n is None else check.outcome(con, ctx, has_run_id, n)
        passed, failing, detail, sample = out.failing_rows == 0, out.failing_rows, out.detail, out.sample
    except duckdb.Error as e:
        log.warning("check %s.%s could not run: %s", check.table, check.name, e)
        passed, failing, detail, sample = False, 0, f"check could not run: {e}".splitlines()[0], []
    return CheckResult(
        check.table,
        check.name,
        check.kind,
        check.severity,
        passed,
        failing,
        detail,
        json.dumps(sample, default=str),
        check.gating,
    )


def record_results(lake: Lake, report: CheckReport, run_id: str | None) -> None:
    """Append the report to ``ops.dq_results`` (one commit). Needs the writer lock."""
    rows = [
        {
            "check_run_id": report.check_run_id,
            "run_id": run_id,
            "checked_at": report.checked_at,
            "table_name": r.table,
            "check_name": r.name,
            "kind": r.kind,
            "severity": r.severity,
            "passed": r.passed,
            "failing_rows": r.failing_rows,
            "detail": r.detail,
            "sample_json": r.sample_json,
        }
        for r in report.results
    ]
    if rows:
        lake.append("ops.dq_results", pa.Table.from_pylist(rows))
