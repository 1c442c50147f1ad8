"""The ``geckolake`` command: parse options, call one library function, print the result.

Heavy libraries (PyIceberg, DuckDB, PyArrow, httpx) are imported inside commands so that
``geckolake --help`` starts fast.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from geckolake.config import Settings
    from geckolake.ingest.pipeline import RunResult

app = typer.Typer(
    name="geckolake",
    help="CoinGecko → an analysis-ready Apache Iceberg lakehouse (raw → bronze → silver → gold).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # help texts name settings sections like [maintenance]: not rich markup
)

F = TypeVar("F", bound=Callable[..., Any])

LakeOpt = Annotated[Path | None, typer.Option("--lake", help="lake folder [env GECKOLAKE_LAKE; default ./lake]")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="settings file [env GECKOLAKE_CONFIG; default ./geckolake.toml]"),
]
PlanOpt = Annotated[str | None, typer.Option("--plan", help="public|demo|analyst|lite|pro|enterprise")]
CoinsOpt = Annotated[int | None, typer.Option("--coins", help="markets depth: top N coins [250]")]
HistCoinsOpt = Annotated[int | None, typer.Option("--history-coins", help="daily history for the top K coins [10]")]
HistDaysOpt = Annotated[int | None, typer.Option("--history-days", help="daily history depth in days [365]")]
HourlyOpt = Annotated[int | None, typer.Option("--hourly-days", help="hourly history depth, 0 = none [0]")]
VsOpt = Annotated[str | None, typer.Option("--vs-currency", help="quote currency [usd]")]
RateOpt = Annotated[float | None, typer.Option("--rate-per-min", help="override the plan's calls per minute")]
AsOfOpt = Annotated[
    datetime | None,
    typer.Option("--as-of", help="pretend now is this UTC instant (for a simulator started with --now)"),
]
LogOpt = Annotated[str, typer.Option("--log-level", help="debug|info|warning|error")]
LogFormatOpt = Annotated[str, typer.Option("--log-format", help="text|json (one JSON object per line)")]


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def friendly_errors(fn: F) -> F:
    """Turn our errors into one readable line and exit code 1 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from geckolake.errors import GeckolakeError, disk_full

        try:
            return fn(*args, **kwargs)
        except GeckolakeError as e:
            _console(stderr=True).print(f"[bold red]error:[/] {e}", markup=True, emoji=False)
            raise typer.Exit(1) from None
        except Exception as e:  # a full disk surfaces from PyArrow, SQLite or the OS, each its own way
            full = disk_full(e, kwargs.get("lake"))
            if full is None:
                raise
            _console(stderr=True).print(f"[bold red]error:[/] {full}", markup=True, emoji=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            _console(stderr=True).print("interrupted: committed work is kept; run again to finish")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _setup_logging(level: str, fmt: str = "text") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if fmt == "json":
        from geckolake.ops.logs import JsonFormatter

        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    elif fmt != "text":
        from geckolake.errors import ConfigError

        raise ConfigError(f"unknown --log-format {fmt!r}", hint="use text or json")


def _settings(config: Path | None, **flags: Any) -> Settings:
    from geckolake.config import load_settings

    return load_settings(config, **flags)


def _print_run(result: RunResult, console: Console) -> None:
    from rich.table import Table

    colour = {"succeeded": "green", "partial": "yellow"}.get(result.status, "red")
    console.print(
        f"run [bold]{result.run_id}[/]: [{colour}]{result.status}[/] in {result.seconds:.1f}s — "
        f"{result.api_calls} API calls, {result.retries} retries, {result.rate_limited} × 429, "
        f"{result.failed_requests} failed requests, {result.quarantined} quarantined records"
    )
    if result.rows:
        table = Table("table", "rows written", title="rows written this run")
        for name, n in sorted(result.rows.items()):
            table.add_row(name, f"{n:,}")
        console.print(table)
    if result.failed_requests:
        console.print("failed requests are recorded in ops.raw_manifest and retried by the next run")
    if result.status == "gated":
        console.print(f"[red]{result.error}[/]")
        console.print("see `geckolake check` and ops.dq_results; the next clean run publishes")
    elif result.checks_failed:
        console.print(f"[yellow]checks failing:[/] {', '.join(result.checks_failed)}")


class RichObserver:
    """Rich progress bars for fetching and committing."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
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


def _run(settings: Settings, ids: list[str], command: str) -> RunResult:
    from geckolake.ingest.pipeline import Observer, run_pipeline

    console = _console()
    if sys.stdout.isatty():
        with RichObserver(console) as obs:
            return run_pipeline(settings, explicit_ids=ids, observer=obs, command=command)  # type: ignore[arg-type]
    return run_pipeline(settings, explicit_ids=ids, observer=Observer(), command=command)


@app.command()
@friendly_errors
def run(
    lake: LakeOpt = None,
    config: ConfigOpt = None,
    plan: PlanOpt = None,
    coins: CoinsOpt = None,
    history_coins: HistCoinsOpt = None,
    history_days: HistDaysOpt = None,
    hourly_days: HourlyOpt = None,
    vs_currency: VsOpt = None,
    ids: Annotated[str | None, typer.Option("--ids", help="comma-separated coin ids to add to the history set")] = None,
    rate_per_min: RateOpt = None,
    as_of: AsOfOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the plan, call nothing")] = False,
    log_level: LogOpt = "warning",
    log_format: LogFormatOpt = "text",
) -> None:
    """Fetch from CoinGecko (or COINGECKO_BASE_URL) and update raw, bronze, silver and gold.

    Keyless public plan by default; COINGECKO_DEMO_API_KEY or COINGECKO_PRO_API_KEY select demo/pro.
    """
    _setup_logging(log_level, log_format)
    settings = _settings(
        config, lake=lake, plan=plan, coins=coins, history_coins=history_coins, history_days=history_days,
        hourly_days=hourly_days, vs_currency=vs_currency, rate_per_min=rate_per_min, as_of=as_of,
    )  # fmt: skip
    if dry_run:
        _print_plan(settings)
        return
    id_list = [i.strip() for i in ids.split(",") if i.strip()] if ids else []
    result = _run(settings, id_list, "run")
    _print_run(result, _console())


def _print_plan(settings: Settings) -> None:
    from rich.table import Table

    from geckolake.ingest.planner import dry_run
    from geckolake.lake.catalog import open_lake

    lake = open_lake(settings.lake) if (settings.lake / "catalog.db").exists() else None
    summary = dry_run(settings, lake)
    table = Table("endpoint", "calls", title=f"plan for {settings.lake} ({settings.plan_name} plan)")
    for endpoint, n in summary.calls.items():
        table.add_row(endpoint, str(n))
    table.add_row("[bold]total[/]", f"[bold]{summary.total}[/]")
    console = _console()
    console.print(table)
    console.print(
        f"credits: {summary.credits} · ETA ≈ {summary.eta_seconds:.0f}s at {summary.rate_per_min:g} calls/min"
    )


@app.command("plan")
@friendly_errors
def plan_cmd(
    lake: LakeOpt = None,
    config: ConfigOpt = None,
    plan: PlanOpt = None,
    coins: CoinsOpt = None,
    history_coins: HistCoinsOpt = None,
    history_days: HistDaysOpt = None,
    hourly_days: HourlyOpt = None,
    vs_currency: VsOpt = None,
    rate_per_min: RateOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Print the calls the next run would make (per endpoint), credits and ETA. Calls nothing."""
    settings = _settings(
        config, lake=lake, plan=plan, coins=coins, history_coins=history_coins, history_days=history_days,
        hourly_days=hourly_days, vs_currency=vs_currency, rate_per_min=rate_per_min, as_of=as_of,
    )  # fmt: skip
    _print_plan(settings)


@app.command()
@friendly_errors
def replay(lake: LakeOpt = None, config: ConfigOpt = None) -> None:
    """Rebuild bronze, silver and gold from the raw files, no API calls (gated runs stay out of silver and gold)."""
    from geckolake.ingest.replay import replay as do_replay
    from geckolake.lake.catalog import open_lake
    from geckolake.lake.lock import writer_lock

    settings = _settings(config, lake=lake)
    _require_lake(settings.lake)
    with writer_lock(settings.lake):
        result = do_replay(open_lake(settings.lake), workers="auto")
    console = _console()
    console.print(
        f"replayed {result.files:,} raw files ({result.points:,} records) in {result.seconds:.1f}s; "
        f"{result.quarantined} quarantined"
    )
    if result.gated_runs:
        console.print(
            f"{len(result.gated_runs)} gated run(s) kept in bronze, left out of silver and gold as the gate "
            f"decided: {', '.join(result.gated_runs)}"
        )


@app.command()
@friendly_errors
def forecast(lake: LakeOpt = None, config: ConfigOpt = None) -> None:
    """Fit price forecasts and rolling backtests for the top coins of the latest day (daily job)."""
    from geckolake.analytics.refresh import run_forecasts

    settings = _settings(config, lake=lake)
    _require_lake(settings.lake)
    rows = run_forecasts(settings.lake)
    console = _console()
    if not rows.get("gold.price_forecasts"):
        console.print(
            "no forecasts: no coin has enough contiguous daily closes yet "
            "(run `geckolake run` with --history-coins/--history-days first)"
        )
        return
    console.print(
        f"{rows['gold.price_forecasts']:,} forecast rows and {rows['gold.forecast_backtests']:,} backtest rows written"
    )


def _require_lake(path: Path) -> None:
    from geckolake.errors import LakeError

    if not (path / "catalog.db").is_file():
        raise LakeError(f"no lake at {path}", hint="run `geckolake run` (or `geckolake demo`) first, or pass --lake")


@app.command()
@friendly_errors
def tables(lake: LakeOpt = None, config: ConfigOpt = None) -> None:
    """List the lake's tables with rows, snapshots and data files."""
    from rich.table import Table

    from geckolake.lake.catalog import open_lake

    settings = _settings(config, lake=lake)
    _require_lake(settings.lake)
    table = Table("table", "rows", "snapshots", "files", title=str(settings.lake))
    for stat in open_lake(settings.lake).table_stats():
        table.add_row(stat.name, f"{stat.rows:,}", str(stat.snapshots), str(stat.data_files))
    _console().print(table)


@app.command()
@friendly_errors
def sql(
    query: Annotated[str, typer.Argument(help="one SELECT; tables as bronze.x, silver.x, gold.x, ops.x")],
    lake: LakeOpt = None,
    config: ConfigOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table|csv|json (json: one array of row objects)")] = "table",
) -> None:
    """Run a read-only SQL query (DuckDB dialect) on the lake's current snapshots."""
    from geckolake.lake.catalog import open_lake
    from geckolake.query import run_query

    settings = _settings(config, lake=lake)
    _require_lake(settings.lake)
    columns, rows = run_query(open_lake(settings.lake), query)
    _print_rows(columns, rows, fmt)


def _print_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    from geckolake.errors import ConfigError
    from geckolake.query import to_csv, to_json

    if fmt == "json":
        sys.stdout.write(to_json(columns, rows) + "\n")
    elif fmt == "csv":
        sys.stdout.write(to_csv(columns, rows))
    elif fmt == "table":
        from rich.table import Table

        table = Table(*columns)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        _console().print(table)
    else:
        raise ConfigError(f"unknown --format {fmt!r}", hint="use table, csv or json")


@app.command()
@friendly_errors
def runs(
    lake: LakeOpt = None,
    config: ConfigOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="most recent N runs")] = 20,
) -> None:
    """Show the run ledger (ops.pipeline_runs), newest first."""
    from geckolake.lake.catalog import open_lake
    from geckolake.query import run_query

    settings = _settings(config, lake=lake)
    _require_lake(settings.lake)
    columns, rows = run_query(
        open_lake(settings.lake),
        "SELECT run_id, command, status, strftime(started_at, '%Y-%m-%d %H:%M:%S') AS started, "
        "round(epoch(finished_at) - epoch(started_at), 1) AS seconds, api_calls, retries, rate_limited, "
        "failed_requests, quarantined, error FROM ops.pipeline_runs "
        f"ORDER BY started_at DESC LIMIT {int(limit)}",
    )
    _print_rows(columns, rows, "table")


