"""Replay: rebuild bronze → silver → gold from the raw files the manifest lists, with no API call.

Raw → bronze is the CPU-heavy part (gunzip, JSON decode, Arrow conversion: ~1.1 ms per 2,160-point
chart body, mostly holding the GIL), so a large replay parses in worker processes. Each
task parses ``FILES_PER_TASK`` consecutive files with the same ``parse()`` as a run and sends back
its tables *without* the four lineage columns (per-file constants, ~170 bytes a row: most of what
would cross the pipe); the parent adds them back from the manifest. Tasks are consumed in order,
so bronze gets the same rows in the same order whether or not workers are used.
"""

from __future__ import annotations

import functools
import json
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from geckolake.api.endpoints import ApiRequest
from geckolake.errors import GeckolakeError, LakeError
from geckolake.ingest.raw_store import RawStore
from geckolake.lake.lineage import Lineage
from geckolake.lake.location import LakeSpec

if TYPE_CHECKING:
    from geckolake.config import AnalyticsSettings
    from geckolake.lake.catalog import Lake
    from geckolake.transform.engine import Engine

log = logging.getLogger(__name__)

FILES_PER_COMMIT = 500
# A smaller replay is still cut into this many commits: each append overlaps the parsing of the next
# files, and only the last one is waited for.
MIN_COMMITS = 4
# Files per worker task: enough that pickling and scheduling are a small share of the parse.
FILES_PER_TASK = 25
# Below this many files, parsing in this process (≈ 1.1 ms a 2,160-point chart) beats starting
# workers (measured: 1M points, 462 files: 2.7 s in process vs 3.2 s with 2 workers; 5M even).
PARALLEL_MIN_FILES = 2000
MAX_WORKERS = 4
_MANIFEST_COLUMNS = (
    "run_id",
    "seq",
    "endpoint",
    "path",
    "params_json",
    "coin_id",
    "vs_currency",
    "granularity",
    "outcome",
    "fetched_at",
    "sha256",
    "raw_path",
)
_LINEAGE = ("_run_id", "_fetched_at", "_raw_sha256", "_raw_path")


@dataclass
class ReplayResult:
    files: int = 0
    points: int = 0
    quarantined: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    gated_runs: list[str] = field(default_factory=list)  # in bronze, left out of silver and gold


@dataclass(frozen=True)
class _File:
    """One landed body to parse: the call that fetched it and where its rows come from."""

    request: ApiRequest
    lineage: Lineage


@dataclass
class _Parsed:
    """Bronze rows of a task's files. ``tables`` lack the lineage columns; ``file_rows[name][i]`` is
    how many rows of ``tables[name]`` come from the task's i-th file. Quarantine tables are whole."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    file_rows: dict[str, list[int]] = field(default_factory=dict)
    quarantine: list[pa.Table] = field(default_factory=list)
    points: int = 0
    logs: list[tuple[str, int, str]] = field(default_factory=list)
    error: tuple[type[GeckolakeError], str, str] | None = None


@functools.cache
def _raw_store(spec: LakeSpec) -> RawStore:
    return RawStore.of(spec)  # one filesystem (and AWS identity lookup) per process, not per task


def _parse_task(root: LakeSpec, files: Sequence[_File]) -> _Parsed:
    """Read and parse ``files`` in order (in a worker process or in the caller)."""
    from geckolake.transform.bronze import parse

    store = _raw_store(root)
    out = _Parsed()
    parts: dict[str, list[pa.Table]] = {}
    try:
        for i, f in enumerate(files):
            parsed = parse(f.request, store.read(f.lineage.raw_path), f.lineage)
            out.points += parsed.points
            for name, table in parsed.tables.items():
                if table.num_rows:
                    parts.setdefault(name, []).append(table.drop_columns(list(_LINEAGE)))
                    out.file_rows.setdefault(name, [0] * len(files))[i] = table.num_rows
            if parsed.quarantine is not None and parsed.quarantine.num_rows:
                out.quarantine.append(parsed.quarantine)
    except GeckolakeError as e:
        # Sent back as data: our errors take a keyword-only hint, which pickling would lose.
        out.error = (type(e), str(e.args[0]) if e.args else "", e.hint)
        return out
    out.tables = {name: pa.concat_tables(p) for name, p in parts.items()}
    return out


# In a worker process: log records kept for the parent, which re-emits them through its handlers.
_worker_logs: list[tuple[str, int, str]] = []


class _LogCollector(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        _worker_logs.append((record.name, record.levelno, record.getMessage()))


def _init_worker(level: int) -> None:
    logging.getLogger().handlers[:] = [_LogCollector()]
    logging.getLogger("geckolake").setLevel(level)


def _parse_in_worker(root: LakeSpec, files: Sequence[_File]) -> _Parsed:
    parsed = _parse_task(root, files)
    parsed.logs = list(_worker_logs)
    _worker_logs.clear()
    return parsed


def _default_workers(files: int) -> int:
    if files < PARALLEL_MIN_FILES:
        return 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cpus, MAX_WORKERS) if cpus > 1 else 0


def _warm_up() -> None:
    import geckolake.transform.bronze  # noqa: F401


@contextmanager
def _parse_pool(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """``workers`` parse processes (None for 0), started at once: their imports then overlap the
    parent's drop of the old tables instead of delaying the first tasks."""
    if workers <= 0:
        yield None
        return
    # spawn: the parent holds threads and catalog connections that a fork would copy.
    context = multiprocessing.get_context("spawn")
    level = logging.getLogger("geckolake").getEffectiveLevel()
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(level,))
    try:
        for _ in range(workers):
            pool.submit(_warm_up)  # each submit to a pool with no idle worker starts one
        yield pool
    finally:
        # Not waiting for the workers to exit (~0.4 s): they leave while the rebuild starts.
        pool.shutdown(wait=False, cancel_futures=True)


