"""The versus benchmark's arithmetic and process measurement (no benchmark is run here)."""

from __future__ import annotations

import os
import sys

import pytest
from bench import peers
from bench.measure import ChildFailed, Sample, as_row, order_for_round, pair_ratios, run_measured, summarise
from bench.versus import markdown


def s(wall: float, rss: float = 100.0, calls: int = 108) -> Sample:
    return Sample(wall_s=wall, cpu_user_s=wall / 2, cpu_sys_s=0.1, peak_rss_mib=rss, calls=calls)


def test_summaries_are_median_min_and_max_of_every_field() -> None:
    got = summarise([s(3.0, 500), s(1.0, 700), s(2.0, 600)])
    assert got["wall_s"] == {"median": 2.0, "min": 1.0, "max": 3.0}
    assert got["peak_rss_mib"] == {"median": 600, "min": 500, "max": 700}
    assert got["cpu_user_s"]["median"] == 1.0
    assert got["calls"] == {"median": 108, "min": 108, "max": 108}
    assert as_row(got)["wall_s_median"] == 2.0


def test_pair_ratios_take_the_median_of_each_rounds_ratio() -> None:
    # Round 2 ran on a loaded machine: both sides slowed, the per-round ratio stays put.
    rounds = [{"a": s(2.0), "b": s(4.0)}, {"a": s(6.0), "b": s(12.0)}, {"a": s(3.0), "b": s(5.0)}]
    r = pair_ratios(rounds, "a", "b")
    assert r["median"] == pytest.approx(0.5)
    assert (r["min"], r["max"]) == (pytest.approx(0.5), pytest.approx(0.6))
    assert r["ratio_of_medians"] == pytest.approx(3.0 / 5.0)
    assert r["rounds"] == 3
    assert pair_ratios(rounds, "a", "b", "peak_rss_mib")["median"] == 1.0
    assert pair_ratios(rounds, "a", "b", "cpu_s")["max"] == pytest.approx((1.5 + 0.1) / (2.5 + 0.1))


def test_rounds_alternate_the_order_so_each_command_runs_early_and_late() -> None:
    names = ["geckolake", "dlt", "bare"]
    assert order_for_round(names, 0) == names
    assert order_for_round(names, 1) == names[::-1]
    assert order_for_round(names, 2) == names


def test_a_child_is_measured_alone_with_its_output() -> None:
    code = "import sys; b = bytearray(64 * 1024 * 1024); print('x' * 100000); print('ok'); sys.stderr.write('e')"
    sample, out = run_measured([sys.executable, "-c", code], dict(os.environ))
    assert out.splitlines()[-1] == "ok"
    assert sample.peak_rss_mib >= 64  # the child's own peak, from wait4
    assert sample.wall_s > 0 and sample.cpu_user_s + sample.cpu_sys_s > 0
    assert sample.calls == 0


def test_a_failing_child_raises_with_its_stderr() -> None:
    with pytest.raises(ChildFailed, match="boom"):
        run_measured([sys.executable, "-c", "import sys; sys.exit('boom')"], dict(os.environ))


def test_the_table_shows_medians_ranges_and_ratios() -> None:
    summaries = {"geckolake": summarise([s(2.0), s(4.0)]), "dlt": summarise([s(8.0), s(8.0)])}
    table = markdown(
        summaries, {"geckolake/dlt": pair_ratios([{"geckolake": s(2.0), "dlt": s(8.0)}], "geckolake", "dlt")}
    )
    assert "| geckolake | 3.00 (2.00–4.00) |" in table
    assert "| geckolake/dlt | 0.25 (0.25–0.25) | 0.25 | – |" in table


def test_airbyte_needs_one_call_per_coin_day() -> None:
    got = peers.airbyte_calls(history_coins=100, history_days=365, markets_pages=8)
    assert got["history_stream_calls"] == 36_500
    assert got["w0_calls"] == 108


def test_a_peer_lives_in_its_own_venv_under_bench() -> None:
    assert peers.DLT.venv.parent.name == ".peers"
    assert peers.DLT.script_path.is_file()
    assert all("==" in r for r in peers.DLT.requirements)  # pinned: figures are comparable run to run


# A child that starts a grandchild and exits without waiting for it (as PySpark leaves its JVM):
# the grandchild allocates 150 MiB, does a fixed amount of work, and signals when done.
_GRANDCHILD = (
    "import pathlib, sys; x = bytearray(150 * 2**20); x[::4096] = b'1' * len(x[::4096]); "
    "sum(i * i for i in range(4_000_000)); pathlib.Path(sys.argv[1]).write_text('done')"
)
_CHILD = (
    "import os, subprocess, sys, time; flag = sys.argv[1]; "
    f"subprocess.Popen([sys.executable, '-c', {_GRANDCHILD!r}, flag]); "
    "[time.sleep(0.02) for _ in iter(lambda: os.path.exists(flag), True)]; time.sleep(0.3); os._exit(0)"
)


def test_a_grandchild_never_waited_for_is_sampled_apart(tmp_path: object) -> None:
    flag = os.path.join(str(tmp_path), "flag")
    sample, _ = run_measured([sys.executable, "-c", _CHILD, flag], os.environ)
    # wait4's CPU is the child's alone (it only waited); the sampler saw the grandchild's memory and work
    assert sample.cpu_user_s + sample.cpu_sys_s < 0.1 < sample.cpu_s
    assert sample.tree_peak_rss_mib >= 150
    assert sample.descendants_cpu_s > 0.1
