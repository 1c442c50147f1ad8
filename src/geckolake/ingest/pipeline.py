"""The fetch runner of one run: plan → fetch (rate-limited) → land raw → bronze → silver → gold → manifest.

The whole job around it (writer lock, checks and gate, ledger, alerts) is :func:`geckolake.flows.pipeline`.

Commit order makes crashes harmless: raw files first (never referenced until committed), then
bronze/silver/gold (idempotent merges), then the manifest rows that tell the planner the work is
done. A run killed anywhere is completed by the next one, which re-fetches whatever the manifest
does not list and merges it into the same keys.

Fetching never waits for a commit, so the allowed rate stays busy for the whole run: each fetched
batch goes to a :class:`~geckolake.ingest.committer.Committer`, whose single worker thread commits
the batches one at a time in fetch order while the event loop fetches the next. The planner's
state is read (in a thread, while the markets are fetched) before the markets batch commits; that
commit writes nothing the plan reads (market snapshots and sparklines, not price history, nor
chart or ``/coins/list`` manifest rows), so the plan is the one a sequential run makes. (After an
interrupted run, that commit also merges the bronze rows it left; reading before can then only
plan more days for those coins, never miss any.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pyarrow as pa

from geckolake.api.endpoints import ApiRequest, ApiResponse
from geckolake.errors import (
    ApiError,
    ConfigError,
    GeckolakeError,
    LakeError,
    NotFound,
)
from geckolake.ingest import planner
from geckolake.ingest.committer import Committer
from geckolake.ingest.raw_store import RawFile, RawStore
from geckolake.lake.catalog import is_lake
from geckolake.lake.location import lake_spec
from geckolake.ops.ledger import TaskLedger, append_run, new_run_id

if TYPE_CHECKING:
    from geckolake.api.client import CoinGeckoClient
    from geckolake.config import Settings
    from geckolake.lake.catalog import Lake
    from geckolake.quality.gate import Snapshots
    from geckolake.transform.engine import Engine

log = logging.getLogger(__name__)

T = TypeVar("T")

# Responses per commit. Every commit rewrites the partitions it touches, so fewer, larger commits
# are cheaper; the cap bounds memory and the work a crash can cost.
BATCH_SIZE = 1000


class Observer(Protocol):
    """Progress hooks of a run; the CLI renders them with Rich, :class:`SilentObserver` is the default."""

    def phase(self, name: str, total: int) -> None:
        """A phase of ``total`` calls starts."""

    def advance(self, n: int = 1) -> None:
        """``n`` calls finished."""

    def committing(self, tables: int) -> None:
        """The phase's fetched batch goes to commit (``tables``: its bronze tables, one per endpoint).

        The commit runs in the background while the next batch or phase is fetched.
        """


class SilentObserver:
    """Reports nothing (library callers, schedules, pipes)."""

    def phase(self, name: str, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def committing(self, tables: int) -> None:
        pass


@dataclass
class Fetched:
    request: ApiRequest
    response: ApiResponse
    seq: int


@dataclass
class Failed:
    request: ApiRequest
    error: GeckolakeError
    seq: int


@dataclass
class Landed:
    """A batch written raw and parsed, not committed yet."""

    bronze: dict[str, pa.Table]  # bronze table (endpoint) → rows
    quarantine: pa.Table | None
    manifest: pa.Table | None  # one row per request, committed last


@dataclass
class RunResult:
    run_id: str
    status: str  # succeeded | partial | gated | failed | interrupted (see EXIT_CODES)
    api_calls: int = 0
    retries: int = 0
    rate_limited: int = 0
    failed_requests: int = 0  # transient failures the next run asks for again
    not_found: int = 0  # permanent answers (a delisted coin): recorded, and count as done
    quarantined: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    calls_by_endpoint: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    checks_failed: list[str] = field(default_factory=list)  # "table.check (severity)", errors first
    anomalies: int = 0


# What a finished job's status means to a script (``geckolake run``'s exit code; docs/operations.md).
EXIT_CODES: dict[str, int] = {
    "succeeded": 0,  # all planned work done (404s for delisted coins are answers, recorded)
    "failed": 1,  # an error stopped the job: little or nothing done; the error line says why
    "gated": 1,  # fetched and kept in silver, but gold was not published (quality gate)
    "partial": 3,  # done, but transient failures or quarantined bodies are left for the next run
    "interrupted": 130,  # SIGINT / SIGTERM: what had arrived was committed
}


def drive(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` on a new event loop; SIGTERM stops it as Ctrl-C does.

    Both cancel the work at its next ``await``, so it can commit what had arrived, then raise
    ``KeyboardInterrupt``. (Python's default SIGTERM ends the process at once, losing the batch in
    flight.) Outside the main thread signals are not ours to handle: ``work`` just runs.
    """

    async def main() -> T:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGTERM, lambda: task.cancel() if task else None)
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread
            return await work
        try:
            return await work
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None


