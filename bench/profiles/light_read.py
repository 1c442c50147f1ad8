"""How fast `geckolake sql` could answer without the write stack: three ways to find a table's files.

    .venv/bin/python -m bench.profiles.light_read LAKE [TABLE] [SQL]

Each variant runs in a fresh interpreter (bytecode cache warm, as in the benchmarks), 5 times,
and prints its median wall and CPU (``wait4``) time. Each reads the table's current snapshot the
way the lake defines it: the SQLite catalog row's ``metadata_location`` (the atomic pointer that
PyIceberg commits swap), then that metadata file's current snapshot.

* ``pyarrow-io``: the snapshot's manifests read by PyIceberg through ``load_file_io`` (PyArrow IO,
  which imports ``pyarrow.dataset`` and pandas);
* ``manifest-only``: the same manifests read by ``pyiceberg.manifest`` through a plain local
  ``InputFile``: no PyArrow, no pandas;
* ``file-list``: the data files given as a ready list, as a sidecar written at commit time (keyed by
  the metadata location) would give them. Here the list is computed beforehand by the library.

Then DuckDB views over the files (``read_parquet``) and the query. Compare the figures with
``geckolake sql`` itself, measured the same way on the same lake (the last line).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.common import child_env
from bench.measure import run_measured

CHILD = r"""
import json, os, sqlite3, sys
from urllib.parse import urlparse
lake, table, mode, sql, listing = sys.argv[1:6]
ns, name = table.split(".")
con = sqlite3.connect(f"file:{lake}/catalog.db?mode=ro", uri=True)
(loc,) = con.execute(
    "SELECT metadata_location FROM iceberg_tables WHERE table_namespace = ? AND table_name = ?", (ns, name)
).fetchone()
with open(urlparse(loc).path) as f:
    meta = json.load(f)
snap = next(s for s in meta["snapshots"] if s["snapshot-id"] == meta["current-snapshot-id"])
if mode == "file-list":
    with open(listing) as f:
        files = json.load(f)
else:
    from pyiceberg.manifest import read_manifest_list
    if mode == "pyarrow-io":
        from pyiceberg.io import load_file_io
        io = load_file_io({}, loc)
    else:
        from pyiceberg.io import InputFile

        class Local(InputFile):
            def __len__(self): return os.path.getsize(urlparse(self.location).path)
            def exists(self): return os.path.exists(urlparse(self.location).path)
            def open(self, seekable=True): return open(urlparse(self.location).path, "rb")

        class LocalIO:
            def new_input(self, location): return Local(location)

        io = LocalIO()
    files = [
        urlparse(e.data_file.file_path).path
        for m in read_manifest_list(io.new_input(snap["manifest-list"]))
        for e in m.fetch_manifest_entry(io, discard_deleted=True)
    ]
import duckdb
d = duckdb.connect()
d.execute(f"CREATE SCHEMA {ns}")
d.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({files!r})")
rows = d.execute(sql).fetchall()
print(json.dumps({"rows": len(rows), "pyarrow": "pyarrow" in sys.modules, "pandas": "pandas" in sys.modules}))
"""

DEFAULT_SQL = (
    "SELECT d.coin_id, d.close, d.volume, d.market_cap FROM gold.coin_daily d "
    "WHERE d.vs_currency = 'usd' AND d.date = (SELECT max(date) FROM gold.coin_daily) "
    "ORDER BY d.market_cap DESC NULLS LAST LIMIT 20"
)
REPS = 5


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    run_measured(argv, env)  # warm the bytecode cache
    samples = [run_measured(argv, env) for _ in range(REPS)]
    wall = statistics.median(s.wall_s for s, _ in samples)
    cpu = statistics.median(s.cpu_s for s, _ in samples)
    return wall, cpu, samples[-1][1].strip()


def main(argv: list[str]) -> None:
    from geckolake.lake.catalog import open_lake

    lake = Path(argv[0]).resolve()
    table = argv[1] if len(argv) > 1 else "gold.coin_daily"
    sql = argv[2] if len(argv) > 2 else DEFAULT_SQL
    t = open_lake(lake, read_only=True).catalog.load_table(table)
    files = [os.path.abspath(task.file.file_path.removeprefix("file://")) for task in t.scan().plan_files()]
    env = child_env()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(files, f)
    try:
        for mode in ("file-list", "manifest-only", "pyarrow-io"):
            wall, cpu, out = measure([sys.executable, "-c", CHILD, str(lake), table, mode, sql, f.name], env)
            print(f"{mode:>14}: wall {wall * 1000:6.0f} ms  cpu {cpu * 1000:6.0f} ms  {out}")
    finally:
        os.unlink(f.name)
    gl = Path(sys.executable).parent / "geckolake"
    wall, cpu, _ = measure([str(gl), "--lake", str(lake), "sql", "--format", "json", sql], env)
    print(f"{'geckolake sql':>14}: wall {wall * 1000:6.0f} ms  cpu {cpu * 1000:6.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
