"""The ``geckolake`` commands: parse options, call one flow, render its result.

Heavy libraries (PyIceberg, DuckDB, PyArrow, httpx) are imported inside commands so that
``geckolake --help`` starts fast. Exit codes (docs/operations.md): 0 done, 1 error (one ``error:``
line; ``check`` and ``status``: unhealthy; a gated run), 3 partial (transient failures left for the
next run), 130 interrupted.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from geckolake.cli import render
from geckolake.cli.options import (
    SCOPE,
    ConfigOpt,
    Globals,
    LakeOpt,
    LogFormatOpt,
    LogOpt,
    command,
    friendly_errors,
    given_globals,
)

if TYPE_CHECKING:
    from geckolake.config import Settings
    from geckolake.ingest.pipeline import RunResult

app = typer.Typer(
    name="geckolake",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # help texts name settings sections like [maintenance]: not rich markup
)

IdsOpt = Annotated[str | None, typer.Option("--ids", help="comma-separated coin ids to add to the history set")]
FormatOpt = Annotated[str, typer.Option("--format", help="table|csv|json")]
StatusFormatOpt = Annotated[str, typer.Option("--format", help="table|json")]


def _version(value: bool) -> None:
    if value:
        from geckolake.version import __version__

        typer.echo(f"geckolake {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    lake: LakeOpt = None,
    config: ConfigOpt = None,
    log_level: LogOpt = None,
    log_format: LogFormatOpt = None,
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_version, help="print the version and exit")
    ] = False,
) -> None:
    """CoinGecko → an analysis-ready Apache Iceberg lakehouse (raw → bronze → silver → gold).

    Global options go before or after the command: `geckolake --lake demo-lake status` or
    `geckolake status --lake demo-lake`.
    """
    ctx.obj = Globals(lake, config, log_level, log_format)


def _ids(ids: str | None) -> list[str]:
    return [i.strip() for i in ids.split(",") if i.strip()] if ids else []


def _run(settings: Settings, ids: list[str], command_name: str) -> RunResult:
    from geckolake import flows

    if sys.stdout.isatty():
        with render.RichObserver() as observer:
            return flows.run(settings, ids=ids, observer=observer, command=command_name)
    return flows.run(settings, ids=ids, command=command_name)


def _finish(result: RunResult) -> None:
    """Print a run's result and exit with the code its status means to scripts."""
    from geckolake.ingest.pipeline import EXIT_CODES

    render.run_result(result)
    code = EXIT_CODES.get(result.status, 1)
    if code:
        raise typer.Exit(code)


def _plan(settings: Settings, ids: list[str]) -> None:
    from geckolake import flows

    render.plan(flows.plan(settings, ids=ids), f"plan for {settings.lake} ({settings.plan_name} plan)")


@app.command()
@command(settings=(*SCOPE, "engine"))
def run(
    settings: Settings,
    ids: IdsOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the plan, call nothing")] = False,
) -> None:
    """Fetch from CoinGecko (or COINGECKO_BASE_URL) and update raw, bronze, silver and gold.

    Keyless public plan by default; COINGECKO_DEMO_API_KEY or COINGECKO_PRO_API_KEY select demo/pro.

    With --engine spark, each batch is merged into silver and gold by Spark (one local session for the
    run, started at its first commit; pip install 'geckolake[spark]', Java 17). The engines give the
    same tables: runs on either may follow each other on one lake.

    Exit codes: 0 = all planned work done (404s for delisted coins count as answers); 1 = error or
    gated (little or nothing published); 3 = partial (transient failures left for the next run);
    130 = interrupted (what had arrived was committed).
    """
    if dry_run:
        _plan(settings, _ids(ids))
        return
    _finish(_run(settings, _ids(ids), "run"))


@app.command("plan")
@command(settings=SCOPE)
def plan_cmd(settings: Settings, ids: IdsOpt = None) -> None:
    """Print the calls the next run would make (per endpoint), credits and ETA. Calls nothing."""
    _plan(settings, _ids(ids))


@app.command()
@command(settings=("engine",))
def replay(settings: Settings) -> None:
    """Rebuild bronze, silver and gold from the raw files, no API calls (gated runs stay out of silver and gold).

    With --engine spark, silver and gold are computed by Spark (pip install 'geckolake[spark]', Java 17).
    """
    from geckolake import flows

    result = flows.replay(settings, workers="auto")
    out = render.console()
    out.print(
        f"replayed {result.files:,} raw files ({result.points:,} records) in {result.seconds:.1f}s; "
        f"{result.quarantined} quarantined"
    )
    if result.gated_runs:
        out.print(
            f"{len(result.gated_runs)} gated run(s) kept in bronze, left out of silver and gold as the gate "
            f"decided: {', '.join(result.gated_runs)}"
        )
    out.print(
        "dropped with gold and not rebuilt from raw (they are fitted, not fetched): gold.price_forecasts and "
        "gold.forecast_backtests; `geckolake forecast` refits them"
    )


