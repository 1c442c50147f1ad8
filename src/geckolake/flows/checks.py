"""``check`` and ``watch``: evaluate the data-quality checks now, record them, alert on failures."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from geckolake.flows.alerting import send
from geckolake.flows.lakes import existing_lake, writing
from geckolake.ops import alerts
from geckolake.quality.runner import CheckReport, context_from, record_results, run_checks

if TYPE_CHECKING:
    from geckolake.config import Settings
    from geckolake.lake.catalog import Lake


def check(
    settings: Settings,
    *,
    tables: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    record: bool = True,
) -> CheckReport:
    """Run the checks (all, or of ``tables`` — names or layers — and ``kinds``) on the current snapshots.

    With ``record`` the results go to ``ops.dq_results`` and failures and freshness breaches are
    alerted, under the writer lock; without, the lake is only read.

    Raises:
        LakeError: no lake there.
        LakeLocked: ``record`` and another process is writing the lake.
    """
    opened: contextlib.AbstractContextManager[Lake] = (
        writing(settings) if record else contextlib.nullcontext(existing_lake(settings))
    )
    with opened as lake:
        report = run_checks(lake, context_from(settings), tables=tables or None, kinds=kinds)
        if record:
            record_results(lake, report, None)
            send(settings, lake, [alerts.check_failed(report, None, gated=False), alerts.freshness(report)])
    return report


def watch(settings: Settings) -> CheckReport:
    """The scheduler's watch job: the freshness checks, recorded, with an alert on a breach.

    Raises:
        LakeError: no lake there.
        LakeLocked: another process is writing the lake.
    """
    with writing(settings) as lake:
        report = run_checks(lake, context_from(settings), kinds=["freshness"])
        record_results(lake, report, None)
        send(settings, lake, [alerts.freshness(report)])
    return report
