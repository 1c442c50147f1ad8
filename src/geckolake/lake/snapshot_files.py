"""A light read path for local lakes: each table's current data files without PyIceberg's table stack.

``geckolake sql`` spends most of its time importing what it never uses (the catalog and table
classes pull in PyArrow's dataset layer, SQLAlchemy and pandas, about 1 s of CPU). For a local lake
with the SQLite catalog this module finds the same files PyIceberg's ``scan().plan_files()`` would:

    catalog.db row (metadata_location: the atomic snapshot pointer, read once per table)
    → metadata JSON (current snapshot, current schema)
    → manifest list → manifests (Avro container files, read with fastavro)
    → live data files → DuckDB ``read_parquet`` views

so a reader sees whole snapshots exactly as before. Anything it does not expect (delete files, a
file that is not local) makes it return None, and the caller takes the full PyIceberg path.

The manifests are read with fastavro rather than ``pyiceberg.manifest``: the latter imports
PyIceberg's expression parser and, through its Avro reader, ``pyiceberg.table`` (≈ 140 ms of a
≈ 400 ms ``geckolake sql``), where fastavro imports in ≈ 20 ms. Only the fields every Iceberg
format version has are read: a manifest's ``content`` and a data file's ``content`` (absent in
format v1: data) and ``file_path``, and an entry's ``status`` (2: deleted).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from geckolake.lake.backends import CATALOG_FILE
from geckolake.lake.duckdb_access import new_duckdb
from geckolake.lake.location import LakeSpec
from geckolake.lake.sql import quote_ident, quote_literal, quote_qualified

# geckolake.lake.tables.LAYERS (a test keeps them equal): importing it would import PyArrow.
LAYERS = ("bronze", "silver", "gold", "ops")

if TYPE_CHECKING:
    import duckdb

# Iceberg primitive type -> DuckDB type, for the typed empty view of a table without data.
_DUCKDB_TYPES = {
    "boolean": "BOOLEAN",
    "int": "INTEGER",
    "long": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "date": "DATE",
    "string": "VARCHAR",
    "binary": "BLOB",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
}


# Iceberg's content codes (data, not deletes) and a manifest entry's status code for a removed file.
_DATA = 0
_DELETED = 2


class _Unsupported(Exception):
    """Something the light path does not handle: take PyIceberg's."""


class LocalSnapshots:
    """DuckDB views over a local SQLite-catalog lake's current snapshots (see the module docstring)."""

    def __init__(self, spec: LakeSpec) -> None:
        self.spec = spec
        self._db = spec.root / CATALOG_FILE

    def connect_duckdb(self, tables: Iterable[str] | None = None) -> duckdb.DuckDBPyConnection:
        """Like :meth:`geckolake.lake.catalog.Lake.connect_duckdb`.

        Raises:
            _Unsupported: a table needs the full PyIceberg path (the caller falls back).
        """
        pointers = self._pointers()
        names = sorted(pointers) if tables is None else sorted({t.lower() for t in tables} & set(pointers))
        views = {name: _table_files(pointers[name]) for name in names}
        con = new_duckdb()
        for ns in LAYERS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {ns}")
        for name, (columns, files) in views.items():
            target = quote_qualified(name)
            cols = ", ".join(quote_ident(c) for c, _ in columns)
            if files:
                listing = ", ".join(quote_literal(f) for f in files)
                con.execute(f"CREATE OR REPLACE VIEW {target} AS SELECT {cols} FROM read_parquet([{listing}])")
            else:
                typed = ", ".join(f"CAST(NULL AS {t}) AS {quote_ident(c)}" for c, t in columns)
                con.execute(f"CREATE OR REPLACE VIEW {target} AS SELECT {typed} WHERE false")
        return con

    def _pointers(self) -> dict[str, str]:
        with contextlib.closing(sqlite3.connect(f"{self._db.as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute(
                "SELECT table_namespace, table_name, metadata_location FROM iceberg_tables WHERE catalog_name = ?",
                (self.spec.catalog_name,),
            ).fetchall()
        return {f"{ns}.{name}": str(meta) for ns, name, meta in rows if meta and ns in LAYERS}


def local_snapshots(spec: LakeSpec) -> LocalSnapshots | None:
    """The light reader for ``spec``, or None when the full path must answer: not a local SQLite-catalog
    lake, no lake yet, or a lake that was moved, copied or is being relocated (the full path says so)."""
    if spec.catalog != "sqlite" or not spec.is_local or not (spec.root / CATALOG_FILE).is_file():
        return None
    if (spec.root / ".relocate").exists():
        return None
    reader = LocalSnapshots(spec)
    try:
        pointers = reader._pointers()
    except sqlite3.Error:
        return None
    home = (spec.root / "warehouse").as_uri() + "/"
    if not pointers or any(not p.startswith(home) for p in pointers.values()):
        return None
    return reader


def _table_files(metadata_location: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The current schema's (column, DuckDB type) pairs and the current snapshot's live data files."""
    try:
        metadata = json.loads(Path(_local(metadata_location)).read_text())
    except (OSError, ValueError) as e:  # missing or damaged: the full path reports it
        raise _Unsupported(f"{metadata_location}: {e}") from e
    schema = next(s for s in metadata["schemas"] if s["schema-id"] == metadata["current-schema-id"])
    columns = [(f["name"], _duckdb_type(f["type"])) for f in schema["fields"]]
    snapshot_id = metadata.get("current-snapshot-id")
    if snapshot_id in (None, -1):
        return columns, []
    snapshot = next(s for s in metadata["snapshots"] if s["snapshot-id"] == snapshot_id)
    files = []
    for manifest in _avro_records(snapshot["manifest-list"]):
        if manifest.get("content", _DATA) != _DATA:
            raise _Unsupported("delete files")
        for entry in _avro_records(manifest["manifest_path"]):
            if entry["status"] == _DELETED:
                continue
            if entry["data_file"].get("content", _DATA) != _DATA:
                raise _Unsupported("delete files")
            files.append(_local(entry["data_file"]["file_path"]))
    return columns, files


def _duckdb_type(kind: Any) -> str:
    """The DuckDB type of an Iceberg type in its JSON form (nested types included)."""
    if isinstance(kind, str):
        if kind in _DUCKDB_TYPES:
            return _DUCKDB_TYPES[kind]
        if kind.startswith("decimal"):
            return kind.upper()
    elif kind.get("type") == "list":
        return f"{_duckdb_type(kind['element'])}[]"
    elif kind.get("type") == "map":
        return f"MAP({_duckdb_type(kind['key'])}, {_duckdb_type(kind['value'])})"
    elif kind.get("type") == "struct":
        return (
            "STRUCT(" + ", ".join(f"{quote_ident(f['name'])} {_duckdb_type(f['type'])}" for f in kind["fields"]) + ")"
        )
    raise _Unsupported(f"type {kind}")


def _local(location: str) -> str:
    parsed = urlparse(location)
    if parsed.scheme not in ("", "file"):
        raise _Unsupported(location)
    return unquote(parsed.path) if parsed.scheme else location


def _avro_records(location: str) -> Iterator[dict[str, Any]]:
    """The records of a local Avro container file (a manifest list or a manifest)."""
    import fastavro

    try:
        with open(_local(location), "rb") as f:
            yield from fastavro.reader(f)  # type: ignore[misc]
    except (OSError, ValueError, EOFError) as e:
        # A missing or damaged file: the full path reads it again and reports it as the lake's error.
        raise _Unsupported(f"{location}: {e}") from e


Unsupported = _Unsupported
