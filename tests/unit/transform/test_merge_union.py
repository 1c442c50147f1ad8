"""The merge of a batch into existing rows picks the same winners as the window over their union."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from geckolake.lake.duckdb_access import new_duckdb
from geckolake.transform.merge import _dedup_union, dedup

SCHEMA = pa.schema(
    [
        ("coin_id", pa.string()),
        ("ts", pa.int64()),
        ("price", pa.float64()),
        ("_fetched_at", pa.timestamp("us", tz="UTC")),
        ("_raw_sha256", pa.string()),
        ("_raw_path", pa.string()),
    ]
)
KEY = ("coin_id", "ts")
T0 = datetime(2026, 1, 1, tzinfo=UTC)

# Few distinct values, so keys overlap and fetch times tie often; nulls in a key part and in the fetch time.
rows = st.lists(
    st.tuples(
        st.sampled_from(["bitcoin", "ether", None]),
        st.integers(0, 3),
        st.sampled_from([1.0, 2.0, 3.0, None]),
        st.sampled_from([T0, T0 + timedelta(hours=1), None]),
        st.sampled_from(["a", "b"]),
    ),
    max_size=30,
)


def _one_per_key(con: duckdb.DuckDBPyConnection, data: list[tuple[object, ...]]) -> pa.Table:
    table = pa.Table.from_pylist(
        [dict(zip(SCHEMA.names, (*r, f"raw/{r[4]}"), strict=True)) for r in data], schema=SCHEMA
    )
    con.register("t", table)
    try:
        return dedup(con, "SELECT * FROM t", KEY, SCHEMA)
    finally:
        con.unregister("t")


def _sorted(table: pa.Table) -> list[tuple[object, ...]]:
    return sorted((tuple(r.values()) for r in table.to_pylist()), key=repr)


@settings(max_examples=150, deadline=None)
@given(batch_rows=rows, existing_rows=rows)
def test_union_merge_equals_the_window(
    batch_rows: list[tuple[object, ...]], existing_rows: list[tuple[object, ...]]
) -> None:
    con = new_duckdb()
    try:
        batch, existing = _one_per_key(con, batch_rows), _one_per_key(con, existing_rows)
        merged = _dedup_union(con, batch, existing, KEY, SCHEMA)
        con.register("b", batch)
        con.register("e", existing)
        expected = dedup(con, "SELECT * FROM b UNION ALL SELECT * FROM e", KEY, SCHEMA)
        assert _sorted(merged) == _sorted(expected)
    finally:
        con.close()
