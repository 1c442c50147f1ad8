"""`geckolake dashboard` in a real browser: every page of a demo lake renders its charts, no exception.

One demo lake, one dashboard server and one headless Chromium (Debian's, which `.ci/run` installs)
for the whole module. Screenshots go to the test's folder; with GECKOLAKE_DASHBOARD_SCREENSHOTS=docs
they also replace docs/dashboard-<page>.png (how the docs' screenshots are made).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.support import GECKOLAKE

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
playwright = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GECKOLAKE_", "COINGECKO_", "STREAMLIT_"))}
    return {**env, "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("dashboard") / "demo-lake"
    subprocess.run(
        [*GECKOLAKE, "demo", "--lake", str(lake), "--coins", "150", "--history-coins", "12", "--history-days", "120"],
        env=_env(), check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return lake


@pytest.fixture(scope="module")
def dashboard(demo_lake: Path) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [*GECKOLAKE, "--lake", str(demo_lake), "dashboard", "--port", str(port)],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == f"dashboard on http://127.0.0.1:{port}", proc.stderr.read() if proc.stderr else line
        yield line.removeprefix("dashboard on ")
    finally:
        os.kill(proc.pid, signal.SIGTERM)  # the command stops its Streamlit child itself
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == 0


@pytest.fixture(scope="module")
def page(dashboard: str) -> Iterator[object]:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1440, "height": 2200})
        tab.set_default_timeout(30_000)
        yield tab
        browser.close()


def test_a_taken_port_is_one_error_line(demo_lake: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [*GECKOLAKE, "--lake", str(demo_lake), "dashboard", "--port", str(port)],
            env=_env(), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}:")
    assert proc.stderr.strip().endswith("pick another --port or --host")


def _settle(page: object, texts: list[str], charts: int) -> None:
    """Wait until the page shows ``texts`` and at least ``charts`` drawn Plotly charts and has stopped running."""
    for text in texts:
        page.get_by_text(text, exact=False).first.wait_for(state="visible")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n", arg=charts
    )
    page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden")  # type: ignore[attr-defined]
    page.wait_for_timeout(500)  # type: ignore[attr-defined]  # plotly's last transition


def _no_errors(page: object) -> None:
    assert page.locator("[data-testid=stException]").count() == 0  # type: ignore[attr-defined]
    body = page.inner_text("body")  # type: ignore[attr-defined]
    assert "Traceback" not in body and "Error:" not in body and "Page not found" not in body


def _shoot(page: object, name: str, tmp_path: Path) -> None:
    shot = tmp_path / f"dashboard-{name}.png"
    page.screenshot(path=str(shot))  # type: ignore[attr-defined]
    assert shot.stat().st_size > 10_000
    if os.environ.get("GECKOLAKE_DASHBOARD_SCREENSHOTS"):
        shutil.copy(shot, ROOT / os.environ["GECKOLAKE_DASHBOARD_SCREENSHOTS"] / shot.name)


def test_market_page_draws_totals_dominance_index_breadth_movers_and_categories(
    page: object, dashboard: str, tmp_path: Path
) -> None:
    page.goto(f"{dashboard}/")  # the default page  # type: ignore[attr-defined]
    _settle(page, ["Market cap and volume", "BTC/ETH dominance", "Cap-weighted index", "Top movers",
                   "Largest categories"], charts=6)  # fmt: skip
    assert page.locator(".js-plotly-plot .bars").count() > 0  # type: ignore[attr-defined]
    _no_errors(page)
    _shoot(page, "market", tmp_path)


def test_coin_page_follows_the_picked_coin(page: object, dashboard: str, tmp_path: Path) -> None:
    page.goto(f"{dashboard}/coin")  # type: ignore[attr-defined]
    _settle(page, ["Daily candles and volume"], charts=4)
    picker = page.get_by_test_id("stSelectbox").first  # type: ignore[attr-defined]
    assert picker.locator("input").input_value() == "Bitcoin (BTC)"
    picker.click()
    page.keyboard.type("Ethereum")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_url("**coin=ethereum**")  # type: ignore[attr-defined]
    _settle(page, ["Daily candles and volume", "with its 80/95 % fan", "Backtest", "beta to BTC"], charts=6)
    assert picker.locator("input").input_value() == "Ethereum (ETH)"
    assert page.locator(".js-plotly-plot .candlestick, .js-plotly-plot .trace.boxes").count() > 0  # type: ignore[attr-defined]
    assert page.get_by_text("no live prices yet").count() == 1  # type: ignore[attr-defined]
    _no_errors(page)
    _shoot(page, "coin", tmp_path)


def test_risk_page_draws_the_table_scatter_and_heatmap(page: object, dashboard: str, tmp_path: Path) -> None:
    page.goto(f"{dashboard}/risk")  # type: ignore[attr-defined]
    _settle(page, ["Risk against return", "Correlation of daily log returns"], charts=2)
    assert page.get_by_test_id("stDataFrame").count() >= 1  # type: ignore[attr-defined]
    assert page.locator(".js-plotly-plot .heatmaplayer, .js-plotly-plot .hm").count() > 0  # type: ignore[attr-defined]
    _no_errors(page)
    _shoot(page, "risk", tmp_path)


def test_health_page_shows_runs_phases_checks_and_freshness(page: object, dashboard: str, tmp_path: Path) -> None:
    page.goto(f"{dashboard}/health")  # type: ignore[attr-defined]
    _settle(page, ["Runs: start time, duration and status", "Phases of each run", "checks passed",
                   "Freshness vs SLA", "API credits"], charts=3)  # fmt: skip
    _no_errors(page)
    _shoot(page, "health", tmp_path)
