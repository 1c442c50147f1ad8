"""The jobs a user or a schedule starts, one function each: the whole story of a job in one place.

Each writing flow takes the writer lock, opens the lake, runs its steps, records the ledger and
alerts on failure; the reading flows (``query``, ``sql``, ``tables``, ``runs``, ``status``,
``metrics``) never lock and never write. The CLI, the scheduler and (later) the dashboard and the
cloud jobs call these and nothing below them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name → the module that defines it. Loaded on first use: `geckolake sql` needs the reads, not the
# simulator, the forecasting models and the alerting channels (≈ 0.45 s of imports, measured).
_WHERE = {
    "alert_test": "alerting",
    "check": "checks",
    "watch": "checks",
    "forecast": "forecasts",
    "prices": "live_prices",
    "maintain": "maintenance",
    "relocate": "maintenance",
    "DemoResult": "offline_demo",
    "demo": "offline_demo",
    "plan": "pipeline",
    "run": "pipeline",
    "export": "read",
    "metrics": "read",
    "query": "read",
    "runs": "read",
    "sql": "read",
    "status": "read",
    "tables": "read",
    "replay": "rebuild",
    "scheduler": "schedule",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'geckolake.flows' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"geckolake.flows.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
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
