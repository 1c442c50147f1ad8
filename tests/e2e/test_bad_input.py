"""Bad input gets one clear line, a non-zero exit, and leaves the lake untouched (issue 3, point 10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.support import Cli, SimFactory, base_env, tree_fingerprint

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


def test_unknown_coin_id(populated: Cli) -> None:
    before = tree_fingerprint(populated.lake)
    line = _one_error_line(populated("run", *SMALL, "--ids", "bitcoin,no-such-coin-xyz"))
    assert "no-such-coin-xyz" in line and "unknown coin" in line
    assert tree_fingerprint(populated.lake) == before


def test_invalid_vs_currency(populated: Cli) -> None:
    before = tree_fingerprint(populated.lake)
    line = _one_error_line(populated("run", *SMALL, "--vs-currency", "notacurrency"))
    assert "vs_currency" in line or "currency" in line
    assert tree_fingerprint(populated.lake) == before


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


def test_wrong_key(tmp_path: Path, simulator: SimFactory) -> None:
    lake = tmp_path / "lake"
    with simulator(plan="pro", api_key="CG-rightkey1234567") as url:
        cli = Cli(lake, url, base_env(lake, url))
        cli("run", *SMALL, COINGECKO_PRO_API_KEY="CG-rightkey1234567", check=True)
        before = tree_fingerprint(lake)
        proc = cli("run", *SMALL, COINGECKO_PRO_API_KEY="CG-wrongkey7654321")
    line = _one_error_line(proc)
    assert "COINGECKO_PRO_API_KEY" in line
    assert "CG-wrongkey7654321" not in proc.stdout + proc.stderr
    assert tree_fingerprint(lake) == before


def test_a_second_writer_is_refused_with_a_clear_message(populated: Cli) -> None:
    from geckolake.lake.lock import writer_lock

    with writer_lock(populated.lake):
        line = _one_error_line(populated("run", *SMALL))
    assert "another" in line
    # readers are never blocked
    with writer_lock(populated.lake):
        assert populated("sql", "SELECT count(*) FROM silver.coins").returncode == 0