def ensure_writable(path: Path) -> None:
    """Fail before spending any API credit when the lake folder cannot be written.

    Raises:
        LakeError: the folder (or its nearest existing parent) is not writable or not a folder.
    """
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise LakeError(f"lake path {path} is not a folder", hint="choose another --lake / GECKOLAKE_LAKE")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise LakeError(
            f"lake folder {path} is not writable",
            hint="fix its permissions or choose another --lake / GECKOLAKE_LAKE",
        )


class Run:
    """State of one pipeline run; ``execute`` drives it."""

    def __init__(
        self,
        settings: Settings,
        client: CoinGeckoClient,
        *,
        explicit_ids: Sequence[str] = (),
        observer: Observer | None = None,
        command: str = "run",
        overlap: bool = True,
        lake: Lake | None = None,
        engine: Engine | None = None,
    ) -> None:
        """``overlap=False`` commits each batch before fetching the next (the order of old; for tests).

        ``lake``: the lake, when the caller has opened it already (else opened at the first commit).
        ``engine``: merges the batches and computes the analytics' Spark part (None: DuckDB).
        """
        self.settings = settings
        self.client = client
        self.explicit_ids = list(explicit_ids)
        self.observer: Observer = observer or SilentObserver()
        self.command = command
        self.run_id = new_run_id()
        self.now = settings.now()
        self.started_at = datetime.now(UTC)
        self._started = time.perf_counter()
        self.raw = RawStore.of(lake_spec(settings))
        self._seq = 0
        self.result = RunResult(self.run_id, "running")
        self._lake: Lake | None = None
        self.gate_snapshots: dict[str, int | None] | None = None
        if lake is not None:
            self._lake, self.gate_snapshots = lake, _capture(lake)
        self._analytics_since: date | None = None  # earliest day the run's batches touched
        self._analytics_full = False  # the analytics lagged gold before this run (see source_mark)
        self.ledger = TaskLedger(self.run_id, command, lambda: self.client.stats)
        self.overlap = overlap
        self._commits: Committer | None = None  # while execute() runs
        self.engine = engine

    # --- fetching -------------------------------------------------------------------------------
    async def _fetch(self, requests: list[ApiRequest], phase: str) -> tuple[list[Fetched], list[Failed]]:
        landed: list[Fetched] = []
        failed: list[Failed] = []
        self.observer.phase(phase, len(requests))
        commits = self._commits

        def on_result(req: ApiRequest, outcome: ApiResponse | GeckolakeError) -> None:
            if commits is not None:
                commits.check()  # a background commit failed: stop spending calls, raise its error
            self._seq += 1
            if isinstance(outcome, ApiResponse):
                landed.append(Fetched(req, outcome, self._seq))
            else:
                log.info("request failed: %s: %s", req.describe(), outcome)
                failed.append(Failed(req, outcome, self._seq))
            self.observer.advance()

        with self.ledger.task(phase) as task:
            try:
                await self.client.fetch_all(requests, on_result)
            except BaseException:
                # Stopped (Ctrl-C, SIGTERM, the API gone): what arrived is still landed and committed.
                if commits is not None and (landed or failed):
                    self._submit(commits, phase, landed, failed)
                raise
            finally:
                task.rows_in += len(landed)
        return landed, failed

    # --- committing -----------------------------------------------------------------------------
    def _submit(self, commits: Committer, phase: str, landed: list[Fetched], failed: list[Failed]) -> None:
        """Hand a fetched batch of ``phase`` to the committer (runs on the event loop)."""
        self.count_failures(failed)
        self.observer.committing(len({item.request.endpoint for item in landed}))
        commits.submit(lambda: self._commit(phase, landed, failed))

    def count_failures(self, failed: list[Failed]) -> None:
        """Count failed requests: a 404 is CoinGecko's permanent answer (done); the rest are retried next run."""
        gone = sum(_gone(f) for f in failed)
        self.result.not_found += gone
        self.result.failed_requests += len(failed) - gone

    def _commit(self, phase: str, landed: list[Fetched], failed: list[Failed]) -> None:
        # The next batch may be fetching meanwhile: the client's counters belong to its block.
        with self.ledger.task(phase, count_calls=False) as task:
            task.rows_out += self._commit_batch(landed, failed)

    def land(self, landed: list[Fetched], failed: list[Failed]) -> Landed:
        """Write each body raw, parse it into bronze rows, and build the batch's manifest rows.

        Nothing is committed here: the caller commits the data, then the manifest (last).
        """
        from geckolake.lake.lineage import Lineage
        from geckolake.transform.bronze import parse

        tables: dict[str, list[pa.Table]] = {}
        quarantine: list[pa.Table] = []
        manifest: list[dict[str, Any]] = []
        for item in landed:
            resp = item.response
            raw = self.raw.write(item.request.endpoint, self.run_id, item.seq, resp.fetched_at, resp.body)
            lineage = Lineage(self.run_id, resp.fetched_at, raw.sha256, raw.raw_path)
            parsed = parse(item.request, item.response.body, lineage)
            for name, table in parsed.tables.items():
                if table.num_rows:
                    tables.setdefault(name, []).append(table)
            if parsed.quarantine is not None and parsed.quarantine.num_rows:
                quarantine.append(parsed.quarantine)
                self.result.quarantined += parsed.quarantine.num_rows
            # ok | incomplete (schema drift: a part missing) | quarantined; only ok counts as done
            manifest.append(self._manifest_row(item.request, item.seq, parsed.outcome, resp, raw, parsed.problem))
        for f in failed:
            manifest.append(self._manifest_row(f.request, f.seq, "failed", None, None, f.error))
        return Landed(
            {name: pa.concat_tables(parts, promote_options="default") for name, parts in tables.items()},
            pa.concat_tables(quarantine, promote_options="default") if quarantine else None,
            pa.Table.from_pylist(manifest) if manifest else None,
        )

    def _commit_batch(self, landed: list[Fetched], failed: list[Failed]) -> int:
        """Land, parse and commit one batch, manifest last; the rows it landed (all tables)."""
        from geckolake.transform.runner import apply_batch

        lake = self.lake
        batch = self.land(landed, failed)
        bronze, q = batch.bronze, batch.quarantine
        landed_rows = 0
        if bronze or q is not None:
            report = apply_batch(lake, bronze, q, engine=self.engine)
            for name, n in report.rows.items():
                self.result.rows[name] = self.result.rows.get(name, 0) + n
            for name, n in report.filtered.items():  # bronze rows a silver model's rule left out
                self.result.rows[f"filtered.{name}"] = self.result.rows.get(f"filtered.{name}", 0) + n
            landed_rows = sum(report.rows.values())
            if report.first_day is not None:
                self._analytics_since = min(report.first_day, self._analytics_since or report.first_day)
        if batch.manifest is not None:
            lake.append("ops.raw_manifest", batch.manifest)
        return landed_rows

    def _manifest_row(
        self,
        req: ApiRequest,
        seq: int,
        outcome: str,
        resp: ApiResponse | None,
        raw: RawFile | None,
        error: GeckolakeError | str | None,
    ) -> dict[str, Any]:
        status = resp.status if resp else getattr(error, "status", None)
        return {
            "run_id": self.run_id,
            "seq": seq,
            "endpoint": req.endpoint,
            "path": req.path,
            "params_json": json.dumps(req.params_dict, sort_keys=True),
            "coin_id": req.coin_id,
            "vs_currency": req.vs_currency,
            "granularity": req.granularity,
            "status": status,
            "outcome": outcome,
            "error": str(error) if error else None,
            "fetched_at": resp.fetched_at if resp else datetime.now(UTC),
            "elapsed_ms": resp.elapsed_ms if resp else None,
            "attempts": resp.attempts if resp else getattr(error, "attempts", None),
            "sha256": raw.sha256 if raw else None,
            "size_bytes": raw.size_bytes if raw else None,
            "raw_path": raw.raw_path if raw else None,
        }

    @property
    def lake(self) -> Lake:
        if self._lake is None:
            self._lake, self.gate_snapshots = _open(self.settings)
        return self._lake

    @property
    def has_lake(self) -> bool:
        return self._lake is not None

    async def _phase(self, requests: list[ApiRequest], name: str, commits: Committer) -> None:
        for i in range(0, len(requests), BATCH_SIZE):
            landed, failed = await self._fetch(requests[i : i + BATCH_SIZE], name)
            self._submit(commits, name, landed, failed)

    async def _extras(self, state: planner.LakeState, commits: Committer) -> None:
        """The snapshots and the list, then the members of the categories that body ranks on top."""
        landed, failed = await self._fetch(planner.plan_reference(self.settings, state, self.now), "extras")
        self._submit(commits, "extras", landed, failed)
        bodies = _bodies([item for item in landed if item.request.endpoint == "categories"])
        ranked = planner.ranked_categories(bodies[0]) if bodies else []
        if ranked:
            state.top_categories = ranked
        await self._phase(planner.plan_membership(self.settings, state, self.now), "extras", commits)

    def _read_existing(self) -> tuple[Lake, Snapshots, planner.LakeState] | None:
        """Open the lake and read the planner's state, or None when there is no lake yet.

        Runs in a thread while the markets are fetched, so it only reads: a lake that does not
        exist holds nothing to plan from and is created by the first commit (a refused key then
        leaves no lake behind).
        """
        if not is_lake(self.settings):
            return None
        from geckolake.analytics import source_mark

        lake, snapshots = _open(self.settings)
        if not source_mark.is_current(lake):
            log.warning(
                "the analytics lag %s (a run stopped before refreshing them, or the gate restored gold): "
                "this run refreshes them in full",
                source_mark.SOURCE,
            )
            self._analytics_full = True
        return lake, snapshots, planner.read_lake_state(lake, self.settings.vs_currency)

    # --- the run --------------------------------------------------------------------------------
    async def execute(self) -> RunResult:
        """Fetch, land and transform everything the settings ask for.

        Raises:
            AuthError: the key is missing or wrong (nothing is written).
            ApiError: CoinGecko rejected the request itself (e.g. an invalid vs currency).
            LakeError: the lake cannot be written.
        """
        s = self.settings
        started = time.perf_counter()
        # Markets first and before writing to the catalog: a wrong key, an unknown currency or an
        # unknown coin id stops the run here with the lake untouched. The lake is only read meanwhile.
        reading = asyncio.ensure_future(asyncio.to_thread(self._read_existing))
        try:
            landed, failed, ranked = await self._markets()
        except BaseException:
            await asyncio.gather(reading, return_exceptions=True)  # a thread cannot be cancelled
            raise
        existing = await reading
        if existing is None:
            state = planner.LakeState()
        else:
            self._lake, self.gate_snapshots, state = existing

        commits = self._commits = Committer(threaded=self.overlap)
        try:
            self._submit(commits, "markets", landed, failed)
            coins = planner.history_coins(s, ranked, self.explicit_ids)
            history = planner.plan_daily(s, state, coins, self.now) + planner.plan_hourly(s, state, coins, self.now)
            await self._phase(history, "history", commits)
            await self._extras(state, commits)
        except BaseException:
            await commits.close(raise_error=False)  # what was fetched before the error still commits
            raise
        finally:
            self._commits = None
        await commits.close()
        from geckolake.analytics.refresh import refresh_analytics

        with self.ledger.task("analytics", count_calls=False) as task:
            refreshed = refresh_analytics(
                self.lake,
                since=self._analytics_since,
                full=self._analytics_full,
                config=s.analytics,
                engine=self.engine,
            )
            task.rows_out = sum(refreshed.values())
        for name, n in refreshed.items():
            self.result.rows[name] = self.result.rows.get(name, 0) + n

        stats = self.client.stats
        r = self.result
        r.api_calls, r.retries, r.rate_limited = stats.calls, stats.retries, stats.rate_limited
        r.status = "succeeded" if not r.failed_requests and not r.quarantined else "partial"
        r.seconds = time.perf_counter() - started
        return r

    async def _markets(self) -> tuple[list[Fetched], list[Failed], list[str]]:
        """Fetch the markets pages (and the ``--ids`` page); stop on errors every later call would repeat.

        Raises:
            AuthError, ApiError: the key, plan or a parameter is refused.
            ConfigError: a coin id named with ``--ids`` is unknown.
        """
        s = self.settings
        market_reqs = planner.plan_markets(s)
        id_reqs = [planner.plan_ids(self.explicit_ids, s.vs_currency)] if self.explicit_ids else []
        landed, failed = await self._fetch(market_reqs + id_reqs, "markets")
        for f in failed:
            if isinstance(f.error, ApiError) and not _gone(f):
                raise f.error  # a 404 on the markets list itself means a wrong base URL, not a gone coin
        ranked = _ranked_ids(landed)
        if id_reqs:
            known = _ids_in(landed[-1]) if landed and landed[-1].request in id_reqs else set()
            unknown = [c for c in self.explicit_ids if c not in known]
            if unknown:
                raise ConfigError(
                    f"unknown coin id(s): {', '.join(unknown)}",
                    hint="ids are CoinGecko slugs such as 'bitcoin' or 'usd-coin'; "
                    'see `geckolake sql "SELECT coin_id, name FROM silver.coins"` or /coins/list',
                )
        return landed, failed, ranked

    def record(self, error: BaseException | None = None) -> None:
        """Append this run to ``ops.pipeline_runs`` and its phases to ``ops.task_runs``.

        Failed and interrupted runs are recorded too, with the error line, whenever the lake
        exists (a refused first run leaves no lake behind: there is no ledger to write to).
        """
        r = self.result
        if error is not None:
            interrupted = isinstance(error, KeyboardInterrupt)
            r.status = "interrupted" if interrupted else "failed"
            r.error = "interrupted (SIGINT/SIGTERM); what had arrived was committed" if interrupted else str(error)
            stats = self.client.stats
            r.api_calls, r.retries, r.rate_limited = stats.calls, stats.retries, stats.rate_limited
            r.seconds = time.perf_counter() - self._started
            if self._lake is None:
                if not is_lake(self.settings):
                    return
                self._lake = _open(self.settings)[0]
        self.lake.append("ops.task_runs", self.ledger.table())
        append_run(
            self.lake, run_id=r.run_id, command=self.command, as_of=self.now, started_at=self.started_at,
            status=r.status, rows=r.rows, error=r.error, plan=self.settings.plan_name, api_calls=r.api_calls,
            retries=r.retries, rate_limited=r.rate_limited, failed_requests=r.failed_requests,
            quarantined=r.quarantined,
        )  # fmt: skip


