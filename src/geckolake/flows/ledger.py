"""The end every job shares: record it in ``ops.pipeline_runs`` and alert when it fails."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from geckolake.errors import GeckolakeError, disk_full
from geckolake.flows.alerting import job_failed
from geckolake.flows.lakes import writing
from geckolake.ops.ledger import append_run, new_run_id

if TYPE_CHECKING:
    from geckolake.config import Settings
    from geckolake.ingest.pipeline import Run, RunResult
    from geckolake.lake.catalog import Lake

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


@contextmanager
def lake_job(settings: Settings, command: str) -> Iterator[tuple[Lake, dict[str, int]]]:
    """A job that calls no API (forecast, replay) on an existing lake, under its writer lock.

    Yields the lake and a dict the job fills with rows written per table; the job is recorded in
    ``ops.pipeline_runs`` (also when it fails or is interrupted) and a failure is alerted.

    Raises:
        LakeError: no lake there.
        LakeLocked: another process is writing it.
    """
    run_id, started_at, started = new_run_id(), datetime.now(UTC), time.perf_counter()
    rows: dict[str, int] = {}
    with writing(settings) as lake:

        def record(status: str, error: str | None) -> None:
            try:
                append_run(
                    lake, run_id=run_id, command=command, as_of=settings.now(), started_at=started_at,
                    status=status, rows=rows, error=error,
                )  # fmt: skip
            except Exception as failed:  # e.g. the disk is full: keep the job's own error
                log.warning("could not record %s in ops.pipeline_runs: %s", command, failed)

        try:
            yield lake, rows
        except KeyboardInterrupt:
            record("interrupted", "interrupted (SIGINT/SIGTERM)")
            raise
        except GeckolakeError as e:
            record("failed", str(e))
            job_failed(settings, lake, command, run_id, e)
            raise
        log.info("%s finished in %.1fs", command, time.perf_counter() - started)
        record("succeeded", None)
