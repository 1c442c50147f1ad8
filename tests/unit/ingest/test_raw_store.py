"""RawStore: bodies come back byte for byte; a damaged file is a LakeError that says so."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from geckolake.errors import LakeError
from geckolake.ingest.raw_store import RawStore

NOW = datetime(2026, 11, 20, tzinfo=UTC)
BODY = b'{"prices":[[1700000000000,1.5]],"market_caps":[],"total_volumes":[]}' * 200


def test_a_landed_body_reads_back_exactly_and_is_plain_gzip(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    raw = store.write("market_chart", "run-1", 7, NOW, BODY)
    assert store.read(raw.raw_path) == BODY
    assert gzip.decompress((tmp_path / raw.raw_path).read_bytes()) == BODY  # any gzip reader reads it
    assert raw.size_bytes == len(BODY) and raw.raw_path.endswith(f"{raw.sha256[:12]}.json.gz")


def _damage_deflate(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 16]) + data[middle + 16 :]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated (a disk filled up mid-copy)
        _damage_deflate,  # corrupt compressed stream
        lambda data: data[:-4] + b"\0\0\0\0",  # wrong length trailer
        lambda data: b"not gzip at all",
        lambda data: b"",
    ],
    ids=["truncated", "corrupt-stream", "bad-trailer", "not-gzip", "empty"],
)
def test_a_damaged_file_is_a_lake_error(tmp_path: Path, damage: object) -> None:
    store = RawStore(tmp_path)
    raw = store.write("market_chart", "run-1", 7, NOW, BODY)
    path = tmp_path / raw.raw_path
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    with pytest.raises(LakeError, match="unreadable"):
        store.read(raw.raw_path)


def test_a_missing_file_is_a_lake_error(tmp_path: Path) -> None:
    with pytest.raises(LakeError, match="unreadable"):
        RawStore(tmp_path).read("raw/market_chart/2026-11-20/run-1/000001-abc.json.gz")
