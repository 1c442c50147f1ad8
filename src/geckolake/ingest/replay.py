"""Replay: rebuild bronze → silver → gold from the raw files the manifest lists, with no API call."""

from __future__ import annotations

import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from geckolake.api.endpoints import ApiRequest
from geckolake.ingest.raw_store import RawStore
from geckolake.lake.lineage import Lineage

if TYPE_CHECKING:
    from geckolake.lake.catalog import Lake

FILES_PER_COMMIT = 500
_MANIFEST_COLUMNS = (
    "run_id",
    "seq",
    "endpoint",
    "path",
    "params_json",
    "coin_id",
    "vs_currency",
    "granularity",
    "outcome",
    "fetched_at",
    "sha256",
    "raw_path",
)


@dataclass
class ReplayResult:
    files: int = 0
    points: int = 0
    quarantined: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _append_all(lake: Lake, tables: dict[str, list[pa.Table]]) -> None:
    for name, parts in tables.items():
        lake.append(f"bronze.{name}", pa.concat_tables(parts, promote_options="default"))


def replay(lake: Lake) -> ReplayResult:
    """Drop bronze, silver and gold, then rebuild them from raw (in fetch order).

    Raises:
        LakeError: a raw file listed in the manifest is missing or unreadable.
    """
    from geckolake.analytics.refresh import refresh_analytics
    from geckolake.transform.bronze import parse
    from geckolake.transform.runner import rebuild_all

    started = time.perf_counter()
    result = ReplayResult()
    manifest = lake.read("ops.raw_manifest", columns=_MANIFEST_COLUMNS)
    landed = manifest.filter(
        pc.and_(pc.is_in(manifest["outcome"], pa.array(["ok", "quarantined"])), pc.is_valid(manifest["raw_path"]))
    )
    landed = landed.filter(pc.not_equal(landed["raw_path"], ""))
    landed = landed.sort_by([("fetched_at", "ascending"), ("run_id", "ascending"), ("seq", "ascending")])
    del manifest
    lake.drop_layers(("bronze", "silver", "gold"))
    store = RawStore(lake.root)
    # Batch i is appended in a worker thread while batch i+1 is parsed (Parquet encoding and the
    # catalog commit release the GIL); one append at a time, in order, as before.
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending: Future[None] | None = None
        for i in range(0, landed.num_rows, FILES_PER_COMMIT):
            tables: dict[str, list[pa.Table]] = {}
            for m in landed.slice(i, FILES_PER_COMMIT).to_pylist():
                request = ApiRequest(
                    m["endpoint"],
                    m["path"],
                    tuple(json.loads(m["params_json"]).items()),
                    coin_id=m["coin_id"],
                    vs_currency=m["vs_currency"],
                    granularity=m["granularity"],
                )
                lineage = Lineage(m["run_id"], m["fetched_at"], m["sha256"], m["raw_path"])
                parsed = parse(request, store.read(m["raw_path"]), lineage)
                result.files += 1
                result.points += parsed.points
                for name, table in parsed.tables.items():
                    if table.num_rows:
                        tables.setdefault(name, []).append(table)
                if parsed.quarantine is not None and parsed.quarantine.num_rows:
                    tables.setdefault("quarantine", []).append(parsed.quarantine)
                    result.quarantined += parsed.quarantine.num_rows
            if pending is not None:
                pending.result()
            pending = writer.submit(_append_all, lake, tables)
            del tables
        if pending is not None:
            pending.result()
    report = rebuild_all(lake)
    result.rows = dict(report.rows)
    result.rows.update(refresh_analytics(lake, full=True))
    result.seconds = time.perf_counter() - started
    return result
