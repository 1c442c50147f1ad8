"""Commits in a worker thread, one at a time and in order, while the event loop fetches the next batch.

Fetching is paced by the rate limiter; a commit (raw files, parsing, bronze/silver/gold, manifest)
takes seconds. Run in turn, every commit is time the allowed rate goes unused. Here the event loop
hands each fetched batch to :class:`Committer` and goes on fetching; a single worker thread runs the
commits in the order they were submitted (a FIFO queue with one consumer), so each batch still
commits its data before its own manifest rows and batch *i* before batch *i + 1*. Parquet encoding,
gzip and DuckDB release the GIL, so the event loop keeps its pace.

After a commit fails, the ones queued behind it are skipped (their manifest rows are never written,
so the next run fetches them again, as when a sequential run stops at a failed commit) and the
error is raised, unchanged, by :meth:`Committer.check` and :meth:`Committer.close`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


class Committer:
    """Runs submitted commit jobs one by one in submission order; ``threaded=False`` runs them inline."""

    def __init__(self, *, threaded: bool = True) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="geckolake-commit") if threaded else None
        self._pending: list[asyncio.Future[None]] = []
        self.error: BaseException | None = None

    def submit(self, job: Callable[[], None]) -> None:
        """Queue ``job`` behind the commits already submitted (inline: run it now).

        Raises:
            BaseException: the error of an earlier commit that failed (nothing more is queued).
        """
        self.check()
        if self._pool is None:
            self._run(job)
            self.check()
            return
        self._pending.append(asyncio.get_running_loop().run_in_executor(self._pool, self._run, job))

    def _run(self, job: Callable[[], None]) -> None:
        if self.error is not None:
            return  # a commit before this one failed: stop, as a sequential run would have
        try:
            job()
        except BaseException as e:
            self.error = e

    def check(self) -> None:
        """Raise the error of a commit that failed, if any.

        Raises:
            BaseException: that commit's error, as it was raised.
        """
        if self.error is not None:
            raise self.error

    async def close(self, *, raise_error: bool = True) -> None:
        """Wait for every submitted commit to finish, then stop the worker.

        Raises:
            BaseException: the first commit error (unless ``raise_error`` is false, for a run that
                is already failing with another error).
        """
        try:
            if self._pending:
                await asyncio.gather(*self._pending)  # _run never raises: errors are kept in self.error
                self._pending.clear()
        finally:
            # Also when the wait is cancelled (Ctrl-C): the writer lock must outlive every commit.
            if self._pool is not None:
                self._pool.shutdown(wait=True)
        if raise_error:
            self.check()