def _gone(failed: Failed) -> bool:
    """A coin CoinGecko no longer knows (404 on a coin's request): done, not failed. A 404 on a listing
    endpoint (markets, /global...) says the base URL is wrong, which is a failure."""
    return isinstance(failed.error, NotFound) and failed.request.coin_id is not None


def _open(settings: Settings) -> tuple[Lake, Snapshots]:
    """The settings' lake (created if needed) and its gated tables' snapshots before this run writes."""
    from geckolake.lake.catalog import open_lake

    lake = open_lake(settings)
    return lake, _capture(lake)


def _capture(lake: Lake) -> Snapshots:
    from geckolake.quality.gate import capture

    return capture(lake)


def _bodies(landed: list[Fetched]) -> list[Any]:
    import orjson

    out = []
    for item in landed:
        try:
            out.append(orjson.loads(item.response.body))
        except orjson.JSONDecodeError:
            out.append(None)
    return out


def _ranked_ids(landed: list[Fetched]) -> list[str]:
    pages = [item for item in landed if not any(k == "ids" for k, _ in item.request.params)]
    pages.sort(key=lambda item: int(item.request.params_dict.get("page", "1")))
    ids: list[str] = []
    for body in _bodies(pages):
        if isinstance(body, list):
            ids += [c["id"] for c in body if isinstance(c, dict) and isinstance(c.get("id"), str)]
    return ids