@app.command()
@friendly_errors
def demo(
    lake: Annotated[Path, typer.Option("--lake", help="lake folder for the demo")] = Path("demo-lake"),
    coins: Annotated[int, typer.Option("--coins", help="markets depth")] = 500,
    history_coins: Annotated[int, typer.Option("--history-coins", help="daily history for the top K")] = 25,
    history_days: Annotated[int, typer.Option("--history-days", help="daily history depth")] = 365,
) -> None:
    """Run the whole pipeline offline against the built-in CoinGecko simulator; needs no key."""
    from geckolake.config import Settings
    from geckolake.simulator import SimulatorConfig, running_simulator

    console = _console()
    with running_simulator(SimulatorConfig(port=0, coins=max(coins, 1000), plan="unlimited")) as base_url:
        console.print(f"simulator listening on {base_url}")
        settings = Settings(
            lake=lake, base_url=base_url, plan="pro", rate_per_min=6000, concurrency=8,
            coins=coins, history_coins=history_coins, history_days=history_days,
        )  # fmt: skip
        result = _run(settings, [], "demo")
    _print_run(result, console)
    from geckolake.analytics.refresh import run_forecasts

    fitted = run_forecasts(lake)
    console.print(f"forecasts: {fitted['gold.price_forecasts']:,} rows (`geckolake forecast` refits them)")
    from geckolake.lake.catalog import open_lake
    from geckolake.query import run_query

    columns, rows = run_query(
        open_lake(lake),
        "SELECT coin_id, date, open, high, low, close FROM gold.coin_daily "
        "WHERE coin_id IN ('bitcoin', 'ethereum') ORDER BY date DESC, coin_id LIMIT 6",
    )
    _print_rows(columns, rows, "table")
    console.print(f'try: geckolake sql --lake {lake} "SELECT * FROM gold.coin_aggregates LIMIT 10"')


