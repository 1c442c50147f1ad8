"""Builders of small bronze batches for tests and benchmarks (no parser, no API needed)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa

from geckolake.lake.tables import bronze_schemas


def bronze_batch(
    endpoint: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    fetched_at: datetime,
    run_id: str = "run-test",
    raw_path: str | None = None,
) -> pa.Table:
    """A bronze table for ``endpoint`` from ``rows``; absent columns are null, lineage is filled in.

    The raw sha256 is derived from ``raw_path`` (default: one per endpoint and fetch time), so two
    batches built with the same arguments are identical.
    """
    schema = bronze_schemas()[0][endpoint]
    path = raw_path or f"raw/{endpoint}/{fetched_at:%Y-%m-%d}/{run_id}/{fetched_at:%H%M%S%f}.json.gz"
    lineage = {
        "_run_id": run_id,
        "_fetched_at": fetched_at,
        "_raw_sha256": hashlib.sha256(path.encode()).hexdigest(),
        "_raw_path": path,
    }
    full = [{**{f.name: None for f in schema}, **dict(r), **lineage} for r in rows]
    return pa.Table.from_pylist(full, schema=schema)
