"""DuckDB access to the lake: fresh connections (UTC, built-in macros), spilling, views over Parquet.

Readers query the lake through these; none of them takes the writer lock, because the files a
table snapshot lists never change.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from geckolake.lake.sql import quote_ident, quote_literal, quote_qualified

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from pyarrow import fs as pafs


def new_duckdb() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB set to UTC, using only built-in extensions."""
    import duckdb

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute("SET TimeZone = 'UTC'")
    con.execute(_MACROS)
    return con


# UTC calendar helpers on epoch microseconds: DuckDB's TIMESTAMPTZ functions (CAST AS DATE,
# date_trunc, strftime) go through ICU and cost ~10x more per row. Data here is after 1970.
# ordered_avg adds the values in t order, so the sum does not depend on thread scheduling. The SQL
# models call these; transform/dialect.py says what each is on Spark.
_MACROS = """
CREATE OR REPLACE MACRO utc_date(t) AS DATE '1970-01-01' + CAST(epoch_us(t) // 86400000000 AS INTEGER);
CREATE OR REPLACE MACRO utc_month(t) AS strftime(utc_date(t), '%Y-%m');
CREATE OR REPLACE MACRO is_utc_midnight(t) AS epoch_us(t) % 86400000000 = 0;
CREATE OR REPLACE MACRO utc_hour_floor(t) AS make_timestamp(epoch_us(t) - epoch_us(t) % 3600000000);
CREATE OR REPLACE MACRO ordered_avg(x, t) AS list_avg(list(x ORDER BY t));
"""


TEMP_DIR = ".tmp"


def spill_to(con: duckdb.DuckDBPyConnection, root: Path, memory_limit: str) -> None:
    """Cap DuckDB's memory at ``memory_limit`` ("1GB"); beyond it, sorts, joins and aggregates spill
    to ``<root>/.tmp/duckdb`` (its default cap is 80 % of RAM, and in-memory connections never spill)."""
    folder = root / TEMP_DIR / "duckdb"
    folder.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = {quote_literal(memory_limit)}")
    con.execute(f"SET temp_directory = {quote_literal(str(folder))}")


def register_view(
    con: duckdb.DuckDBPyConnection,
    name: str,
    files: list[str],
    schema: pa.Schema,
    filesystem: pafs.FileSystem | None = None,
) -> None:
    """Create view ``name`` over Parquet ``files`` (or a typed empty relation when there are none).

    Local files are read by DuckDB itself. Files on another store (``s3://``) are read through
    ``filesystem`` as an Arrow dataset that DuckDB scans with projection and filter pushdown: DuckDB's
    own S3 support is an extension it would download, which cannot happen offline, and it would not
    share the catalog's endpoint and identity.
    """
    target = quote_qualified(name)
    if files and filesystem is not None:
        import pyarrow.dataset as ds

        paths = [urlparse(f).netloc + unquote(urlparse(f).path) if "://" in f else f for f in files]
        dataset = ds.dataset(paths, schema=schema, format="parquet", filesystem=filesystem)
        source = "__files_" + name.replace(".", "__")
        con.register(source, dataset)
        cols = ", ".join(quote_ident(f.name) for f in schema)
        con.execute(f"CREATE OR REPLACE VIEW {target} AS SELECT {cols} FROM {quote_ident(source)}")
    elif files:
        files = [local_path(f) for f in files]
        listing = ", ".join(quote_literal(f) for f in files)
        cols = ", ".join(quote_ident(f.name) for f in schema)
        con.execute(f"CREATE OR REPLACE VIEW {target} AS SELECT {cols} FROM read_parquet([{listing}])")
    else:
        empty_name = "__empty_" + name.replace(".", "__")
        con.register(empty_name, schema.empty_table())
        con.execute(f"CREATE OR REPLACE VIEW {target} AS SELECT * FROM {quote_ident(empty_name)}")


def local_path(uri: str) -> str:
    """A local filesystem path for a ``file://`` URI (other URIs are returned unchanged)."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return unquote(parsed.path) if parsed.scheme else uri
    return uri