@app.command()
def simulator(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port; 0 picks a free one")] = 8000,
    coins: Annotated[int, typer.Option(help="number of simulated coins")] = 2000,
    seed: Annotated[int, typer.Option(help="market seed; same seed and --now give identical bodies")] = 42,
    plan: Annotated[str, typer.Option(help="public|demo|analyst|lite|pro|enterprise|unlimited")] = "pro",
    rate_per_min: Annotated[int | None, typer.Option(help="override the plan's rate limit")] = None,
    latency_ms: Annotated[float, typer.Option(help="added latency per response")] = 0.0,
    faults: Annotated[
        str, typer.Option(help="e.g. 500=0.05,timeout=0.02,malformed=0.01,truncated=0.01,drift=0.02")
    ] = "",
    fixtures: Annotated[Path | None, typer.Option(help="serve recorded bodies from this folder")] = None,
    now: Annotated[datetime | None, typer.Option(help="freeze simulated time at this UTC instant")] = None,
    api_key: Annotated[str | None, typer.Option(help="require this key (401 / 10002 otherwise)")] = None,
    clean: Annotated[bool, typer.Option("--clean", help="turn off real-world quirks (for benchmarks)")] = False,
) -> None:
    """Serve a faithful fake CoinGecko API under /api/v3 until SIGINT/SIGTERM."""
    from datetime import UTC

    from geckolake.simulator import SimulatorConfig, serve

    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    serve(
        SimulatorConfig(
            host=host,
            port=port,
            coins=coins,
            seed=seed,
            plan=plan,
            rate_per_min=rate_per_min,
            latency_ms=latency_ms,
            faults=faults,
            fixtures=fixtures,
            now=now,
            api_key=api_key,
            clean=clean,
        )
    )


