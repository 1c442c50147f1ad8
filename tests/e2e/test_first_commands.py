"""The README's first commands and the offline demo work from a clean environment (issue 3, point 1)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.e2e.support import GECKOLAKE, base_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_make_run_against_a_simulator(tmp_path: Path, sim_url: str) -> None:
    lake = tmp_path / "lake"
    env = base_env(lake, sim_url)
    env.pop("GECKOLAKE_PLAN")  # the README's default: the public plan, only the base URL changes
    env.update(GECKOLAKE_COINS="40", GECKOLAKE_HISTORY_COINS="2", GECKOLAKE_HISTORY_DAYS="30")
    env["PYTHON"] = sys.executable
    proc = subprocess.run(["make", "-s", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "succeeded" in proc.stdout
    assert "gold.coin_daily" in proc.stdout  # `geckolake tables` ran after the run


def test_demo_needs_no_configuration(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GECKOLAKE_", "COINGECKO_"))}
    env.update(NO_COLOR="1", COLUMNS="200")
    proc = subprocess.run(
        [*GECKOLAKE, "demo", "--coins", "100", "--history-coins", "5", "--history-days", "60"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "bitcoin" in proc.stdout
    assert (tmp_path / "demo-lake" / "catalog.db").is_file()
    _readme_examples_run_as_written(tmp_path, env)


def _readme_examples_run_as_written(folder: Path, env: dict[str, str]) -> None:
    """The README's example block after `make demo`, line by line in a shell with .venv/bin on PATH."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("After `make demo`", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) >= 3
    shell_env = {**env, "PATH": f"{Path(GECKOLAKE[0]).parent}:{env.get('PATH', '')}"}
    for line in lines:
        ran = subprocess.run(
            ["bash", "-c", line], cwd=folder, env=shell_env, capture_output=True, text=True, timeout=120
        )
        assert ran.returncode == 0, f"{line}\n{ran.stdout}\n{ran.stderr}"
        if "--output" not in line:
            assert "bitcoin" in ran.stdout or "healthy" in ran.stdout, f"{line} printed no result:\n{ran.stdout}"
    assert (folder / "bitcoin.parquet").stat().st_size > 0


def test_help_is_fast_and_lists_every_command() -> None:
    proc = subprocess.run([*GECKOLAKE, "--help"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0
    for command in ("run", "plan", "replay", "tables", "sql", "runs", "demo", "simulator"):
        assert command in proc.stdout
    assert shutil.which("make") is not None


def test_help_prints_settings_sections_and_defaults_in_brackets() -> None:
    """Help texts name settings like [maintenance] and defaults like [usd]; rich markup used to eat them."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    run = subprocess.run([*GECKOLAKE, "run", "--help"], capture_output=True, text=True, timeout=30, env=env)
    assert "[env GECKOLAKE_LAKE; default ./lake]" in run.stdout and "[usd]" in run.stdout
    compact = subprocess.run([*GECKOLAKE, "compact", "--help"], capture_output=True, text=True, timeout=30, env=env)
    assert "[maintenance] orphan_min_age_hours" in compact.stdout
