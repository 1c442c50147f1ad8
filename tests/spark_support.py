"""Shared by the Spark tests: is Java there, a two-day simulator lake, and silver and gold compared
across engines and lakes.

Floats: the same formulas in another order of operations (ln, sums inside Spark's aggregates) may
differ in the last bits; 1e-9 relative, and 1e-15 absolute for values that are ~0 (returns).
"""

from __future__ import annotations

import math
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.e2e.support import FETCH_TIME_KEYED

from geckolake import flows
from geckolake.config import Settings
from geckolake.lake.catalog import open_lake
from geckolake.lake.tables import all_tables
from geckolake.simulator import SimulatorConfig, running_simulator

JAVA = shutil.which("java", path=os.path.join(os.environ["JAVA_HOME"], "bin")) if os.environ.get("JAVA_HOME") else None
JAVA = JAVA or shutil.which("java")
NO_JAVA = "Java is missing: the Spark engine needs Java 17 (java on PATH or JAVA_HOME)"
needs_java = pytest.mark.skipif(JAVA is None, reason=NO_JAVA)
REL, ABS = 1e-9, 1e-15
Snapshot = dict[str, pa.Table]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def two_day_lake(
    root: Path, *, listed: int, coins: int, history_coins: int, history_days: int, hourly_days: int
) -> Path:
    """A lake at ``root`` from two daily runs a day apart (seed 7, as of ``NOW``; history, hourly points,
    sparklines) and one prices poll: every silver and gold table has rows."""
    with running_simulator(SimulatorConfig(port=0, coins=listed, plan="pro", now=NOW, seed=7)) as url:
        for now in (NOW - timedelta(days=1), NOW):
            settings = Settings(
                lake=root, base_url=url, plan="pro", rate_per_min=60000, coins=coins, history_coins=history_coins,
                history_days=history_days, hourly_days=hourly_days, as_of=now,
            )  # fmt: skip
            assert flows.run(settings).status == "succeeded"
        assert flows.prices(settings).status == "succeeded"
    return root


def snapshot(lake: Path, *, lineage: bool = True) -> Snapshot:
    """Every silver and gold table of ``lake``. ``lineage=False`` drops what records when and from which
    file a row was read (``_`` columns, and the fetch-time key of FETCH_TIME_KEYED tables), to compare
    lakes fetched separately from the same data."""
    opened = open_lake(lake, read_only=True)
    out = {}
    for name in (n for n in all_tables() if n.split(".")[0] in ("silver", "gold")):
        table = opened.read(name)
        if not lineage:
            drop = {c for c in table.column_names if c.startswith("_")} | {FETCH_TIME_KEYED.get(name, "")}
            table = table.select([c for c in table.column_names if c not in drop])
            if name in FETCH_TIME_KEYED:  # one list per fetch hour: the same list twice if runs straddled an hour
                table = pa.Table.from_pylist(list({repr(r): r for r in table.to_pylist()}.values()), table.schema)
        out[name] = table
    return out


def _plain(value: Any) -> Any:
    """Lists, maps (as sorted pairs) and structs as tuples, comparable and hashable."""
    if isinstance(value, dict):
        return tuple(sorted((k, _plain(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value


def _sorted_rows(table: pa.Table, key: tuple[str, ...]) -> list[tuple[Any, ...]]:
    rows = [tuple(_plain(v) for v in r.values()) for r in table.to_pylist()]
    at = [table.column_names.index(k) for k in key if k in table.column_names]
    # by key when the table has one (floats that differ in the last bit must not reorder rows)
    return sorted(rows, key=lambda r: repr(tuple(r[i] for i in at)) if at else repr(r))


def differences(a: Snapshot, b: Snapshot) -> list[str]:
    """Every cell that differs between ``a`` and ``b`` beyond the float tolerance (at most 5 per table)."""
    out: list[str] = []
    for name in a:
        ta, tb = a[name], b[name]
        if ta.num_rows != tb.num_rows:
            out.append(f"{name}: {ta.num_rows} rows vs {tb.num_rows}")
            continue
        key = all_tables()[name].key
        found = 0
        for ra, rb in zip(_sorted_rows(ta, key), _sorted_rows(tb, key), strict=True):
            for column, x, y in zip(ta.column_names, ra, rb, strict=True):
                same = (
                    math.isclose(x, y, rel_tol=REL, abs_tol=ABS)
                    if isinstance(x, float) and isinstance(y, float)
                    else x == y
                )
                if not same and found < 5:
                    out.append(f"{name}.{column}: {x!r} vs {y!r}")
                    found += 1
    return out
