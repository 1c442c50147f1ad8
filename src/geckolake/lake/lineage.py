"""Lineage carried from a raw response file into every bronze row parsed from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Lineage:
    """Where a bronze row came from: the run, the moment of the fetch and the raw file."""

    run_id: str
    fetched_at: datetime  # UTC, timezone-aware
    raw_sha256: str
    raw_path: str  # relative to the lake root, e.g. "raw/coins_markets/2026-11-27/<run>/000001-ab12cd.json.gz"
