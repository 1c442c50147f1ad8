"""The task ledger: one ``ops.task_runs`` row per phase of a run (duration, rows, calls, bytes).

A phase's API counters are the difference of the client's counters across its *fetch* blocks.
Commit blocks run in a worker thread while the next batch is fetched (``ingest/pipeline.py``), so
the client's counters move during them because of the other block: they are opened with
``count_calls=False`` and record only their rows and their own seconds. Counting blocks never
overlap (the ledger refuses it), so the tasks' calls add up to the run's exactly. Seconds are each
block's own wall time: with overlapping blocks a phase's seconds can exceed its elapsed time.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

if TYPE_CHECKING:
    from geckolake.lake.catalog import Lake

COUNTERS: tuple[str, ...] = ("api_calls", "retries", "rate_limited", "bytes_in")


class _Stats(Protocol):
    calls: int
    retries: int
    rate_limited: int
    bytes_in: int


@dataclass
class Task:
    """One phase being timed; ``rows_in`` / ``rows_out`` are set by the phase."""

    name: str
    started_at: datetime
    rows_in: int = 0
    rows_out: int = 0
    status: str = "succeeded"
    error: str | None = None
    seconds: float = 0.0
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    finished_at: datetime | None = None


class TaskLedger:
    """Collects the phases of one run; :meth:`rows` gives the ``ops.task_runs`` rows.

    Thread-safe: a commit block may run in a worker thread while a fetch block of the same phase
    runs on the event loop (rows counts are only added to by the block that owns them).
    """

    def __init__(self, run_id: str, command: str, stats: Callable[[], _Stats] | None = None) -> None:
        self.run_id = run_id
        self.command = command
        self._stats = stats
        self.tasks: list[Task] = []
        self._lock = threading.Lock()
        self._counting: str | None = None  # the open block that owns the client's counters

    def _counters(self) -> dict[str, int]:
        if self._stats is None:
            return dict.fromkeys(COUNTERS, 0)
        s = self._stats()
        return {"api_calls": s.calls, "retries": s.retries, "rate_limited": s.rate_limited, "bytes_in": s.bytes_in}

    @contextmanager
    def task(self, name: str, *, count_calls: bool = True) -> Iterator[Task]:
        """Time the block as task ``name``; client counters are the difference across it.

        Entering the same name again (one phase, several batches) adds to that task. A block that
        may overlap others (a background commit) passes ``count_calls=False``: it adds its seconds
        and rows, never the client's counters.

        Raises:
            RuntimeError: a counting block is opened while another one is open (its calls would be
                counted twice).
        """
        with self._lock:
            if count_calls and self._counting is not None:
                raise RuntimeError(f"task {name!r} would count the API calls of open task {self._counting!r}")
            t = next((x for x in self.tasks if x.name == name), None)
            if t is None:
                t = Task(name, datetime.now(UTC))
                self.tasks.append(t)
            if count_calls:
                self._counting = name
            before = self._counters()
        started = time.perf_counter()
        try:
            yield t
        except BaseException as e:
            with self._lock:
                t.status, t.error = "failed", str(e).splitlines()[0] if str(e) else type(e).__name__
            raise
        finally:
            seconds = time.perf_counter() - started
            with self._lock:
                if count_calls:
                    self._counting = None
                    after = self._counters()
                    for k in COUNTERS:
                        t.counters[k] += after[k] - before[k]
                t.seconds += seconds
                now = datetime.now(UTC)
                t.finished_at = now if t.finished_at is None else max(t.finished_at, now)

    def rows(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "run_id": self.run_id,
                    "task": t.name,
                    "command": self.command,
                    "started_at": t.started_at,
                    "finished_at": t.finished_at,
                    "seconds": t.seconds,
                    "status": t.status,
                    "rows_in": t.rows_in,
                    "rows_out": t.rows_out,
                    "error": t.error,
                    **t.counters,
                }
                for t in self.tasks
            ]

    def table(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows())


def new_run_id() -> str:
    """A sortable, unique run id: the UTC start second and 6 random hex digits."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def append_run(
    lake: Lake,
    *,
    run_id: str,
    command: str,
    as_of: datetime,
    started_at: datetime,
    status: str,
    rows: dict[str, int],
    error: str | None = None,
    plan: str | None = None,
    api_calls: int = 0,
    retries: int = 0,
    rate_limited: int = 0,
    failed_requests: int = 0,
    quarantined: int = 0,
) -> None:
    """Append one job to ``ops.pipeline_runs`` (finished now)."""
    row = {
        "run_id": run_id,
        "command": command,
        "as_of": as_of,
        "started_at": started_at,
        "finished_at": datetime.now(UTC),
        "status": status,
        "api_calls": api_calls,
        "retries": retries,
        "rate_limited": rate_limited,
        "failed_requests": failed_requests,
        "quarantined": quarantined,
        "rows_json": json.dumps(rows, sort_keys=True),
        "error": error,
        "plan": plan,
    }
    lake.append("ops.pipeline_runs", pa.Table.from_pylist([row]))


RECENT_RUNS_SQL = (
    "SELECT run_id, command, status, strftime(started_at, '%Y-%m-%d %H:%M:%S') AS started, "
    "round(epoch(finished_at) - epoch(started_at), 1) AS seconds, api_calls, retries, rate_limited, "
    "failed_requests, quarantined, error FROM ops.pipeline_runs ORDER BY started_at DESC LIMIT {limit}"
)


def recent_runs(lake: Lake, limit: int = 20) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The newest ``limit`` rows of ``ops.pipeline_runs`` for display (columns, rows)."""
    from geckolake.lake.query import run_query

    return run_query(lake, RECENT_RUNS_SQL.format(limit=int(limit)))
