"""Quoting for the SQL geckolake writes itself (DuckDB dialect): identifiers and literals.

Every name or value pasted into a query goes through here, so a quote inside a column name, a
run id or a file path can never end the quoted text early::

    quote_ident('a"b')              → "a""b"
    quote_qualified("silver.coins") → "silver"."coins"
    quote_literal("it's")           → 'it''s'
"""

from __future__ import annotations

import math
from datetime import date, datetime

SqlValue = str | int | float | date | datetime | None


def quote_ident(name: str) -> str:
    """One identifier (a column, a view, an alias) in double quotes; dots stay part of the name."""
    return '"' + name.replace('"', '""') + '"'


def quote_qualified(name: str) -> str:
    """A dotted name, each part quoted: ``silver.coins`` → ``"silver"."coins"``."""
    return ".".join(quote_ident(part) for part in name.split("."))


def quote_literal(value: SqlValue) -> str:
    """``value`` as a SQL literal: text in single quotes, times as ``TIMESTAMPTZ``, days as ``DATE``.

    A naive ``datetime`` is read in the session's time zone (UTC on geckolake's connections).

    Raises:
        TypeError: ``value`` is of another type.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):  # before date: a datetime is a date
        return f"TIMESTAMPTZ '{value.isoformat()}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"'{value}'::DOUBLE"
    raise TypeError(f"no SQL literal for a {type(value).__name__}")
