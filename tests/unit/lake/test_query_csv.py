"""`--format csv` writes lists, maps and structs as JSON, which any CSV reader can parse back."""

from __future__ import annotations

import csv
import io
import json

import duckdb

from geckolake.lake.query import to_csv


def test_lists_maps_and_structs_are_json_in_csv() -> None:
    cur = duckdb.connect().execute(
        "SELECT ['ripple', 'coral-swap'] AS ids, map(['usd', 'eur'], [1.5, 2.0]) AS caps, "
        "{'d': DATE '2025-01-02', 'n': 3} AS s, [DATE '2025-01-01'] AS days, 'plain' AS t, NULL AS nothing, "
        "map([1, 2], ['a', 'b']) AS by_int"
    )
    columns = [d[0] for d in cur.description]
    text = to_csv(columns, cur.fetchall())
    header, row = list(csv.reader(io.StringIO(text)))
    assert header == columns
    got = dict(zip(header, row, strict=True))
    assert got["ids"] == '["ripple","coral-swap"]'  # issue 17: was "['ripple', 'coral-swap']"
    assert json.loads(got["caps"]) == {"usd": 1.5, "eur": 2.0}
    assert json.loads(got["s"]) == {"d": "2025-01-02", "n": 3}
    assert json.loads(got["days"]) == ["2025-01-01"]
    assert json.loads(got["by_int"]) == {"1": "a", "2": "b"}
    assert (got["t"], got["nothing"]) == ("plain", "")
