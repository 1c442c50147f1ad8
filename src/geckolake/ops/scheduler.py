"""``geckolake schedule``: cron jobs from ``[schedule]``, one scheduler per lake.

* **Jobs** (``[schedule.jobs.<name>]``: ``cron``, ``kind``, ``enabled``): ``markets`` (a run with history
  and extras off), ``history`` (the full run: markets, daily history, extras, then gold and the
  analytics refresh, then the forecasts and backtests, in that order), ``prices`` (one ``/simple/price`` poll),
  ``maintenance`` (compaction + snapshot expiry + orphan sweep) and ``watch`` (freshness checks + alerts).
* **One job at a time**: a single worker thread runs jobs in fire order (the lake has one writer
  anyway). A job whose previous fire is still queued or running is **skipped** and logged.
* **Missed runs** (the scheduler was down, or the loop woke late): no backlog. Policy
  ``run_once`` runs a missed job once; ``skip`` waits for its next time. At start, the last run of
  each API job in ``ops.pipeline_runs`` tells whether a fire was missed.
* **Credit budget** (``ops/budget.py``): an API job that would exceed ``budget_fraction`` × the plan's
  monthly credits is not run; API jobs stop until the next month and a ``budget`` alert is sent.
* **One instance per lake**: an exclusive lock on ``<lake>/.scheduler.lock`` (``lake/lock.py``).
* **SIGTERM / SIGINT**: stop firing, let the running job finish its commits, then exit.
* **Metrics**: ``metrics_port`` serves ``/metrics`` on 127.0.0.1 (the lake's series plus the
  scheduler's own).

This module is the cron loop only: what each job *does* is a flow, passed in as ``runners``
(``geckolake.flows.schedule`` builds the scheduler with them). ``clock`` and ``sleep`` are injectable
so tests run simulated days in milliseconds.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from geckolake.errors import ConfigError, GeckolakeError, LakeError
from geckolake.lake.catalog import is_lake
from geckolake.lake.lock import scheduler_lock
from geckolake.ops.budget import CreditBudget

if TYPE_CHECKING:
    from prometheus_client.core import Metric

    from geckolake.config import JobSettings, Settings

log = logging.getLogger(__name__)

API_KINDS = frozenset({"markets", "history", "prices"})
MAX_SLEEP_S = 30.0
# Python runs a signal handler in the main thread, between bytecodes. When the kernel delivers
# SIGTERM to another thread (the job worker, a commit thread), a main thread blocked in one long
# Event.wait() would only notice when the wait ends: so the loop waits in short slices.
SIGNAL_POLL_S = 0.25
Runner = Callable[["Settings", str], Any]


@dataclass
class Event:
    """Something the scheduler did, for logs, metrics and tests."""

    job: str
    kind: str  # fired | skipped_running | missed | missed_skipped | budget_stopped | succeeded | failed | dropped
    at: datetime  # scheduler clock
    scheduled: datetime | None = None
    detail: str = ""


@dataclass
class JobState:
    name: str
    spec: JobSettings
    next_fire: datetime
    busy: bool = False  # queued or running
    counts: dict[str, int] = field(default_factory=dict)


# --- the scheduler -------------------------------------------------------------------------------


def _croniter(expr: str, base: datetime) -> Any:
    from croniter import croniter  # type: ignore[import-untyped]

    return croniter(expr, base)


class Scheduler:
    """Fires the enabled jobs of ``settings.schedule`` on their cron expressions (UTC)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], object] | None = None,
        runners: Mapping[str, Runner],
        budget: CreditBudget | None = None,
        run_on_start: bool = False,
        lock: bool = True,
    ) -> None:
        """``runners``: what a job of each kind runs, ``runner(settings, job_name)``; ``budget``: the
        credit guard for API jobs (none: unlimited)."""
        from croniter import croniter

        self.settings = settings
        self._stop = threading.Event()
        if clock is None and settings.as_of is not None:
            origin, t0 = settings.as_of, time.monotonic()  # simulated time that advances with the wall clock
            clock = lambda: origin + timedelta(seconds=time.monotonic() - t0)  # noqa: E731
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sleep = sleep or self._wait_for_stop
        self.runners = dict(runners)
        self.budget = budget
        self.run_on_start = run_on_start
        self.events: list[Event] = []
        self._lock = lock
        self._queue: queue.Queue[tuple[JobState, datetime] | None] = queue.Queue()
        self._busy = threading.Condition()
        self._pending = 0
        self._metrics_server: Any = None
        self.jobs: dict[str, JobState] = {}
        for name, spec in settings.schedule.jobs.items():
            if not spec.enabled:
                continue
            if not croniter.is_valid(spec.cron):
                raise ConfigError(
                    f"job {name}: invalid cron expression {spec.cron!r}",
                    hint="five fields: minute hour day-of-month month day-of-week, e.g. '*/5 * * * *' (UTC)",
                )
            if spec.kind not in self.runners:
                raise ConfigError(f"job {name}: no runner for kind {spec.kind!r}", hint="a bug: report it")
            self.jobs[name] = JobState(name, spec, datetime.max.replace(tzinfo=UTC))

    # -- public ------------------------------------------------------------------------------------
    def _wait_for_stop(self, seconds: float) -> None:
        """Sleep ``seconds`` or until a stop is requested, waking every ``SIGNAL_POLL_S``."""
        end = time.monotonic() + seconds
        while not self._stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            self._stop.wait(min(left, SIGNAL_POLL_S))

    def request_stop(self, *_: object) -> None:
        """Stop firing; the running job finishes (its commits included), queued jobs are dropped."""
        if not self._stop.is_set():
            log.warning("stop requested: finishing the current job, then exiting")
        self._stop.set()

    @property
    def budget_stopped(self) -> str | None:
        """The month API jobs were stopped for by the credit budget, if any."""
        return self.budget.stopped if self.budget is not None else None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running."""
        with self._busy:
            return self._busy.wait_for(lambda: self._pending == 0, timeout)

    def run(self, *, until: datetime | None = None) -> list[Event]:
        """Run until SIGTERM/SIGINT (or the clock reaches ``until``), then drain the current job.

        Raises:
            LakeLocked: another scheduler runs for this lake.
        """
        with scheduler_lock(self.settings) if self._lock else contextlib.nullcontext():
            return self._run(until)

    def _run(self, until: datetime | None) -> list[Event]:
        restore = self._install_signals()
        worker = threading.Thread(target=self._work, name="geckolake-job", daemon=True)
        try:
            self._start_metrics()
            worker.start()
            self._init_fires(self.clock())
            while not self._stop.is_set():
                now = self.clock()
                if until is not None and now >= until:
                    break
                self.tick(now)
                nxt = min((j.next_fire for j in self.jobs.values()), default=now + timedelta(seconds=MAX_SLEEP_S))
                if until is not None:
                    nxt = min(nxt, until)
                delay = max(0.0, min((nxt - self.clock()).total_seconds(), MAX_SLEEP_S))
                self.sleep(delay if delay > 0 else 0.001 if nxt > self.clock() else 0.0)
        finally:
            self._stop.set()
            self._queue.put(None)
            worker.join()
            self._stop_metrics()
            restore()
        log.info("scheduler stopped")
        return self.events

    # -- firing ------------------------------------------------------------------------------------
    def _last_runs(self) -> dict[str, datetime]:
        if not is_lake(self.settings):
            return {}
        from geckolake.lake.catalog import open_lake

        try:
            rows = open_lake(self.settings, read_only=True).read("ops.pipeline_runs", columns=("command", "started_at"))
        except GeckolakeError as e:
            log.warning("cannot read the run ledger: %s", e)
            return {}
        out: dict[str, datetime] = {}
        for r in rows.to_pylist():
            if r["command"] not in out or r["started_at"] > out[r["command"]]:
                out[r["command"]] = r["started_at"]
        return out

    def _init_fires(self, now: datetime) -> None:
        last = self._last_runs()
        for job in self.jobs.values():
            upcoming = _croniter(job.spec.cron, now - timedelta(seconds=1)).get_next(datetime)
            job.next_fire = upcoming
            if self.run_on_start:
                job.next_fire = now
            elif job.spec.kind in API_KINDS and job.name in last:
                first_due = _croniter(job.spec.cron, last[job.name]).get_next(datetime)
                if first_due < now - timedelta(seconds=1):
                    job.next_fire = first_due  # missed while down: tick() applies the policy

    def tick(self, now: datetime) -> None:
        """Fire every job due at ``now`` (missed fires collapse into one; no backlog)."""
        for job in sorted(self.jobs.values(), key=lambda j: (j.next_fire, j.name)):
            if job.next_fire > now:
                continue
            it = _croniter(job.spec.cron, job.next_fire)
            due, latest = 1, job.next_fire
            nxt = it.get_next(datetime)
            while nxt <= now and due < 100_000:
                due, latest = due + 1, nxt
                nxt = it.get_next(datetime)
            job.next_fire = nxt
            interval = (_croniter(job.spec.cron, nxt).get_next(datetime) - nxt).total_seconds()
            grace = min(60.0, interval / 2)
            late = (now - latest).total_seconds() > grace
            if due > 1 or late:
                detail = f"{due} fire(s) missed since {job.next_fire if due == 1 else latest}"
                if self.settings.schedule.missed == "skip" and late:
                    self._event(job, "missed_skipped", latest, f"{detail}; policy skip: waiting for {nxt:%H:%M}")
                    continue
                self._event(job, "missed", latest, f"{detail}; running once")
            self._submit(job, latest)

    def _submit(self, job: JobState, scheduled: datetime) -> None:
        if job.busy:
            self._event(job, "skipped_running", scheduled, "previous run still running")
            return
        if job.spec.kind in API_KINDS and self.budget_stopped == f"{scheduled:%Y-%m}":
            self._event(job, "budget_stopped", scheduled, "monthly credit budget reached")
            return
        job.busy = True
        with self._busy:
            self._pending += 1
        self._event(job, "fired", scheduled)
        self._queue.put((job, scheduled))

    def _event(self, job: JobState, kind: str, scheduled: datetime | None, detail: str = "") -> None:
        ev = Event(job.name, kind, self.clock(), scheduled, detail)
        self.events.append(ev)
        job.counts[kind] = job.counts.get(kind, 0) + 1
        level = logging.WARNING if kind in ("skipped_running", "missed", "missed_skipped", "failed") else logging.INFO
        when = f" (due {scheduled:%Y-%m-%d %H:%M})" if scheduled else ""
        log.log(level, "job %s: %s%s%s", job.name, kind, when, f" — {detail}" if detail else "")

    # -- the worker ----------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            job, scheduled = item
            try:
                if self._stop.is_set():
                    self._event(job, "dropped", scheduled, "shutting down")
                    continue
                self._execute(job, scheduled)
            finally:
                job.busy = False
                with self._busy:
                    self._pending -= 1
                    self._busy.notify_all()
        # drain what is left so wait_idle() returns
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].busy = False
                with self._busy:
                    self._pending -= 1
                    self._busy.notify_all()

    def job_settings(self, scheduled: datetime) -> Settings:
        """Settings for a job: in simulated time (``as_of`` set or an injected clock) ``as_of`` is the fire time."""
        if self.settings.as_of is None:
            return self.settings
        return self.settings.model_copy(update={"as_of": scheduled})

    def _execute(self, job: JobState, scheduled: datetime) -> None:
        settings = self.job_settings(scheduled)
        try:
            if job.spec.kind in API_KINDS and not self._budget_ok(job, settings, scheduled):
                return
            outcome = self.runners[job.spec.kind](settings, job.name)
            status = getattr(outcome, "status", "ok")
            self._event(job, "succeeded", scheduled, str(status))
        except GeckolakeError as e:
            self._event(job, "failed", scheduled, str(e).splitlines()[0] if str(e) else type(e).__name__)
        except Exception as e:  # a job bug must not kill the scheduler
            log.exception("job %s crashed", job.name)
            self._event(job, "failed", scheduled, f"{type(e).__name__}: {e}")

    def _budget_ok(self, job: JobState, settings: Settings, scheduled: datetime) -> bool:
        refusal = self.budget.refusal(settings, job.spec.kind, scheduled) if self.budget is not None else None
        if refusal is not None:
            self._event(job, "budget_stopped", scheduled, refusal)
        return refusal is None

    # -- signals and metrics ------------------------------------------------------------------------
    def _install_signals(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        old = {s: signal.signal(s, self.request_stop) for s in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for s, h in old.items():
                signal.signal(s, h)

        return restore

    def _start_metrics(self) -> None:
        port = self.settings.schedule.metrics_port
        if port is None:
            return
        from prometheus_client import CollectorRegistry, start_http_server

        registry = CollectorRegistry(auto_describe=False)
        registry.register(_SchedulerCollector(self))  # type: ignore[arg-type]
        try:
            self._metrics_server = start_http_server(port, addr="127.0.0.1", registry=registry)
        except OSError as e:
            raise LakeError(f"cannot serve metrics on 127.0.0.1:{port}: {e}", hint="choose another metrics_port") from e
        server = self._metrics_server[0] if isinstance(self._metrics_server, tuple) else None
        self.metrics_port = server.server_address[1] if server is not None else port
        log.info("serving metrics on http://127.0.0.1:%s/metrics", self.metrics_port)

    def _stop_metrics(self) -> None:
        if isinstance(self._metrics_server, tuple):
            self._metrics_server[0].shutdown()
            self._metrics_server[0].server_close()
        self._metrics_server = None


class _SchedulerCollector:
    """The lake's series (read at each scrape) plus the scheduler's own."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        s = self.scheduler
        if is_lake(s.settings):
            from geckolake.lake.catalog import open_lake
            from geckolake.ops.metrics import LakeCollector

            try:
                yield from LakeCollector(open_lake(s.settings, read_only=True), s.settings).collect()
            except Exception as e:  # a scrape must never break the scheduler
                log.warning("lake metrics unavailable: %s", e)
        events = CounterMetricFamily("geckolake_scheduler_events", "Scheduler events by job", labels=["job", "event"])
        nxt = GaugeMetricFamily("geckolake_scheduler_next_fire_timestamp_seconds", "Next fire", labels=["job"])
        for job in list(s.jobs.values()):
            for kind, n in sorted(job.counts.items()):
                events.add_metric([job.name, kind], n)
            if job.next_fire.year < 9999:
                nxt.add_metric([job.name], job.next_fire.timestamp())
        yield events
        yield nxt
        yield GaugeMetricFamily(
            "geckolake_scheduler_budget_stopped", "1 when API jobs are stopped by the credit budget",
            value=1.0 if s.budget_stopped else 0.0,
        )  # fmt: skip
