"""The CLI as one group: global options before or after the command, --version, real flags in
--help, whole tables on a pipe, `plan --ids`, `sql --output`, `alert test --lake`."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.e2e.support import GECKOLAKE, Cli

SCOPE = ("--coins", "60", "--history-coins", "3", "--history-days", "30")


@pytest.fixture
def ran(cli: Cli) -> Cli:
    cli("run", *SCOPE, check=True)
    return cli


def test_version_and_flags_in_help(cli: Cli) -> None:
    from geckolake import __version__

    assert cli("--version", check=True).stdout.strip() == f"geckolake {__version__}"
    help_text = cli("run", "--help", check=True).stdout
    dry = next(line for line in help_text.splitlines() if "--dry-run" in line)
    assert "<bool>" not in dry and "print the plan" in dry
    assert "Exit codes" in help_text


def test_lake_before_or_after_the_command(ran: Cli, tmp_path: Path) -> None:
    env = {k: v for k, v in ran.env.items() if k != "GECKOLAKE_LAKE"}
    query = ("sql", "SELECT count(*) AS n FROM silver.coins", "--format", "json")
    before = subprocess.run([*GECKOLAKE, "--lake", str(ran.lake), *query], env=env, capture_output=True, text=True)
    after = subprocess.run([*GECKOLAKE, *query, "--lake", str(ran.lake)], env=env, capture_output=True, text=True)
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert json.loads(before.stdout) == json.loads(after.stdout) and json.loads(before.stdout)[0]["n"] > 0
    # the command's own --lake wins over the global one
    other = subprocess.run(
        [*GECKOLAKE, "--lake", str(tmp_path / "nowhere"), *query, "--lake", str(ran.lake)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert other.returncode == 0, other.stderr


def test_tables_on_a_pipe_keep_every_column(ran: Cli) -> None:
    wide = "SELECT " + ", ".join(f"'{'x' * 12}' AS column_number_{i}" for i in range(12))
    out = ran("sql", wide, check=True, COLUMNS="").stdout
    assert "column_number_11" in out and "xxxxxxxxxxxx" in out
    assert "…" not in out
    runs = ran("runs", "--format", "csv", check=True).stdout
    assert next(csv.reader(io.StringIO(runs)))[:3] == ["run_id", "command", "status"]
    tables = json.loads(ran("tables", "--format", "json", check=True).stdout)
    assert {"table", "rows", "snapshots", "files"} == set(tables[0])


def test_plan_takes_ids(cli: Cli) -> None:
    plain = cli("plan", *SCOPE, check=True).stdout
    with_ids = cli("plan", *SCOPE, "--ids", "zcash,dogecoin", check=True).stdout
    total = lambda out: int(out.split("credits: ")[1].split()[0])  # noqa: E731
    assert total(with_ids) == total(plain) + 3  # the --ids markets page and two more histories


@pytest.mark.parametrize("suffix", ["csv", "json", "parquet"])
def test_sql_writes_a_file(ran: Cli, tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"daily.{suffix}"
    sql = "SELECT coin_id, date, close FROM gold.coin_daily WHERE coin_id = 'bitcoin' ORDER BY date"
    proc = ran("sql", sql, "--output", str(target), check=True)
    assert "wrote" in proc.stderr and proc.stdout == ""
    if suffix == "parquet":
        table = pq.read_table(target)
        assert table.column_names == ["coin_id", "date", "close"] and table.num_rows >= 30
    elif suffix == "json":
        rows = json.loads(target.read_text())
        assert rows[0]["coin_id"] == "bitcoin" and len(rows) >= 30
    else:
        rows = list(csv.reader(io.StringIO(target.read_text())))
        assert rows[0] == ["coin_id", "date", "close"] and len(rows) >= 31
    bad = ran("sql", sql, "--output", str(tmp_path / "daily.xlsx"))
    assert bad.returncode == 1 and "csv" in bad.stderr and not (tmp_path / "daily.xlsx").exists()


def test_alert_test_takes_the_lake_option(ran: Cli) -> None:
    proc = ran("alert", "test", "--lake", str(ran.lake))
    assert proc.returncode == 1 and "no alert channel configured" in proc.stderr


def test_simulator_on_a_busy_port_says_so_in_one_line() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [*GECKOLAKE, "simulator", "--port", str(port)], capture_output=True, text=True, timeout=60
        )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error:") and "--port" in proc.stderr