@app.command()
@command()
def forecast(settings: Settings) -> None:
    """Fit price forecasts and rolling backtests for the top coins of the latest day (daily job)."""
    from geckolake import flows
    from geckolake.flows.forecasts import BACKTESTS, FORECASTS

    rows = flows.forecast(settings)
    if not rows.get(FORECASTS):
        render.console().print(
            "no forecasts: no coin has enough contiguous daily closes yet "
            "(run `geckolake run` with --history-coins/--history-days first)"
        )
        return
    render.console().print(f"{rows[FORECASTS]:,} forecast rows and {rows[BACKTESTS]:,} backtest rows written")


@app.command()
@command()
def tables(settings: Settings, fmt: FormatOpt = "table") -> None:
    """List the lake's tables with rows, snapshots and data files."""
    from geckolake import flows

    render.table_stats(flows.tables(settings), fmt, str(settings.lake))


@app.command()
@command()
def sql(
    settings: Settings,
    query: Annotated[str, typer.Argument(help="one SELECT; tables as bronze.x, silver.x, gold.x, ops.x")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="table|csv|json, or with --output csv|json|parquet [table; --output: its suffix]"
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", help="write the result to this file instead")] = None,
) -> None:
    """Run a read-only SQL query (DuckDB dialect) on the lake's current snapshots.

    JSON is one array of row objects; --output writes CSV, JSON or Parquet (from the file's suffix or --format).
    """
    from geckolake import flows

    if output is not None:
        n = flows.export(settings, query, output, fmt)
        render.console(stderr=True).print(f"wrote {n:,} rows to {output}", markup=False)
        return
    render.check_format(fmt or "table")
    render.rows(*flows.sql(settings, query), fmt or "table")


@app.command()
@command()
def runs(
    settings: Settings,
    limit: Annotated[int, typer.Option("--limit", help="most recent N runs")] = 20,
    fmt: FormatOpt = "table",
) -> None:
    """Show the run ledger (ops.pipeline_runs), newest first."""
    from geckolake import flows

    render.rows(*flows.runs(settings, limit), fmt)


@app.command()
@friendly_errors
def demo(
    ctx: typer.Context,
    lake: Annotated[Path | None, typer.Option("--lake", help="lake folder for the demo [./demo-lake]")] = None,
    coins: Annotated[int, typer.Option("--coins", help="markets depth")] = 500,
    history_coins: Annotated[int, typer.Option("--history-coins", help="daily history for the top K")] = 25,
    history_days: Annotated[int, typer.Option("--history-days", help="daily history depth")] = 365,
) -> None:
    """Run the whole pipeline offline against the built-in CoinGecko simulator; needs no key."""
    from geckolake import flows

    folder = lake or given_globals(ctx).lake or Path("demo-lake")
    out = render.console()
    result = flows.demo(
        folder, coins=coins, history_coins=history_coins, history_days=history_days,
        on_listening=lambda url: out.print(f"simulator listening on {url}"),
    )  # fmt: skip
    render.run_result(result.run)
    out.print(f"forecasts: {result.forecast_rows:,} rows (`geckolake forecast` refits them)")
    render.rows(*result.sample, "table")
    out.print(f'try: geckolake sql --lake {folder} "SELECT * FROM gold.coin_aggregates LIMIT 10"')


@app.command()
@friendly_errors
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
            host=host, port=port, coins=coins, seed=seed, plan=plan, rate_per_min=rate_per_min,
            latency_ms=latency_ms, faults=faults, fixtures=fixtures, now=now, api_key=api_key, clean=clean,
        )
    )  # fmt: skip


