"""A lake's folder, as users handle folders (a first step of issue 13): a copied or moved lake is refused
with one clear line instead of silently sharing (or purging) the original's files; a non-empty folder
that is not a lake is left exactly as it was; a lake the user may only read can still be queried."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.support import Cli, base_env, tree_fingerprint

SMALL = ("--coins", "20", "--history-coins", "2", "--history-days", "10")


@pytest.fixture
def populated(cli: Cli) -> Cli:
    cli("run", *SMALL, check=True)
    return cli


def _error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    return lines[0]


def test_a_copied_lake_is_refused_and_the_original_left_alone(populated: Cli, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(populated.lake, copy)
    before = tree_fingerprint(populated.lake)
    for args in (("run", *SMALL), ("replay",), ("sql", "SELECT count(*) FROM silver.coins")):
        line = _error_line(populated(*args, "--lake", str(copy)))
        assert "copy of" in line and str(populated.lake.resolve()) in line
    assert tree_fingerprint(populated.lake) == before


def test_a_moved_lake_says_where_it_came_from(populated: Cli, tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    original = populated.lake.resolve()
    populated.lake.rename(moved)
    line = _error_line(populated("tables", "--lake", str(moved)))
    assert "moved from" in line and f"move it back to {original}" in line
    assert f"geckolake relocate --lake {moved}" in line
    moved.rename(original)
    assert populated("tables", check=True).returncode == 0


def test_relocate_adopts_a_copy_which_then_works_without_touching_the_original(populated: Cli, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(populated.lake, copy)
    before = tree_fingerprint(populated.lake)
    gold = "SELECT coin_id, date, close FROM gold.coin_daily ORDER BY ALL"
    expected = populated("sql", gold, "--format", "json", check=True).stdout
    done = populated("relocate", "--lake", str(copy), check=True)
    assert f"from {populated.lake.resolve()}" in done.stdout
    assert populated("sql", gold, "--format", "json", "--lake", str(copy), check=True).stdout == expected
    first = populated("run", *SMALL, "--lake", str(copy), check=True)
    # the relocation carried the merge and analytics bookkeeping over: nothing looks interrupted
    assert "interrupted run" not in first.stderr and "analytics lag" not in first.stderr, first.stderr
    for args in (("replay",), ("compact",)):
        populated(*args, "--lake", str(copy), check=True)
    assert tree_fingerprint(populated.lake) == before
    assert not any(p.startswith(str(populated.lake.resolve())) for p in _catalog_locations(copy))


def test_relocate_adopts_a_moved_lake(populated: Cli, tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    populated.lake.rename(moved)
    populated("relocate", "--lake", str(moved), check=True)
    assert populated("run", *SMALL, "--lake", str(moved), check=True).returncode == 0
    line = _error_line(populated("relocate", "--lake", str(moved)))
    assert "nothing to relocate" in line


def _catalog_locations(lake: Path) -> list[str]:
    import sqlite3
    from urllib.parse import unquote

    with sqlite3.connect(lake / "catalog.db") as db:
        rows = db.execute("SELECT metadata_location FROM iceberg_tables").fetchall()
    return [unquote(r[0].removeprefix("file://")) for r in rows]


def test_a_folder_that_is_not_a_lake_is_left_as_it_was(tmp_path: Path, sim_url: str) -> None:
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("\\chapter{Markets}")
    before = tree_fingerprint(thesis)
    cli = Cli(thesis, sim_url, base_env(thesis, sim_url))
    line = _error_line(cli("run", *SMALL))
    assert "not a geckolake lake" in line
    assert tree_fingerprint(thesis) == before and sorted(p.name for p in thesis.iterdir()) == ["chapter1.tex"]


@pytest.fixture
def read_only(populated: Cli) -> Iterator[Path]:
    """The lake made read-only in place by a read-only bind mount over itself (permission bits do not
    stop root; a read-only mount does)."""
    lake = populated.lake
    bound = subprocess.run(["mount", "--bind", str(lake), str(lake)], capture_output=True)
    if bound.returncode != 0:
        pytest.skip("needs permission to bind-mount (root)")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(lake)], check=True, capture_output=True)
        yield lake
    finally:
        subprocess.run(["umount", "-l", str(lake)], check=False)


def test_a_read_only_lake_can_be_read(populated: Cli, read_only: Path) -> None:
    with pytest.raises(OSError):
        (read_only / "probe").write_text("x")  # the mount really is read-only
    before = tree_fingerprint(read_only)
    out = populated("sql", "SELECT count(*) AS n FROM silver.coins", "--format", "json", check=True)
    assert '"n": 20' in out.stdout or '"n":' in out.stdout
    for args in (("tables",), ("runs",), ("status", "--format", "json"), ("plan", *SMALL)):
        proc = populated(*args)
        assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
        assert "not writable" not in proc.stderr, proc.stderr
    assert populated("tables").returncode == 0
    line = _error_line(populated("run", *SMALL))
    assert "writable" in line or "read-only" in line
    assert tree_fingerprint(read_only) == before
