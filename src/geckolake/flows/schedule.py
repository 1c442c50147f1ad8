"""``schedule``: the scheduler's jobs, each a flow, and the scheduler that fires them.

A job of kind ``markets`` is a run with history and extras off; ``history`` the full run followed
by the forecasts on the gold it published; ``prices`` one poll; ``maintenance`` compaction, expiry
and the orphan sweep; ``watch`` the freshness checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from geckolake.flows.checks import watch
from geckolake.flows.forecasts import forecast
from geckolake.flows.live_prices import prices
from geckolake.flows.maintenance import maintain
from geckolake.flows.pipeline import run
from geckolake.ingest import planner
from geckolake.ingest.prices import planned_calls as poll_calls
from geckolake.lake.catalog import is_lake, open_lake
from geckolake.ops.budget import CreditBudget
from geckolake.ops.scheduler import Runner, Scheduler

if TYPE_CHECKING:
    from geckolake.config import Settings


def markets_job(settings: Settings, name: str) -> Any:
    """The markets pages only (history and extras off)."""
    return run(settings.model_copy(update={"history_coins": 0, "hourly_days": 0, "extras": False}), command=name)


def history_job(settings: Settings, name: str) -> Any:
    """The daily job: the full run, then the forecasts on the gold it published."""
    result = run(settings, command=name)
    if result.status != "failed":
        forecast(settings)
    return result


JOBS: dict[str, Runner] = {
    "markets": markets_job,
    "history": history_job,
    "prices": lambda settings, name: prices(settings, command=name),
    "maintenance": lambda settings, name: maintain(settings),
    "watch": lambda settings, name: watch(settings),
}


def planned_calls(settings: Settings, kind: str) -> int:
    """Credits one fire of a job of ``kind`` is planned to spend."""
    if kind == "prices":
        return poll_calls(settings)
    if kind == "markets":
        return len(planner.plan_markets(settings))
    if kind == "history":
        return planner.dry_run(settings, open_lake(settings, read_only=True) if is_lake(settings) else None).credits
    return 0


def scheduler(
    settings: Settings,
    *,
    run_on_start: bool = False,
    runners: Mapping[str, Runner] | None = None,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], object] | None = None,
    lock: bool = True,
) -> Scheduler:
    """The scheduler of the ``[schedule]`` jobs, with the credit budget; ``scheduler(...).run()`` runs it.

    ``runners`` replaces the flows of some job kinds (tests); ``clock``/``sleep`` simulate time.

    Raises:
        ConfigError: a job's cron expression is invalid.
    """
    return Scheduler(
        settings, runners={**JOBS, **(runners or {})}, budget=CreditBudget(planned_calls),
        clock=clock, sleep=sleep, run_on_start=run_on_start, lock=lock,
    )  # fmt: skip
