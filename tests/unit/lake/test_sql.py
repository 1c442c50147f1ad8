"""Quoting: whatever the text, DuckDB reads back exactly what was quoted."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geckolake.lake.sql import quote_ident, quote_literal, quote_qualified

# DuckDB text cannot hold NUL; every other code point (quotes, backslashes, newlines) must survive.
TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    yield con
    con.close()


@given(text=TEXT)
def test_a_quoted_literal_reads_back_as_the_text(con: duckdb.DuckDBPyConnection, text: str) -> None:
    assert con.execute(f"SELECT {quote_literal(text)}").fetchone() == (text,)


@given(name=TEXT.filter(lambda s: s != ""))
def test_a_quoted_identifier_names_a_column_exactly(con: duckdb.DuckDBPyConnection, name: str) -> None:
    cur = con.execute(f"SELECT 1 AS {quote_ident(name)}")
    assert [d[0] for d in cur.description or []] == [name]
    assert cur.fetchone() == (1,)


def test_quotes_and_dots_stay_inside_one_identifier(con: duckdb.DuckDBPyConnection) -> None:
    name = 'a.b "c" d'
    assert quote_ident(name) == '"a.b ""c"" d"'
    assert con.execute(f"SELECT {quote_ident(name)} FROM (SELECT 7 AS {quote_ident(name)})").fetchone() == (7,)


def test_a_qualified_name_quotes_each_part(con: duckdb.DuckDBPyConnection) -> None:
    assert quote_qualified("silver.coins") == '"silver"."coins"'
    con.execute('CREATE SCHEMA IF NOT EXISTS "we""ird"')
    con.execute('CREATE OR REPLACE TABLE "we""ird"."t a" AS SELECT 3 AS x')
    name = quote_qualified('we"ird.t a')
    assert con.execute(f"SELECT x FROM {name}").fetchone() == (3,)


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -42, 2**62, date(2024, 2, 29), datetime(2024, 1, 2, 3, 4, 5, 678, tzinfo=UTC)],
)
def test_other_values_read_back_as_themselves(con: duckdb.DuckDBPyConnection, value: object) -> None:
    got = con.execute(f"SELECT {quote_literal(value)}").fetchone()  # type: ignore[arg-type]
    assert got == (value,)
    assert type(got[0]) is type(value)


@given(value=st.floats(allow_nan=False))
def test_a_float_reads_back_as_its_value(con: duckdb.DuckDBPyConnection, value: float) -> None:
    (got,) = con.execute(f"SELECT {quote_literal(value)}::DOUBLE").fetchone() or (None,)
    assert got == value


def test_a_naive_time_is_read_as_utc(con: duckdb.DuckDBPyConnection) -> None:
    got = con.execute(f"SELECT {quote_literal(datetime(2024, 1, 2, 3, 4, 5))}").fetchone()
    assert got == (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_doubles(con: duckdb.DuckDBPyConnection, value: float) -> None:
    (got,) = con.execute(f"SELECT {quote_literal(value)}").fetchone() or (None,)
    assert isinstance(got, float)
    assert (math.isnan(got) and math.isnan(value)) or got == value


def test_other_types_are_refused() -> None:
    with pytest.raises(TypeError, match="bytes"):
        quote_literal(b"x")  # type: ignore[arg-type]