_Pending = deque[tuple[list[_File], Future[_Parsed]]]


def _parsed_tasks(
    root: LakeSpec, files: list[_File], pool: ProcessPoolExecutor | None, in_flight: int
) -> Iterator[tuple[list[_File], _Parsed]]:
    """Each task's files with their parse, in order; at most ``in_flight`` tasks submitted at a time
    (bounds the parsed tables waiting in memory). With a pool, the first ``in_flight`` tasks are
    submitted before this returns: the workers parse while the caller drops the old tables."""
    tasks = [files[i : i + FILES_PER_TASK] for i in range(0, len(files), FILES_PER_TASK)]
    if pool is None:
        return ((task, _parse_task(root, task)) for task in tasks)
    queue = iter(tasks)
    pending: _Pending = deque((task, pool.submit(_parse_in_worker, root, task)) for task in islice(queue, in_flight))
    return _in_order(root, pool, queue, pending)


def _in_order(
    root: LakeSpec, pool: ProcessPoolExecutor, queue: Iterator[list[_File]], pending: _Pending
) -> Iterator[tuple[list[_File], _Parsed]]:
    while pending:
        task, future = pending.popleft()
        following = next(queue, None)
        if following is not None:
            pending.append((following, pool.submit(_parse_in_worker, root, following)))
        parsed = future.result()
        for name, level_no, message in parsed.logs:
            logging.getLogger(name).log(level_no, "%s", message)
        yield task, parsed


def _with_lineage(table: pa.Table, files: Sequence[_File], rows: list[int]) -> pa.Table:
    """``table`` with the four lineage columns appended: each file's values, repeated for its rows."""
    from geckolake.lake.bronze import TS
    from geckolake.transform.bronze.coerce import datetime_to_us

    owner = pa.array(np.repeat(np.arange(len(files), dtype=np.int32), rows))
    values = {
        "_run_id": pa.array([f.lineage.run_id for f in files], pa.string()),
        "_fetched_at": pa.array([datetime_to_us(f.lineage.fetched_at) for f in files], TS),
        "_raw_sha256": pa.array([f.lineage.raw_sha256 for f in files], pa.string()),
        "_raw_path": pa.array([f.lineage.raw_path for f in files], pa.string()),
    }
    for name in _LINEAGE:
        table = table.append_column(name, values[name].take(owner))
    return table


def _landed_files(lake: Lake) -> list[_File]:
    """Every landed file of the manifest (ok, incomplete or quarantined, with a raw path), in fetch order."""
    manifest = lake.read("ops.raw_manifest", columns=_MANIFEST_COLUMNS)
    landed = manifest.filter(
        pc.and_(
            pc.is_in(manifest["outcome"], pa.array(["ok", "incomplete", "quarantined"])),
            pc.is_valid(manifest["raw_path"]),
        )
    )
    landed = landed.filter(pc.not_equal(landed["raw_path"], ""))
    landed = landed.sort_by([("fetched_at", "ascending"), ("run_id", "ascending"), ("seq", "ascending")])
    del manifest
    files = []
    for i in range(0, landed.num_rows, FILES_PER_COMMIT):
        for m in landed.slice(i, FILES_PER_COMMIT).to_pylist():
            request = ApiRequest(
                m["endpoint"],
                m["path"],
                tuple(json.loads(m["params_json"]).items()),
                coin_id=m["coin_id"],
                vs_currency=m["vs_currency"],
                granularity=m["granularity"],
            )
            files.append(_File(request, Lineage(m["run_id"], m["fetched_at"], m["sha256"], m["raw_path"])))
    return files