# --- operations: check, status, metrics, alert test, schedule, compact (docs/operations.md) ------

FormatOpt = Annotated[str, typer.Option("--format", help="table|json")]


def _check_table(report: Any, title: str) -> None:
    from rich.table import Table

    table = Table("table", "check", "severity", "result", "detail", title=title)
    for r in report.results:
        verdict = "[green]pass[/]" if r.passed else ("[red]FAIL[/]" if r.severity == "error" else "[yellow]warn[/]")
        table.add_row(r.table, r.name, r.severity, verdict, r.detail)
    _console().print(table)


@app.command()
@friendly_errors
def check(
    lake: LakeOpt = None,
    config: ConfigOpt = None,
    tables: Annotated[
        list[str] | None, typer.Option("--table", help="a table (silver.coins) or layer (silver); repeatable")
    ] = None,
    as_of: AsOfOpt = None,
    record: Annotated[bool, typer.Option("--record/--no-record", help="write ops.dq_results, send alerts")] = True,
    fmt: FormatOpt = "table",
) -> None:
    """Run the data-quality checks now; exit 1 when an error-level check fails.

    With --record (default) results go to ops.dq_results and failures and freshness breaches are
    alerted (takes the writer lock).
    """
    import contextlib

    from geckolake.lake.catalog import open_lake
    from geckolake.lake.lock import writer_lock
    from geckolake.ops import alerts
    from geckolake.quality.runner import context_from, record_results, run_checks

    settings = _settings(config, lake=lake, as_of=as_of)
    _require_lake(settings.lake)
    with writer_lock(settings.lake) if record else contextlib.nullcontext():
        opened = open_lake(settings.lake)
        report = run_checks(opened, context_from(settings), tables=tables or None)
        if record:
            record_results(opened, report, None)
            found = [alerts.check_failed(report, None, gated=False), alerts.freshness(report)]
            alerts.AlertDispatcher(settings, opened).dispatch([a for a in found if a is not None])
    if fmt == "json":
        import json
        from dataclasses import asdict

        sys.stdout.write(json.dumps([asdict(r) for r in report.results], indent=2) + "\n")
    else:
        _check_table(report, f"{len(report.results)} checks, {len(report.failures)} failing")
    if any(r.severity == "error" for r in report.failures):
        raise typer.Exit(1)


