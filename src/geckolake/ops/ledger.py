"""The task ledger: one ``ops.task_runs`` row per phase of a run (duration, rows, calls, bytes)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import pyarrow as pa


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
    counters: dict[str, int] = field(default_factory=dict)
    finished_at: datetime | None = None


class TaskLedger:
    """Collects the phases of one run; :meth:`rows` gives the ``ops.task_runs`` rows."""

    def __init__(self, run_id: str, command: str, stats: Callable[[], _Stats] | None = None) -> None:
        self.run_id = run_id
        self.command = command
        self._stats = stats
        self.tasks: list[Task] = []

    def _counters(self) -> dict[str, int]:
        if self._stats is None:
            return {"api_calls": 0, "retries": 0, "rate_limited": 0, "bytes_in": 0}
        s = self._stats()
        return {"api_calls": s.calls, "retries": s.retries, "rate_limited": s.rate_limited, "bytes_in": s.bytes_in}

    @contextmanager
    def task(self, name: str) -> Iterator[Task]:
        """Time the block as task ``name``; client counters are the difference across it.

        Entering the same name again (one phase, several batches) adds to that task.
        """
        t = next((x for x in self.tasks if x.name == name), None)
        if t is None:
            t = Task(name, datetime.now(UTC))
            self.tasks.append(t)
        before, started = self._counters(), time.perf_counter()
        try:
            yield t
        except BaseException as e:
            t.status, t.error = "failed", str(e).splitlines()[0] if str(e) else type(e).__name__
            raise
        finally:
            after = self._counters()
            for k in after:
                t.counters[k] = t.counters.get(k, 0) + after[k] - before[k]
            t.seconds += time.perf_counter() - started
            t.finished_at = datetime.now(UTC)

    def rows(self) -> list[dict[str, Any]]:
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
