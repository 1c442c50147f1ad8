"""Rebuild helpers: chunk planning by month and coin range, and the two-phase latest-fetch-wins dedup."""

from __future__ import annotations

import itertools
import random

import pyarrow as pa
import pytest

from geckolake.lake.catalog import new_duckdb
from geckolake.transform import runner
from geckolake.transform.runner import _Chunk, _plan_chunks


def test_small_months_are_grouped_and_a_large_month_is_cut_by_coin() -> None:
    counts = [
        ("2026-01", "a", 2),
        ("2026-01", "b", 2),
        ("2026-02", "a", 3),
        ("2026-03", "a", 6),
        ("2026-03", "b", 5),
        ("2026-03", "c", 1),
    ]
    chunks = list(_plan_chunks(counts, ["2026-04"], limit=8))
    assert chunks == [
        _Chunk(("2026-01", "2026-02")),  # 7 rows: whole months grouped while they fit
        _Chunk(("2026-03",), None, "b"),  # 12 rows: cut by coin id
        _Chunk(("2026-03",), "b", None),
        _Chunk(("2026-04",)),  # snapshots only: still a chunk, for its gold days
    ]


def test_coin_ranges_cover_every_id_once() -> None:
    counts = [("2026-01", f"coin-{i:03d}", 7) for i in range(50)]
    chunks = list(_plan_chunks(counts, [], limit=20))
    assert len(chunks) == 25
    assert chunks[0].low is None and chunks[-1].high is None
    for a, b in itertools.pairwise(chunks):
        assert a.high == b.low
    assert "coin_id >= 'it''s'" in _Chunk(("2026-01",), "it's", None).coin_filter("coin_id")


def _window_dedup(con: object, key: tuple[str, ...]) -> list[tuple[object, ...]]:
    sql = (
        f"SELECT c.* FROM rows c QUALIFY row_number() OVER (PARTITION BY {runner._partition_clause('c', key)} "
        f"ORDER BY {runner._order_clause('c')}) = 1"
    )
    return sorted(con.sql(sql).fetchall(), key=repr)  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", range(5))
def test_two_phase_dedup_keeps_the_same_rows_as_one_window(seed: int) -> None:
    rnd = random.Random(seed)
    n = 300
    schema = pa.schema(
        [
            ("k1", pa.string()),
            ("k2", pa.int64()),
            ("v", pa.float64()),
            ("_fetched_at", pa.int64()),
            ("_raw_sha256", pa.string()),
            ("_raw_path", pa.string()),
        ]
    )
    data = pa.table(
        {
            "k1": [rnd.choice(["a", "b", None]) for _ in range(n)],
            "k2": [rnd.choice([1, 2, 3, None]) for _ in range(n)],
            "v": [rnd.choice([1.0, 2.0, None]) for _ in range(n)],
            "_fetched_at": [rnd.choice([1, 2, None]) for _ in range(n)],
            "_raw_sha256": [rnd.choice(["x", "y", None]) for _ in range(n)],
            "_raw_path": [rnd.choice(["p", "q"]) for _ in range(n)],
        },
        schema=schema,
    )
    con = new_duckdb()
    con.register("rows", data)
    key = ("k1", "k2")
    got = runner._dedup(con, "SELECT * FROM rows", key, schema)
    assert sorted(got.to_pylist(), key=repr) == sorted(
        (dict(zip(schema.names, r, strict=True)) for r in _window_dedup(con, key)), key=repr
    )
    assert got.num_rows == len({(r["k1"], r["k2"]) for r in data.to_pylist()})