@app.command()
@friendly_errors
def status(lake: LakeOpt = None, config: ConfigOpt = None, as_of: AsOfOpt = None, fmt: FormatOpt = "table") -> None:
    """Health at a glance: last run per job, freshness vs SLA, failing checks, API credits this month.

    Exit code 1 when unhealthy (a stale table, a failing error-level check or a failed last run).
    """
    from rich.table import Table

    from geckolake.lake.catalog import open_lake
    from geckolake.ops.status import status as get_status

    settings = _settings(config, lake=lake, as_of=as_of)
    _require_lake(settings.lake)
    st = get_status(open_lake(settings.lake), settings)
    if fmt == "json":
        sys.stdout.write(st.to_json() + "\n")
    else:
        console = _console()
        health = "[green]healthy[/]" if st.healthy else "[red]UNHEALTHY[/]"
        console.print(f"{settings.lake} at {st.now:%Y-%m-%d %H:%M} UTC: {health}")
        jobs = Table("job", "last run", "status", "started", "seconds", "API calls", "error", title="runs")
        for j in st.jobs:
            colour = "green" if j.status in ("succeeded", "partial") else "red"
            started = f"{j.started_at:%Y-%m-%d %H:%M:%S}" if j.started_at else ""
            seconds = f"{j.seconds:.1f}" if j.seconds is not None else ""
            jobs.add_row(
                j.command, j.run_id, f"[{colour}]{j.status}[/]", started, seconds, str(j.api_calls), j.error or ""
            )
        console.print(jobs)
        fresh = Table("table", "newest", "age (min)", "SLA (min)", "state", title="freshness")
        for f in st.freshness:
            state = "[green]ok[/]" if f.ok else ("[red]STALE[/]" if f.severity == "error" else "[yellow]stale[/]")
            age = f"{f.age_minutes:.0f}" if f.age_minutes is not None else "no data"
            fresh.add_row(f.table, str(f.latest or ""), age, f"{f.sla_minutes:g}", state)
        console.print(fresh)
        if st.failing:
            bad = Table("table", "check", "severity", "detail", title="failing checks (last evaluation)")
            for c in st.failing:
                bad.add_row(c.table, c.check, c.severity, c.detail)
            console.print(bad)
        else:
            console.print("failing checks: none")
        if st.credits is not None:
            cr = st.credits
            limit = f"{cr.monthly:,}" if cr.monthly else "unmetered"
            share = f" ({cr.fraction:.1%})" if cr.fraction is not None else ""
            console.print(f"API credits {cr.month}: {cr.used:,} of {limit}{share} on the {cr.plan} plan")
    if not st.healthy:
        raise typer.Exit(1)


@app.command()
@friendly_errors
def metrics(lake: LakeOpt = None, config: ConfigOpt = None, as_of: AsOfOpt = None) -> None:
    """Print the lake's run, API, data-quality and freshness metrics (Prometheus text format)."""
    from geckolake.lake.catalog import open_lake
    from geckolake.ops.metrics import exposition

    settings = _settings(config, lake=lake, as_of=as_of)
    _require_lake(settings.lake)
    sys.stdout.write(exposition(open_lake(settings.lake), settings))


alert_app = typer.Typer(
    help="Alert channels ([alerts] in geckolake.toml).", no_args_is_help=True, rich_markup_mode="markdown"
)
app.add_typer(alert_app, name="alert")


