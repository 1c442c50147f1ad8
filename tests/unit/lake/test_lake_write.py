"""Lake.replace over many parts: each part is written while the next is made, one commit, no half state."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from geckolake.errors import LakeError
from geckolake.lake.catalog import Lake, open_lake
from geckolake.lake.write import overlapped

T0 = datetime(2026, 1, 30, tzinfo=UTC)
NAME = "silver.price_history"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return open_lake(tmp_path_factory.mktemp("lake") / "lake")


def prices(lake: Lake, coin: str, hours: int, price: float = 1.0) -> pa.Table:
    """silver.price_history rows of one coin, hourly from T0 (they cross the January/February partitions)."""
    rows = []
    for h in range(hours):
        ts = T0 + timedelta(hours=h)
        rows.append({
            "coin_id": coin, "vs_currency": "usd", "ts": ts, "granularity": "hourly", "price": price + h,
            "month": ts.strftime("%Y-%m"), "_run_id": "r", "_fetched_at": T0, "_raw_sha256": "s", "_raw_path": "p",
        })  # fmt: skip
    return pa.Table.from_pylist(rows, schema=lake.arrow_schema(NAME))


def content(lake: Lake) -> list[tuple[str, float]]:
    data = lake.read(NAME, columns=("coin_id", "price"))
    return sorted(zip(data["coin_id"].to_pylist(), data["price"].to_pylist(), strict=True))


def no_writer_thread() -> bool:
    return not any(t.name.startswith("lake-write") for t in threading.enumerate())


def test_parts_are_all_written_in_one_commit(lake: Lake) -> None:
    lake.replace(NAME, prices(lake, "old", 2))
    snapshots = len(lake.table(NAME).metadata.snapshots)
    lake.replace(NAME, prices(lake, "old", 2))
    per_replace = len(lake.table(NAME).metadata.snapshots) - snapshots  # a delete and an append
    parts = [prices(lake, f"c{i}", 72, price=10.0 * i) for i in range(4)]
    parts[1] = parts[1].slice(0, 0)  # an empty part writes nothing
    lake.replace(NAME, iter(parts))
    expected = sorted(r for p in parts for r in zip(p["coin_id"].to_pylist(), p["price"].to_pylist(), strict=True))
    assert content(lake) == expected
    assert len(lake.table(NAME).metadata.snapshots) == snapshots + 2 * per_replace
    assert no_writer_thread()


def test_a_part_that_does_not_fit_fails_with_nothing_committed(lake: Lake) -> None:
    lake.replace(NAME, prices(lake, "kept", 3))
    before = content(lake)

    def parts() -> Iterator[pa.Table]:
        yield prices(lake, "a", 48)  # being written when the next part fails
        yield prices(lake, "b", 2).drop_columns(["price"])

    with pytest.raises(LakeError, match="lacks columns price"):
        lake.replace(NAME, parts())
    assert content(lake) == before
    assert no_writer_thread()


def test_a_failing_producer_leaves_the_table_as_it_was(lake: Lake) -> None:
    lake.replace(NAME, prices(lake, "kept", 3))
    before = content(lake)

    def parts() -> Iterator[pa.Table]:
        yield prices(lake, "a", 48)
        raise LakeError("the rebuild query failed")

    with pytest.raises(LakeError, match="rebuild query failed"):
        lake.replace(NAME, parts())
    assert content(lake) == before
    assert no_writer_thread()


def _write_failing_on(bad: int, seen: list[int]) -> Callable[[pa.Table], list[int]]:
    def write(part: pa.Table) -> list[int]:
        value = part["n"][0].as_py()
        seen.append(value)
        if value == bad:
            raise LakeError(f"cannot write part {value}")
        return [value, value]

    return write


def test_overlapped_keeps_order_and_raises_a_write_error() -> None:
    parts = [pa.table({"n": [i]}) for i in range(5)]
    written: list[int] = []
    assert list(overlapped(_write_failing_on(-1, written), iter(parts))) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    taken: list[int] = []

    def produce() -> Iterator[pa.Table]:
        for p in parts:
            taken.append(p["n"][0].as_py())
            yield p

    written.clear()
    with pytest.raises(LakeError, match="cannot write part 1"):
        list(overlapped(_write_failing_on(1, written), produce()))
    assert written == [0, 1]
    assert taken == [0, 1, 2]  # at most one part made ahead of the write in progress
    assert no_writer_thread()


def test_overlapped_with_no_parts_writes_nothing() -> None:
    assert list(overlapped(_write_failing_on(0, []), iter([]))) == []
