"""The task ledger times phases and attributes client counters to them."""

from __future__ import annotations

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
