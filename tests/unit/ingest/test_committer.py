"""The committer runs commits one at a time, in order, off the event loop; a failure stops the rest."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from geckolake.errors import LakeError
from geckolake.ingest.committer import Committer


def test_commits_run_in_order_one_at_a_time_while_the_loop_goes_on() -> None:
    done: list[int] = []
    running = threading.Semaphore(1)  # a second concurrent commit could not take it
    loop_thread = threading.get_ident()

    def job(i: int) -> None:
        assert running.acquire(blocking=False), "two commits at once"
        try:
            assert threading.get_ident() != loop_thread
            time.sleep(0.05)
            done.append(i)
        finally:
            running.release()

    async def go() -> list[int]:
        commits = Committer()
        for i in range(5):
            commits.submit(lambda i=i: job(i))
        seen_while_committing = list(done)  # submit returned at once: the loop is free meanwhile
        await commits.close()
        return seen_while_committing

    assert asyncio.run(go()) == []
    assert done == [0, 1, 2, 3, 4]


def test_a_failed_commit_skips_the_later_ones_and_its_error_surfaces_unchanged() -> None:
    done: list[int] = []
    error = LakeError("cannot write the lake", hint="free some space")

    def fail() -> None:
        raise error

    async def go() -> None:
        commits = Committer()
        commits.submit(lambda: done.append(1))
        commits.submit(fail)
        commits.submit(lambda: done.append(3))
        with pytest.raises(LakeError) as raised:
            await commits.close()
        assert raised.value is error
        with pytest.raises(LakeError):
            commits.submit(lambda: done.append(4))  # nothing more is accepted

    asyncio.run(go())
    assert done == [1]


def test_close_without_raising_for_a_run_failing_otherwise() -> None:
    def fail() -> None:
        raise ValueError("boom")

    async def go() -> Committer:
        commits = Committer()
        commits.submit(fail)
        await commits.close(raise_error=False)
        return commits

    commits = asyncio.run(go())
    assert isinstance(commits.error, ValueError)


def test_inline_commits_run_at_submit() -> None:
    done: list[int] = []

    async def go() -> None:
        commits = Committer(threaded=False)
        commits.submit(lambda: done.append(threading.get_ident()))
        assert done == [threading.get_ident()]
        await commits.close()

    asyncio.run(go())
