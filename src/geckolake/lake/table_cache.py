"""Loaded Iceberg tables kept for reuse, checked against the SQLite catalog's pointer on every use.

Loading a table from the catalog reads its row, then reads and validates the whole metadata JSON
(pydantic): 1–2 ms a table. A run loads tables about 200 times (most of them unchanged since the
last load), so :class:`~geckolake.lake.catalog.Lake` keeps each loaded ``Table``. A cached table is
only handed out while the catalog row still names the metadata file it was loaded from: the row's
``metadata_location`` is the atomic pointer every Iceberg commit swaps, and reading that one column
from SQLite costs tens of microseconds. So a commit made by anyone else (another process, another
``Lake``, another ``Table`` object) is seen exactly as a fresh load would see it, and PyIceberg's own
commits through a cached table update that object in place (its ``metadata`` and
``metadata_location``), so it stays current without a reload.

Only the local SQLite catalog is cached: other catalogs have no cheap read of the pointer.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyiceberg.table import Table

_POINTER = (
    "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?"
)


class TableCache:
    """Tables of one catalog by identifier, each valid while the catalog still points at its metadata."""

    def __init__(self, catalog_file: Path, catalog_name: str) -> None:
        self._uri = f"{catalog_file.as_uri()}?mode=ro"
        self._catalog_name = catalog_name
        self._tables: dict[tuple[str, str], Table] = {}
        # One read-only connection per thread (the commit thread and the main thread both load
        # tables); sqlite3 connections must not be shared between threads without a lock.
        self._local = threading.local()

    def get(self, ident: tuple[str, str], load: Callable[[], Table]) -> Table:
        """The table ``ident``: the cached one while current, else ``load()`` (kept for next time)."""
        cached = self._tables.get(ident)
        if cached is not None and cached.metadata_location == self._pointer(ident):
            return cached
        table = load()
        self._tables[ident] = table
        return table

    def clear(self) -> None:
        """Forget every table (e.g. after tables were dropped and recreated)."""
        self._tables.clear()

    def _pointer(self, ident: tuple[str, str]) -> str | None:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        try:
            if con is None:
                con = sqlite3.connect(self._uri, uri=True)
                self._local.con = con
            row = con.execute(_POINTER, (self._catalog_name, *ident)).fetchone()
        except sqlite3.Error:
            return None  # no pointer to compare: load afresh, which reports what is wrong
        return str(row[0]) if row is not None and row[0] is not None else None
