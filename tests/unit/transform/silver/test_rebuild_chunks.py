"""Rebuild helpers: chunk planning by month and coin range, and the two-phase latest-fetch-wins dedup."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from geckolake.lake.duckdb_access import new_duckdb
from geckolake.lake.write import conform
from geckolake.transform import merge, rebuild
from geckolake.transform.rebuild import _Chunk, _plan_chunks


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


def _window_dedup(con: object, key: tuple[str, ...], schema: pa.Schema) -> list[tuple[object, ...]]:
    # the portable form (one window over all rows, what Spark runs) is the reference
    sql = merge.dedup_portable("SELECT * FROM rows", key, schema)
    return sorted(con.sql(sql).fetchall(), key=repr)  # type: ignore[attr-defined]


@pytest.mark.parametrize("encoded", [False, True])
@pytest.mark.parametrize(("seed", "distinct_k2"), [(0, 3), (1, 3), (2, 3), (3, 3), (4, 3), (5, 2000), (6, 2000)])
def test_two_phase_dedup_keeps_the_same_rows_as_one_window(seed: int, distinct_k2: int, encoded: bool) -> None:
    rnd = random.Random(seed)
    n = 300 if distinct_k2 < 100 else 3000  # few keys, all repeated; or mostly unique keys
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
            "k2": [rnd.choice([*range(1, distinct_k2 + 1), None]) for _ in range(n)],
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
    types = None
    if encoded:
        # ENUM values in the reverse of string order: the winners must still follow the strings.
        con.execute("CREATE TYPE sha_enum AS ENUM ('y', 'x')")
        con.execute("CREATE TYPE path_enum AS ENUM ('q', 'p')")
        types = {"_raw_sha256": "sha_enum", "_raw_path": "path_enum"}
    got = merge.dedup(con, "SELECT * FROM rows", key, schema, encoded=types)
    if encoded:
        assert pa.types.is_dictionary(got.schema.field("_raw_path").type)
        got = conform(got, schema)
    assert sorted(got.to_pylist(), key=repr) == sorted(
        (dict(zip(schema.names, r, strict=True)) for r in _window_dedup(con, key, schema)), key=repr
    )
    assert got.num_rows == len({(r["k1"], r["k2"]) for r in data.to_pylist()})


def test_lineage_enums_hold_every_value(monkeypatch: pytest.MonkeyPatch) -> None:
    con = new_duckdb()
    con.register("rows", pa.table({"_raw_sha256": ["b", None, "a", "b"], "_raw_path": ["p", "p", None, None]}))
    types = rebuild._lineage_enums(con, "rows")
    assert set(types) == {"_raw_sha256", "_raw_path"}
    got = con.sql(f"SELECT _raw_sha256::{types['_raw_sha256']} AS s, _raw_path::{types['_raw_path']} AS p FROM rows")
    assert got.fetchall() == [("b", "p"), (None, "p"), ("a", None), ("b", None)]
    con.register("empty", pa.table({"_raw_sha256": pa.array([], pa.string()), "_raw_path": pa.array([], pa.string())}))
    types = rebuild._lineage_enums(con, "empty")
    assert con.sql(f"SELECT NULL::VARCHAR::{types['_raw_path']}").fetchall() == [(None,)]
    monkeypatch.setattr(rebuild, "_MAX_ENUM_VALUES", 1)  # two sha256 values: too many, plain strings
    assert rebuild._lineage_enums(con, "rows") == {}


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2026, 3, 1), date(2026, 4, 1)), (date(2025, 11, 1), date(2026, 3, 1)), (date(2024, 2, 1), date(2024, 3, 1))],
)
def test_month_case_agrees_with_utc_month(first: date, last: date) -> None:
    con = new_duckdb()
    start, end = datetime(first.year, first.month, 1, tzinfo=UTC), datetime(last.year, last.month, 1, tzinfo=UTC)
    stamps = [start, end - timedelta(microseconds=1)]
    day = start
    while day < end:  # each midnight, and the instants just before and after it
        stamps += [day, day + timedelta(microseconds=1), day - timedelta(microseconds=1), day + timedelta(hours=13)]
        day += timedelta(days=1)
    con.register("t", pa.table({"ts": [s for s in stamps if start <= s < end]}))
    sql = f"SELECT count(*), count(*) FILTER (WHERE {rebuild._month_case(first, last, 'ts')} = utc_month(ts)) FROM t"
    total, same = con.execute(sql).fetchone() or (0, -1)
    assert total > 0 and same == total