@alert_app.command("test")
@friendly_errors
def alert_test(config: ConfigOpt = None) -> None:
    """Send a test alert to every configured channel (webhook, email, SNS); exit 1 if any fails."""
    from geckolake.errors import ConfigError
    from geckolake.ops.alerts import AlertDispatcher, test_alert

    settings = _settings(config)
    dispatcher = AlertDispatcher(settings, None, record=False)
    if not dispatcher.notifiers:
        raise ConfigError(
            "no alert channel configured",
            hint="set alerts.webhook_url, alerts.smtp_host + alerts.smtp_to, or alerts.sns_topic_arn in geckolake.toml",
        )
    (delivery,) = dispatcher.dispatch([test_alert()], force=True)
    console = _console()
    for channel, outcome in delivery.channels.items():
        console.print(f"{channel}: {'[green]delivered[/]' if outcome == 'ok' else f'[red]failed[/] — {outcome}'}")
    if any(v != "ok" for v in delivery.channels.values()):
        raise typer.Exit(1)


@app.command()
@friendly_errors
def compact(
    lake: LakeOpt = None,
    config: ConfigOpt = None,
    tables: Annotated[list[str] | None, typer.Option("--table", help="only this table; repeatable")] = None,
    expire: Annotated[bool, typer.Option("--expire/--no-expire", help="also expire old snapshots")] = True,
    sweep: Annotated[
        bool,
        typer.Option(
            "--sweep/--no-sweep",
            help="also delete files no snapshot references, older than [maintenance] orphan_min_age_hours",
        ),
    ] = True,
) -> None:
    """Compact small data files, expire snapshots beyond [maintenance] retention and delete orphan files
    (takes the writer lock)."""
    from rich.table import Table

    from geckolake.lake.catalog import open_lake
    from geckolake.lake.lock import writer_lock
    from geckolake.ops.maintenance import maintain

    settings = _settings(config, lake=lake)
    _require_lake(settings.lake)
    with writer_lock(settings.lake):
        report = maintain(
            open_lake(settings.lake), settings.maintenance, settings.now(), tables or None,
            expire_snapshots=expire, sweep=sweep,
        )  # fmt: skip
    expired, orphans = report.expired, report.orphans
    table = Table(
        "table", "files before", "files after", "snapshots expired", "orphan files deleted", title="maintenance"
    )
    for name, before in report.files_before.items():
        after = report.files_after.get(name, before)
        if after != before or expired.get(name) or orphans.files.get(name):
            table.add_row(name, str(before), str(after), str(expired.get(name, 0)), str(orphans.files.get(name, 0)))
    console = _console()
    console.print(table)
    if orphans.files:
        freed = sum(orphans.bytes.values()) / 2**20
        console.print(f"deleted {sum(orphans.files.values())} orphan files ({freed:,.1f} MiB)")
    for name, why in [*report.skipped.items(), *orphans.skipped.items()]:
        console.print(f"[yellow]skipped {name}:[/] {why}")


@app.command()
@friendly_errors
def prices(
    lake: LakeOpt = None,
    config: ConfigOpt = None,
    plan: PlanOpt = None,
    vs_currency: VsOpt = None,
    rate_per_min: RateOpt = None,
    as_of: AsOfOpt = None,
    log_level: LogOpt = "warning",
    log_format: LogFormatOpt = "text",
) -> None:
    """Poll /simple/price once for the lake's top [schedule] price_coins coins into silver.live_prices."""
    from geckolake.ingest.prices import poll_prices

    _setup_logging(log_level, log_format)
    settings = _settings(config, lake=lake, plan=plan, vs_currency=vs_currency, rate_per_min=rate_per_min, as_of=as_of)
    _print_run(poll_prices(settings), _console())


@app.command()
@friendly_errors
def schedule(
    lake: LakeOpt = None,
    config: ConfigOpt = None,
    plan: PlanOpt = None,
    rate_per_min: RateOpt = None,
    as_of: AsOfOpt = None,
    run_now: Annotated[bool, typer.Option("--run-now", help="fire every enabled job once at start")] = False,
    log_level: LogOpt = "info",
    log_format: LogFormatOpt = "text",
) -> None:
    """Run the [schedule] jobs on their cron times (UTC) until SIGTERM/Ctrl-C; one scheduler per lake."""
    from geckolake.ops.scheduler import Scheduler

    _setup_logging(log_level, log_format)
    settings = _settings(config, lake=lake, plan=plan, rate_per_min=rate_per_min, as_of=as_of)
    scheduler = Scheduler(settings, run_on_start=run_now)
    names = ", ".join(f"{n} ({j.spec.cron})" for n, j in scheduler.jobs.items()) or "none"
    _console(stderr=True).print(
        f"scheduling {names} for {settings.lake}; SIGTERM or Ctrl-C stops after the current job", markup=False
    )
    scheduler.run()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
