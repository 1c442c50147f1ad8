"""The jobs a user or a schedule starts, one function each: the whole story of a job in one place.

Each writing flow takes the writer lock, opens the lake, runs its steps, records the ledger and
alerts on failure; the reading flows (``query``, ``sql``, ``tables``, ``runs``, ``status``,
``metrics``) never lock and never write. The CLI, the scheduler and (later) the dashboard and the
cloud jobs call these and nothing below them.
"""

from __future__ import annotations

from geckolake.flows.alerting import alert_test
from geckolake.flows.checks import check, watch
from geckolake.flows.forecasts import forecast
from geckolake.flows.live_prices import prices
from geckolake.flows.maintenance import maintain, relocate
from geckolake.flows.offline_demo import DemoResult, demo
from geckolake.flows.pipeline import plan, run
from geckolake.flows.read import export, metrics, query, runs, sql, status, tables
from geckolake.flows.rebuild import replay
from geckolake.flows.schedule import scheduler

__all__ = [
    "DemoResult",
    "alert_test",
    "check",
    "demo",
    "export",
    "forecast",
    "maintain",
    "metrics",
    "plan",
    "prices",
    "query",
    "relocate",
    "replay",
    "run",
    "runs",
    "scheduler",
    "sql",
    "status",
    "tables",
    "watch",
]
