"""How results look: Rich tables on a terminal, every column on a pipe, CSV/JSON on request."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from geckolake.ingest.pipeline import RunResult
    from geckolake.ingest.planner import PlanSummary
    from geckolake.lake.catalog import TableStat
    from geckolake.ops.maintenance import MaintenanceReport
    from geckolake.ops.status import Status
    from geckolake.quality.runner import CheckReport

FORMATS = ("table", "csv", "json")
# A table printed to a pipe or file is not cut to 80 columns: it gets as wide as its content.
PIPE_WIDTH = 10_000


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=None if stream.isatty() else PIPE_WIDTH)


def rows(columns: list[str], data: list[tuple[Any, ...]], fmt: str, title: str | None = None) -> None:
    """Print rows as a table, CSV or a JSON array of objects.

    Raises:
        ConfigError: an unknown format.
    """
    from geckolake.lake.query import to_csv, to_json

    check_format(fmt)
    if fmt == "json":
        sys.stdout.write(to_json(columns, data) + "\n")
    elif fmt == "csv":
        sys.stdout.write(to_csv(columns, data))
    else:
        from rich.table import Table

        table = Table(*columns, title=title)
        for row in data:
            table.add_row(*("" if v is None else str(v) for v in row))
        console().print(table)


def check_format(fmt: str, allowed: tuple[str, ...] = FORMATS) -> None:
    """Fail on a format the command does not print.

    Raises:
        ConfigError: ``fmt`` is not one of ``allowed``.
    """
    from geckolake.errors import ConfigError

    if fmt not in allowed:
        raise ConfigError(f"unknown --format {fmt!r}", hint=f"use {', '.join(allowed)}")


def run_result(result: RunResult) -> None:
    """The one-line summary of a run, its rows per table, and what to do about failures."""
    from rich.table import Table

    out = console()
    colour = {"succeeded": "green", "partial": "yellow"}.get(result.status, "red")
    out.print(
        f"run [bold]{result.run_id}[/]: [{colour}]{result.status}[/] in {result.seconds:.1f}s — "
        f"{result.api_calls} API calls, {result.retries} retries, {result.rate_limited} × 429, "
        f"{result.failed_requests} failed requests, {result.quarantined} quarantined records"
    )
    if result.rows:
        table = Table("table", "rows written", title="rows written this run")
        for name, n in sorted(result.rows.items()):
            table.add_row(name, f"{n:,}")
        out.print(table)
    if result.failed_requests:
        out.print("failed requests are recorded in ops.raw_manifest and retried by the next run")
    if result.status == "gated":
        from rich.markup import escape

        out.print(f"[red]{escape(result.error or '')}[/]")
        out.print("see `geckolake check` and ops.dq_results; the next clean run publishes")
    elif result.checks_failed:
        from rich.markup import escape

        out.print(f"[yellow]checks failing:[/] {escape(', '.join(result.checks_failed))}")


def plan(summary: PlanSummary, title: str) -> None:
    from rich.table import Table

    table = Table("endpoint", "calls", title=title)
    for endpoint, n in summary.calls.items():
        table.add_row(endpoint, str(n))
    table.add_row("[bold]total[/]", f"[bold]{summary.total}[/]")
    out = console()
    out.print(table)
    out.print(f"credits: {summary.credits} · ETA ≈ {summary.eta_seconds:.0f}s at {summary.rate_per_min:g} calls/min")


def table_stats(stats: list[TableStat], fmt: str, title: str) -> None:
    data: list[tuple[Any, ...]] = [(s.name, s.rows, s.snapshots, s.data_files) for s in stats]
    if fmt == "table":
        data = [(n, f"{r:,}", str(s), str(f)) for n, r, s, f in data]
    rows(["table", "rows", "snapshots", "files"], data, fmt, title)


def checks(report: CheckReport, fmt: str) -> None:
    check_format(fmt, ("table", "json"))
    if fmt == "json":
        sys.stdout.write(json.dumps([asdict(r) for r in report.results], indent=2) + "\n")
        return
    from rich.table import Table

    table = Table(
        "table", "check", "severity", "result", "detail",
        title=f"{len(report.results)} checks, {len(report.failures)} failing",
    )  # fmt: skip
    for r in report.results:
        verdict = "[green]pass[/]" if r.passed else ("[red]FAIL[/]" if r.severity == "error" else "[yellow]warn[/]")
        table.add_row(r.table, r.name, r.severity, verdict, r.detail)
    console().print(table)


def status(st: Status, lake: str, fmt: str) -> None:
    check_format(fmt, ("table", "json"))
    if fmt == "json":
        sys.stdout.write(st.to_json() + "\n")
        return
    from rich.table import Table

    out = console()
    out.print(f"{lake} at {st.now:%Y-%m-%d %H:%M} UTC: {'[green]healthy[/]' if st.healthy else '[red]UNHEALTHY[/]'}")
    jobs = Table("job", "last run", "status", "started", "seconds", "API calls", "error", title="runs")
    for j in st.jobs:
        colour = "green" if j.status in ("succeeded", "partial") else "red"
        started = f"{j.started_at:%Y-%m-%d %H:%M:%S}" if j.started_at else ""
        seconds = f"{j.seconds:.1f}" if j.seconds is not None else ""
        jobs.add_row(j.command, j.run_id, f"[{colour}]{j.status}[/]", started, seconds, str(j.api_calls), j.error or "")
    out.print(jobs)
    fresh = Table("table", "newest", "age (min)", "SLA (min)", "state", title="freshness")
    for f in st.freshness:
        state = "[green]ok[/]" if f.ok else ("[red]STALE[/]" if f.severity == "error" else "[yellow]stale[/]")
        age = f"{f.age_minutes:.0f}" if f.age_minutes is not None else "no data"
        fresh.add_row(f.table, str(f.latest or ""), age, f"{f.sla_minutes:g}", state)
    out.print(fresh)
    if st.failing:
        bad = Table("table", "check", "severity", "detail", title="failing checks (last evaluation)")
        for c in st.failing:
            bad.add_row(c.table, c.check, c.severity, c.detail)
        out.print(bad)
    else:
        out.print("failing checks: none")
    if st.credits is not None:
        cr = st.credits
        limit = f"{cr.monthly:,}" if cr.monthly else "unmetered"
        share = f" ({cr.fraction:.1%})" if cr.fraction is not None else ""
        out.print(f"API credits {cr.month}: {cr.used:,} of {limit}{share} on the {cr.plan} plan")


def maintenance(report: MaintenanceReport) -> None:
    from rich.table import Table

    expired, orphans = report.expired, report.orphans
    table = Table(
        "table", "files before", "files after", "snapshots expired", "orphan files deleted", title="maintenance"
    )
    for name, before in report.files_before.items():
        after = report.files_after.get(name, before)
        if after != before or expired.get(name) or orphans.files.get(name):
            table.add_row(name, str(before), str(after), str(expired.get(name, 0)), str(orphans.files.get(name, 0)))
    out = console()
    out.print(table)
    if orphans.files:
        freed = sum(orphans.bytes.values()) / 2**20
        out.print(f"deleted {sum(orphans.files.values())} orphan files ({freed:,.1f} MiB)")
    for name, why in [*report.skipped.items(), *orphans.skipped.items()]:
        out.print(f"[yellow]skipped {name}:[/] {why}")


class RichObserver:
    """Rich progress bars for fetching and committing (an ``ingest.pipeline.Observer``)."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=console(), transient=False,
        )  # fmt: skip
        self.task: Any = None

    def __enter__(self) -> RichObserver:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def phase(self, name: str, total: int) -> None:
        if total:
            self.task = self.progress.add_task(f"fetch {name}", total=total)

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)

    def committing(self, tables: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, description="commit")
