"""The task ledger times phases and attributes client counters to them."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest

from geckolake.ops.ledger import TaskLedger


@dataclass
class Stats:
    calls: int = 0
    retries: int = 0
    rate_limited: int = 0
    bytes_in: int = 0


def test_phases_accumulate_counters_and_rows() -> None:
    stats = Stats()
    ledger = TaskLedger("run-1", "run", lambda: stats)
    for _ in range(2):  # one phase, two batches
        with ledger.task("history") as t:
            stats.calls += 3
            stats.bytes_in += 100
            t.rows_in += 3
            t.rows_out += 10
    with pytest.raises(ValueError), ledger.task("extras"):
        stats.rate_limited += 1
        raise ValueError("boom")
    rows = {r["task"]: r for r in ledger.rows()}
    assert rows["history"]["api_calls"] == 6 and rows["history"]["bytes_in"] == 200
    assert (rows["history"]["rows_in"], rows["history"]["rows_out"]) == (6, 20)
    assert rows["extras"]["status"] == "failed" and rows["extras"]["error"] == "boom"
    assert rows["extras"]["rate_limited"] == 1
    assert ledger.table().num_rows == 2


def test_a_commit_overlapping_a_fetch_adds_rows_and_seconds_but_no_calls() -> None:
    # A batch commits in a worker thread while the next batch of the same phase is fetched: the
    # calls made meanwhile belong to the fetch block only, so the tasks still sum to the client.
    stats = Stats()
    ledger = TaskLedger("run-1", "run", lambda: stats)
    fetching, committed = threading.Event(), threading.Event()

    def commit() -> None:
        fetching.wait(5)
        with ledger.task("history", count_calls=False) as t:
            time.sleep(0.05)
            t.rows_out += 7
        committed.set()

    worker = threading.Thread(target=commit)
    worker.start()
    with ledger.task("history") as t:
        fetching.set()
        stats.calls += 5
        stats.bytes_in += 50
        assert committed.wait(5)  # the commit ran entirely inside the fetch block
        t.rows_in += 5
    worker.join()
    with ledger.task("extras"):
        stats.calls += 2
    rows = {r["task"]: r for r in ledger.rows()}
    assert (rows["history"]["api_calls"], rows["history"]["bytes_in"]) == (5, 50)
    assert (rows["history"]["rows_in"], rows["history"]["rows_out"]) == (5, 7)
    assert sum(r["api_calls"] for r in rows.values()) == stats.calls
    assert rows["history"]["seconds"] >= 0.05  # the commit's own time is kept


def test_two_counting_blocks_cannot_overlap() -> None:
    ledger = TaskLedger("run-1", "run", Stats)
    with ledger.task("history"), pytest.raises(RuntimeError, match="count the API calls"), ledger.task("extras"):
        pass
    with ledger.task("extras"):  # the refused block left nothing open
        pass
    assert [r["task"] for r in ledger.rows()] == ["history", "extras"]