@app.command()
@friendly_errors
def dashboard(
    ctx: typer.Context,
    lake: LakeOpt = None,
    config: ConfigOpt = None,
    host: Annotated[str, typer.Option("--host", help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port to listen on")] = 8501,
) -> None:
    """Serve the web dashboard (market, coin, risk & correlations, pipeline health) over the lake, read-only.

    Prints `dashboard on http://HOST:PORT` once it answers; runs until Ctrl-C. Needs the `dashboard` extra.
    """
    from geckolake.config import load_settings
    from geckolake.dashboard.server import serve

    given = given_globals(ctx)
    config = config or given.config
    settings = load_settings(config, lake=lake or given.lake)
    out = render.console()
    code = serve(
        settings, host, port, config=config,
        on_ready=lambda url: out.print(f"dashboard on {url}", markup=False, highlight=False),
    )  # fmt: skip
    if code:
        raise typer.Exit(code)


# --- operations: check, status, metrics, alert test, schedule, compact (docs/operations.md) ------


@app.command()
@command(settings=("as_of",))
def check(
    settings: Settings,
    tables: Annotated[
        list[str] | None, typer.Option("--table", help="a table (silver.coins) or layer (silver); repeatable")
    ] = None,
    record: Annotated[bool, typer.Option("--record/--no-record", help="write ops.dq_results, send alerts")] = True,
    fmt: StatusFormatOpt = "table",
) -> None:
    """Run the data-quality checks now; exit 1 when an error-level check fails.

    With --record (default) results go to ops.dq_results and failures and freshness breaches are
    alerted (takes the writer lock).
    """
    from geckolake import flows

    render.check_format(fmt, ("table", "json"))
    report = flows.check(settings, tables=tables, record=record)
    render.checks(report, fmt)
    if any(r.severity == "error" for r in report.failures):
        raise typer.Exit(1)


@app.command()
@command(settings=("as_of",))
def status(settings: Settings, fmt: StatusFormatOpt = "table") -> None:
    """Health at a glance: last run per job, freshness vs SLA, failing checks, API credits this month.

    Exit code 1 when unhealthy (a stale table, a failing error-level check or a failed last run).
    """
    from geckolake import flows

    render.check_format(fmt, ("table", "json"))
    st = flows.status(settings)
    render.status(st, str(settings.lake), fmt)
    if not st.healthy:
        raise typer.Exit(1)


@app.command()
@command(settings=("as_of",))
def metrics(settings: Settings) -> None:
    """Print the lake's run, API, data-quality and freshness metrics (Prometheus text format)."""
    from geckolake import flows

    sys.stdout.write(flows.metrics(settings))


alert_app = typer.Typer(
    help="Alert channels ([alerts] in geckolake.toml).", no_args_is_help=True, rich_markup_mode="markdown"
)
app.add_typer(alert_app, name="alert")


@alert_app.command("test")
@command()
def alert_test(settings: Settings) -> None:
    """Send a test alert to every configured channel (webhook, email, SNS); exit 1 if any fails."""
    from geckolake import flows

    channels = flows.alert_test(settings)
    for channel, outcome in channels.items():
        render.console().print(
            f"{channel}: {'[green]delivered[/]' if outcome == 'ok' else f'[red]failed[/] — {outcome}'}"
        )
    if any(v != "ok" for v in channels.values()):
        raise typer.Exit(1)


@app.command()
@command()
def relocate(settings: Settings) -> None:
    """Adopt a lake folder that was moved or copied: rebuild its catalog and tables from its own files
    (snapshot history is not kept; the original is never read or changed). Takes the writer lock."""
    from geckolake import flows

    done = flows.relocate(settings)
    total = sum(done.rows.values())
    render.console().print(
        f"relocated {len(done.rows)} tables ({total:,} rows) from {done.origin} to {settings.lake}", markup=False
    )


@app.command()
@command()
def compact(
    settings: Settings,
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
    from geckolake import flows

    render.maintenance(flows.maintain(settings, tables=tables, expire=expire, sweep=sweep))


@app.command()
@command(settings=("plan", "vs_currency", "rate_per_min", "as_of"))
def prices(settings: Settings) -> None:
    """Poll /simple/price once for the lake's top [schedule] price_coins coins into silver.live_prices.

    Exit codes as for `geckolake run`: 0 done, 1 error, 3 partial, 130 interrupted.
    """
    from geckolake import flows

    _finish(flows.prices(settings))


@app.command()
@command(settings=("plan", "rate_per_min", "as_of"), log_level="info")
def schedule(
    settings: Settings,
    run_now: Annotated[bool, typer.Option("--run-now", help="fire every enabled job once at start")] = False,
) -> None:
    """Run the [schedule] jobs on their cron times (UTC) until SIGTERM/Ctrl-C; one scheduler per lake."""
    from geckolake import flows

    scheduler = flows.scheduler(settings, run_on_start=run_now)
    names = ", ".join(f"{n} ({j.spec.cron})" for n, j in scheduler.jobs.items()) or "none"
    render.console(stderr=True).print(
        f"scheduling {names} for {settings.lake}; SIGTERM or Ctrl-C stops after the current job", markup=False
    )
    scheduler.run()
