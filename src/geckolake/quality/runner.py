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

from geckolake.quality.checks import Check, CheckContext, checks_for

if TYPE_CHECKING:
    from geckolake.config import Settings
    from geckolake.lake.catalog import Lake

log = logging.getLogger(__name__)


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
        return f"{self.table}.{self.name}"

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
        return [r for r in self.results if not r.passed]

    @property
    def blocking(self) -> list[CheckResult]:
        return [r for r in self.results if r.blocks]

    def summary(self) -> str:
        """One line naming the failing checks (for run output and alerts)."""
        bad = self.failures
        if not bad:
            return f"all {len(self.results)} checks passed"
        return "; ".join(f"{r.label} [{r.severity}]: {r.detail}" for r in bad)


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
    """
    import duckdb

    selected = list(checks) if checks is not None else checks_for(tables)
    if kinds is not None:
        selected = [c for c in selected if c.kind in kinds]
    con = lake.connect_duckdb()
    results: list[CheckResult] = []
    try:
        for check in selected:
            tdef = lake.defs.get(check.table)
            has_run_id = tdef is not None and "_run_id" in tdef.schema.names
            if check.table.startswith("bronze.") and ctx.run_id is None and has_run_id:
                # bronze keeps every batch ever received; on demand, audit the latest run's rows
                row = con.execute(
                    f"SELECT _run_id FROM {check.table} ORDER BY _fetched_at DESC NULLS LAST LIMIT 1"
                ).fetchone()
                scoped = CheckContext(**{**ctx.__dict__, "run_id": row[0] if row else None})
            else:
                scoped = ctx
            try:
                out = check.evaluate(con, scoped, has_run_id)
                passed, n, detail, sample = out.failing_rows == 0, out.failing_rows, out.detail, out.sample
            except duckdb.Error as e:
                log.warning("check %s.%s could not run: %s", check.table, check.name, e)
                passed, n, detail, sample = False, 0, f"check could not run: {e}".splitlines()[0], []
            results.append(
                CheckResult(
                    check.table,
                    check.name,
                    check.kind,
                    check.severity,
                    passed,
                    n,
                    detail,
                    json.dumps(sample, default=str),
                    check.gating,
                )
            )
    finally:
        con.close()
    return CheckReport(uuid.uuid4().hex[:12], datetime.now(UTC), results)


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
