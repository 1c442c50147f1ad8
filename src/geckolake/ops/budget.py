"""The monthly credit budget of scheduled API jobs.

Before each API job, the credits used this month (``ops.raw_manifest``) plus the job's planned
calls are compared with ``budget_fraction`` × the plan's monthly credits. Beyond it, API jobs stop
until the next month and one ``budget`` alert is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from geckolake.errors import GeckolakeError
from geckolake.lake.catalog import is_lake, open_lake
from geckolake.lake.lock import writer_lock
from geckolake.ops import alerts
from geckolake.ops.status import credits_used, monthly_credits

if TYPE_CHECKING:
    from geckolake.config import Settings

log = logging.getLogger(__name__)

PlannedCalls = Callable[["Settings", str], int]


class CreditBudget:
    """Decides whether an API job may spend its planned credits; remembers the month it stopped."""

    def __init__(self, planned_calls: PlannedCalls) -> None:
        """``planned_calls(settings, kind)``: credits one fire of a job of ``kind`` is planned to spend."""
        self.planned_calls = planned_calls
        self.stopped: str | None = None  # the month API jobs were stopped for

    def refusal(self, settings: Settings, kind: str, scheduled: datetime) -> str | None:
        """Why the job may not run (and alert the first time in a month), or None when it may."""
        month = f"{scheduled:%Y-%m}"
        if self.stopped == month:
            return "monthly credit budget reached"
        monthly = monthly_credits(settings)
        if not monthly:
            return None
        limit = int(monthly * settings.schedule.budget_fraction)
        used = _credits_used(settings, scheduled)
        planned = self.planned_calls(settings, kind)
        if used + planned <= limit:
            return None
        self.stopped = month
        _alert(settings, alerts.budget(month, used, used + planned, limit))
        return f"{used:,} used + {planned:,} planned > {limit:,} credits in {month}; API jobs stopped"


def _credits_used(settings: Settings, now: datetime) -> int:
    if not is_lake(settings):
        return 0
    con = open_lake(settings, read_only=True).connect_duckdb()
    try:
        return credits_used(con, now)
    finally:
        con.close()


def _alert(settings: Settings, alert: alerts.Alert) -> None:
    try:
        with writer_lock(settings):
            alerts.AlertDispatcher(settings, open_lake(settings)).dispatch([alert])
    except GeckolakeError as e:
        log.warning("budget alert not sent: %s", e)