def _gated_runs(lake: Lake) -> list[str]:
    runs = lake.read("ops.pipeline_runs", columns=("run_id", "status"))
    return sorted(set(runs.filter(pc.equal(runs["status"], "gated"))["run_id"].to_pylist()))


def _append_all(lake: Lake, tables: dict[str, list[pa.Table]]) -> None:
    for name, parts in tables.items():
        lake.append(f"bronze.{name}", pa.concat_tables(parts, promote_options="default"))


def _files_per_commit(files: int) -> int:
    return max(1, min(FILES_PER_COMMIT, -(-files // MIN_COMMITS)))


def _parse_into_bronze(
    lake: Lake, parsed_tasks: Iterator[tuple[list[_File], _Parsed]], per_commit: int, result: ReplayResult
) -> None:
    # Batch i is appended in a worker thread while batch i+1 is parsed (Parquet encoding and the
    # catalog commit release the GIL); one append at a time, in order.
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending: Future[None] | None = None
        tables: dict[str, list[pa.Table]] = {}
        in_batch = 0
        for task, parsed in parsed_tasks:
            if parsed.error is not None:
                kind, message, hint = parsed.error
                # LakeError (a raw file) or ParseError (an endpoint without parser); any error class
                # with more required context than a message is reported as a LakeError.
                if kind.__init__ is not GeckolakeError.__init__:
                    kind = LakeError
                raise kind(message, hint=hint)
            result.files += len(task)
            result.points += parsed.points
            for name, table in parsed.tables.items():
                tables.setdefault(name, []).append(_with_lineage(table, task, parsed.file_rows[name]))
            for q in parsed.quarantine:
                tables.setdefault("quarantine", []).append(q)
                result.quarantined += q.num_rows
            in_batch += len(task)
            if in_batch >= per_commit:
                if pending is not None:
                    pending.result()
                pending = writer.submit(_append_all, lake, tables)
                tables, in_batch = {}, 0
        if pending is not None:
            pending.result()
        if tables:
            _append_all(lake, tables)


def replay(
    lake: Lake,
    *,
    workers: int | Literal["auto"] = 0,
    analytics: AnalyticsSettings | None = None,
    engine: Engine | None = None,
) -> ReplayResult:
    """Drop bronze, silver and gold, then rebuild them from raw (in fetch order).

    As in the runs themselves, the batches of a run the quality gate rejected (status ``gated`` in
    ``ops.pipeline_runs``) are parsed into bronze, kept as evidence, but left out of silver and gold.

    ``workers``: processes that parse raw files; 0 (the default) parses in this process;
    ``"auto"`` (what ``geckolake replay`` uses) one per CPU (at most ``MAX_WORKERS``) from
    ``PARALLEL_MIN_FILES`` files on. Workers are started with ``spawn``, which re-imports the
    caller's ``__main__``: only opt in from a script guarded by ``if __name__ == "__main__":``
    (an unguarded one would run again in every worker), which is why it is not the default.
    ``analytics``: what the analytics tables compute (``settings.analytics``; None: the defaults).
    ``engine``: where silver and gold are recomputed (None: DuckDB, in this process).

    Raises:
        LakeError: a raw file listed in the manifest is missing or unreadable.
    """
    from geckolake.analytics.refresh import refresh_analytics
    from geckolake.config import AnalyticsSettings
    from geckolake.transform.runner import rebuild_all

    started = time.perf_counter()
    result = ReplayResult()
    files = _landed_files(lake)
    workers = _default_workers(len(files)) if workers == "auto" else workers
    with _parse_pool(workers) as pool:
        parsed_tasks = _parsed_tasks(lake.spec, files, pool, 2 * workers)
        lake.drop_layers(("bronze", "silver", "gold"))
        _parse_into_bronze(lake, parsed_tasks, _files_per_commit(len(files)), result)
    del files
    result.gated_runs = _gated_runs(lake)
    report = rebuild_all(lake, exclude_runs=result.gated_runs, engine=engine)
    result.rows = dict(report.rows)
    result.rows.update({f"filtered.{name}": n for name, n in report.filtered.items()})
    result.rows.update(refresh_analytics(lake, full=True, config=analytics or AnalyticsSettings(), engine=engine))
    result.seconds = time.perf_counter() - started
    return result
