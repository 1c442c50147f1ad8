"""End-to-end helpers: the ``geckolake`` CLI run as a user runs it, lake fingerprints."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
GECKOLAKE = [str(Path(sys.executable).parent / "geckolake")]


@dataclass
class Cli:
    """Runs the CLI in a subprocess with a clean environment pointed at one simulator."""

    lake: Path
    base_url: str
    env: dict[str, str]

    def __call__(
        self, *args: str, timeout: float = 180, check: bool = False, **env: str
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**self.env, **env}
        proc = subprocess.run(
            [*GECKOLAKE, *args],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.lake.parent,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"geckolake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*GECKOLAKE, *args], env={**self.env, **env}, cwd=self.lake.parent,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip


def base_env(lake: Path, base_url: str, now: datetime = NOW) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GECKOLAKE_", "COINGECKO_"))}
    env.update(
        GECKOLAKE_LAKE=str(lake),
        COINGECKO_BASE_URL=base_url,
        GECKOLAKE_PLAN="pro",
        GECKOLAKE_RATE_PER_MIN="60000",
        GECKOLAKE_AS_OF=now.isoformat(),
        GECKOLAKE_CONCURRENCY="8",
        NO_COLOR="1",
        COLUMNS="200",
    )
    return env


SimFactory = Callable[..., AbstractContextManager[str]]


# The API gives trending no timestamp, so silver.trending is keyed by the hour of the fetch (wall
# clock, not --as-of): two identical runs either side of an hour boundary rightly hold two snapshots.
# Whole-lake comparisons therefore hash it without that column.
FETCH_TIME_KEYED = {"silver.trending": "snapshot_ts"}


def lake_hashes(lake: object, layers: tuple[str, ...] = ("silver", "gold")) -> dict[str, str]:
    """Content hash of every table in ``layers`` (lineage columns excluded)."""
    import hashlib

    from geckolake.lake.catalog import open_lake
    from geckolake.lake.query import run_query

    opened = open_lake(lake)
    out = {}
    for s in opened.table_stats():
        if s.name.split(".")[0] not in layers:
            continue
        if s.name in FETCH_TIME_KEYED:
            cols, rows = run_query(opened, f"SELECT * EXCLUDE ({FETCH_TIME_KEYED[s.name]}) FROM {s.name}")
            keep = [i for i, c in enumerate(cols) if not c.startswith("_")]
            lines = sorted({repr(tuple(r[i] for i in keep)) for r in rows})
            out[s.name] = hashlib.sha256("\n".join(lines).encode()).hexdigest()
        else:
            out[s.name] = opened.content_hash(s.name)
    return out


def query(lake: Path, sql: str) -> list[tuple[object, ...]]:
    from geckolake.lake.catalog import open_lake
    from geckolake.lake.query import run_query

    return run_query(open_lake(lake), sql)[1]


def tree_fingerprint(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` with its bytes (to prove a failed command touched nothing)."""
    if not path.exists():
        return {}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def data_fingerprint(lake: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    """The raw files and the bronze, silver and gold content: what a refused run must leave as it was
    (it is still recorded in the ops ledger)."""
    return tree_fingerprint(lake / "raw"), lake_hashes(lake, ("bronze", "silver", "gold"))


def last_run(lake: Path) -> dict[str, object]:
    """The newest row of ops.pipeline_runs."""
    from geckolake.lake.catalog import open_lake
    from geckolake.lake.query import run_query

    cols, rows = run_query(open_lake(lake), "SELECT * FROM ops.pipeline_runs ORDER BY started_at DESC LIMIT 1")
    return dict(zip(cols, rows[0], strict=True))
