"""Bad input gets one clear line, a non-zero exit, and leaves the lake's data untouched (issue 3,
point 10) while the ledger records the refused run (issue 19); a full disk gets a clear error and
loses nothing."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from tests.e2e.support import Cli, SimFactory, base_env, data_fingerprint, lake_hashes, last_run, tree_fingerprint

SMALL = ("--coins", "20", "--history-coins", "2", "--history-days", "10")


@pytest.fixture
def populated(cli: Cli) -> Cli:
    cli("run", *SMALL, check=True)
    return cli


def _one_error_line(proc: object) -> str:
    stderr = proc.stderr.strip()  # type: ignore[attr-defined]
    assert proc.returncode != 0, proc  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error:")
    return lines[0]


def _refused_and_recorded(cli: Cli, line: str, before: object) -> None:
    assert data_fingerprint(cli.lake) == before
    run = last_run(cli.lake)
    assert run["status"] == "failed" and run["command"] == "run" and run["plan"] == "pro"
    assert str(run["error"]).splitlines()[0] == line.removeprefix("error: ")
    assert run["finished_at"] >= run["started_at"]  # type: ignore[operator]


def test_unknown_coin_id(populated: Cli) -> None:
    before = data_fingerprint(populated.lake)
    line = _one_error_line(populated("run", *SMALL, "--ids", "bitcoin,no-such-coin-xyz"))
    assert "no-such-coin-xyz" in line and "unknown coin" in line
    _refused_and_recorded(populated, line, before)


def test_invalid_vs_currency(populated: Cli) -> None:
    before = data_fingerprint(populated.lake)
    line = _one_error_line(populated("run", *SMALL, "--vs-currency", "notacurrency"))
    assert "vs_currency" in line or "currency" in line
    _refused_and_recorded(populated, line, before)


def test_unwritable_lake_folder(tmp_path: Path, cli: Cli) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    line = _one_error_line(cli("run", *SMALL, "--lake", str(blocker / "lake")))
    assert "lake" in line and "--lake" in line
    assert blocker.read_text() == "not a folder"


def test_invalid_sql(populated: Cli) -> None:
    before = tree_fingerprint(populated.lake)
    line = _one_error_line(populated("sql", "SELEC coin_id FROM silver.coins"))
    assert "SQL" in line
    line = _one_error_line(populated("sql", "SELECT * FROM silver.no_such_table"))
    assert "no_such_table" in line
    line = _one_error_line(populated("sql", "DROP TABLE silver.coins"))
    assert "read-only" in line
    assert tree_fingerprint(populated.lake) == before


def _damage_current_manifest_list(lake: Path, namespace: str, table: str) -> None:
    """Cut the current snapshot's manifest list of ``namespace.table`` in half (a disk or copy gone wrong)."""
    with sqlite3.connect(lake / "catalog.db") as db:
        (location,) = db.execute(
            "SELECT metadata_location FROM iceberg_tables WHERE table_namespace = ? AND table_name = ?",
            (namespace, table),
        ).fetchone()
    metadata = json.loads(Path(urlparse(location).path).read_text())
    (snapshot,) = [s for s in metadata["snapshots"] if s["snapshot-id"] == metadata["current-snapshot-id"]]
    manifest_list = Path(urlparse(snapshot["manifest-list"]).path)
    data = manifest_list.read_bytes()
    manifest_list.write_bytes(data[: len(data) // 2])


def test_a_damaged_manifest_is_one_error_line_and_replay_repairs_it(populated: Cli) -> None:
    query = "SELECT count(*) AS n FROM gold.coin_daily"
    rows = populated("sql", "--format", "csv", query, check=True).stdout
    _damage_current_manifest_list(populated.lake, "gold", "coin_daily")
    line = _one_error_line(populated("sql", query))
    assert "gold.coin_daily" in line and "damaged" in line and "geckolake replay" in line
    # replay drops the table although its files cannot all be listed, and rebuilds it from raw
    repaired = populated("replay", check=True)
    assert "dropped gold.coin_daily without deleting its files" in repaired.stderr
    assert populated("sql", "--format", "csv", query, check=True).stdout == rows


def test_wrong_key(tmp_path: Path, simulator: SimFactory) -> None:
    lake = tmp_path / "lake"
    with simulator(plan="pro", api_key="CG-rightkey1234567") as url:
        cli = Cli(lake, url, base_env(lake, url))
        cli("run", *SMALL, COINGECKO_PRO_API_KEY="CG-rightkey1234567", check=True)
        before = data_fingerprint(lake)
        proc = cli("run", *SMALL, COINGECKO_PRO_API_KEY="CG-wrongkey7654321")
    line = _one_error_line(proc)
    assert "COINGECKO_PRO_API_KEY" in line
    assert "CG-wrongkey7654321" not in proc.stdout + proc.stderr
    _refused_and_recorded(cli, line, before)


def test_a_refused_first_run_leaves_no_lake(tmp_path: Path, simulator: SimFactory) -> None:
    lake = tmp_path / "lake"
    with simulator(plan="pro", api_key="CG-rightkey1234567") as url:
        proc = Cli(lake, url, base_env(lake, url))("run", *SMALL, COINGECKO_PRO_API_KEY="CG-wrongkey7654321")
    assert "COINGECKO_PRO_API_KEY" in _one_error_line(proc)
    assert not (lake / "catalog.db").exists() and not (lake / "raw").exists()


def test_a_second_writer_is_refused_with_a_clear_message(populated: Cli) -> None:
    from geckolake.lake.lock import writer_lock

    with writer_lock(populated.lake):
        line = _one_error_line(populated("run", *SMALL))
    assert "another" in line
    # readers are never blocked
    with writer_lock(populated.lake):
        assert populated("sql", "SELECT count(*) FROM silver.coins").returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 3 MB filesystem (tmpfs), grown to 300 MB with ``remount`` to "free space"."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("needs permission to mount a small tmpfs (root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_says_so_and_the_next_run_completes(tmp_path: Path, small_disk: Path, simulator: SimFactory) -> None:
    args = ("run", "--coins", "500", "--history-coins", "50", "--history-days", "365")
    lake = small_disk / "lake"
    with simulator() as url:
        Cli(tmp_path / "ref", url, base_env(tmp_path / "ref", url))(*args, check=True)
        cli = Cli(lake, url, base_env(lake, url))
        full = cli(*args)
        assert full.returncode == 1 and "Traceback" not in full.stderr, full.stderr
        error = full.stderr.strip().splitlines()[-1]
        assert error.startswith(f"error: the disk holding the lake {lake} is full"), error
        assert "free some space" in error

        subprocess.run(["mount", "-o", "remount,size=300m", str(small_disk)], check=True)
        cli(*args, check=True)
    assert lake_hashes(lake) == lake_hashes(tmp_path / "ref")
