"""The end every API job shares: record it in ``ops.pipeline_runs`` and alert when it fails."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from geckolake.errors import GeckolakeError, disk_full
from geckolake.flows.alerting import job_failed

if TYPE_CHECKING:
    from geckolake.ingest.pipeline import Run, RunResult

log = logging.getLogger(__name__)


def recorded(run: Run, body: Callable[[], RunResult]) -> RunResult:
    """Run ``body``, then append ``run`` to the ledger; on failure record and alert, then re-raise.

    A full disk surfaces from PyArrow, SQLite or the OS each its own way: it is raised as
    :class:`~geckolake.errors.DiskFull`. Every run of an existing lake is recorded, those refused
    before any commit (wrong key, invalid parameter, unknown coin) and interrupted ones included:
    their data layers are left as they were, the ledger row says why.
    """
    try:
        try:
            result = body()
        except Exception as e:
            full = disk_full(e, run.settings.lake)
            if full is None:
                raise
            raise full from e
    except (GeckolakeError, KeyboardInterrupt) as e:
        try:
            run.record(e)
        except Exception as failed:  # e.g. the disk is still full: keep the run's own error
            log.warning("could not record the failed run in ops.pipeline_runs: %s", failed)
        if isinstance(e, GeckolakeError):
            job_failed(run.settings, run.lake if run.has_lake else None, run.command, run.run_id, e)
        raise
    run.record()
    return result