def _ids_in(item: Fetched) -> set[str]:
    body = _bodies([item])[0]
    if not isinstance(body, list):
        return set()
    return {c["id"] for c in body if isinstance(c, dict) and isinstance(c.get("id"), str)}


def make_client(settings: Settings) -> CoinGeckoClient:
    """The client the settings describe, with its key resolved from the configured provider."""
    from geckolake.api.client import CoinGeckoClient

    return CoinGeckoClient(
        settings.resolved_base_url,
        settings.resolved_plan,
        resolve_key(settings),
        rate_per_min=settings.effective_rate_per_min,
        concurrency=settings.concurrency,
        timeout_s=settings.timeout_s,
        connect_timeout_s=settings.connect_timeout_s,
        max_attempts=settings.max_attempts,
    )


def resolve_key(settings: Settings) -> str | None:
    """The API key from the configured provider (env by default)."""
    from geckolake.secrets import resolve_api_key

    plan = settings.plan_name
    env = dict(os.environ)
    if settings.pro_api_key is not None:
        env["COINGECKO_PRO_API_KEY"] = settings.pro_api_key.get_secret_value()
    if settings.demo_api_key is not None:
        env["COINGECKO_DEMO_API_KEY"] = settings.demo_api_key.get_secret_value()
    return resolve_api_key(
        settings.api_key_source,
        plan=plan,
        env=env,
        aws_endpoint_url=settings.aws_endpoint_url,
        aws_region=settings.aws_region,
    )
