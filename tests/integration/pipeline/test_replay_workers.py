"""Replay in worker processes gives exactly the bronze rows (lineage included) and the silver/gold
content of an in-process replay, and of ``parse()`` called body by body."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from tests.coingecko_data import recorded_files

from geckolake.api import endpoints as ep
from geckolake.api.endpoints import ApiRequest
from geckolake.errors import LakeError
from geckolake.ingest import replay as replay_module
from geckolake.ingest.raw_store import RawStore
from geckolake.ingest.replay import replay
from geckolake.lake.catalog import Lake, open_lake
from geckolake.lake.lineage import Lineage
from geckolake.transform.bronze import parse

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def _chart(n: int, start_ms: int, step_ms: int = 3_600_000) -> dict[str, Any]:
    ts = [start_ms + i * step_ms for i in range(n)]
    return {
        "prices": [[t, 100.0 + i / 7] for i, t in enumerate(ts)],
        "market_caps": [[t, 1e9 + i] for i, t in enumerate(ts)],
        "total_volumes": [[t, 1e6 * (i % 5)] for i, t in enumerate(ts)],
    }


def _bodies() -> list[tuple[ApiRequest, bytes]]:
    start = int((NOW - timedelta(days=30)).timestamp())
    out: list[tuple[ApiRequest, bytes]] = []
    for i in range(8):
        req = ep.market_chart_range(f"coin-{i}", "usd", start, int(NOW.timestamp()), "hourly")
        out.append((req, orjson.dumps(_chart(50 + i, start * 1000))))
    bad = ep.market_chart_range("coin-bad", "usd", start, int(NOW.timestamp()), "hourly")
    with_string = _chart(10, start * 1000)
    with_string["prices"][3][1] = "abc"
    with_dupes = _chart(10, start * 1000)
    with_dupes["prices"].append(with_dupes["prices"][2])
    out += [
        (bad, b'{"prices": [[1, 2], [3'),  # truncated
        (bad, b'{"error": "coin not found"}'),
        (bad, orjson.dumps(with_string)),
        (bad, orjson.dumps(with_dupes)),
        # misaligned series (joined by timestamp) with a null value
        (
            bad,
            orjson.dumps(
                {"prices": [[start * 1000, 1.0]], "market_caps": [[start * 1000, 5.0]], "total_volumes": [[0, None]]}
            ),
        ),
    ]
    for path in recorded_files("market_chart"):
        # No granularity: inferred from the span (or the data), as for an old manifest row.
        req = ApiRequest("market_chart", "/coins/bitcoin/market_chart", (("vs_currency", "usd"),), coin_id="bitcoin")
        out.append((req, path.read_bytes()))
    markets = ApiRequest("coins_markets", "/coins/markets", (("vs_currency", "usd"),), vs_currency="usd")
    for path in recorded_files("coins_markets"):
        out.append((markets, path.read_bytes()))
    return out


def _land(root: Path) -> tuple[Lake, list[tuple[ApiRequest, bytes, Lineage]]]:
    lake = open_lake(root)
    store = RawStore(root)
    rows, landed = [], []
    for seq, (req, body) in enumerate(_bodies()):
        fetched = NOW + timedelta(seconds=seq)
        raw = store.write(req.endpoint, "r1", seq, fetched, body)
        landed.append((req, body, Lineage("r1", fetched, raw.sha256, raw.raw_path)))
        rows.append({
            "run_id": "r1", "seq": seq, "endpoint": req.endpoint, "path": req.path,
            "params_json": json.dumps(req.params_dict), "coin_id": req.coin_id, "vs_currency": req.vs_currency,
            "granularity": req.granularity, "status": 200, "outcome": "ok", "error": None, "fetched_at": fetched,
            "elapsed_ms": 1.0, "attempts": 1, "sha256": raw.sha256, "size_bytes": raw.size_bytes,
            "raw_path": raw.raw_path,
        })  # fmt: skip
    lake.append("ops.raw_manifest", pa.Table.from_pylist(rows))
    return lake, landed


def _rows(table: pa.Table) -> list[str]:
    return sorted(repr(r) for r in table.to_pylist())


def _bronze(lake: Lake) -> dict[str, list[str]]:
    return {name: _rows(lake.read(name)) for name in lake.table_names() if name.startswith("bronze.")}


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, list[tuple[ApiRequest, bytes, Lineage]]]:
    return _land(tmp_path_factory.mktemp("replay") / "lake")


def test_workers_give_the_same_lake_as_parse_body_by_body(
    landed: tuple[Lake, list[tuple[ApiRequest, bytes, Lineage]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, bodies = landed
    monkeypatch.setattr(replay_module, "FILES_PER_TASK", 3)  # several tasks, a partial last one
    monkeypatch.setattr(replay_module, "FILES_PER_COMMIT", 6)  # several bronze commits
    expected: dict[str, list[pa.Table]] = {}
    for req, body, lineage in bodies:
        parsed = parse(req, body, lineage)
        for name, table in parsed.tables.items():
            expected.setdefault(f"bronze.{name}", []).append(table)
        if parsed.quarantine is not None:
            expected.setdefault("bronze.quarantine", []).append(parsed.quarantine)
    in_process = replay(lake, workers=0)
    bronze = _bronze(lake)
    for name, parts in expected.items():
        assert bronze[name] == _rows(lake.conform(name, pa.concat_tables(parts))), name
    hashes = {name: lake.content_hash(name) for name in lake.table_names() if not name.startswith("ops.")}
    in_workers = replay(lake, workers=2)
    assert _bronze(lake) == bronze
    assert {name: lake.content_hash(name) for name in hashes} == hashes
    assert (in_workers.files, in_workers.points, in_workers.quarantined) == (
        in_process.files,
        in_process.points,
        in_process.quarantined,
    )
    assert in_process.quarantined == 4  # truncated, error body, a string value, a repeated timestamp


def test_a_missing_raw_file_stops_a_replay_in_workers(tmp_path: Path) -> None:
    lake, bodies = _land(tmp_path / "lake")
    (tmp_path / "lake" / bodies[4][2].raw_path).unlink()
    with pytest.raises(LakeError, match="unreadable"):
        replay(lake, workers=2)
