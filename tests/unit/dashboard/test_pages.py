"""Each page's reads and drawing against small lakes: a demo lake, no lake at all, a lake with a gated run.

The pages run in Streamlit's AppTest (no browser, no server); the browser test is tests/e2e/test_dashboard.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from tests.integration.ops.servers import corrupt_markets, proxy

import geckolake
from geckolake.dashboard import data

PAGES = ("market", "coin", "risk", "health")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _page(module: str) -> None:
    import importlib

    from geckolake.dashboard.ui import current_lake

    importlib.import_module(f"geckolake.dashboard.{module}").render(current_lake())


def _run_page(module: str, lake: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("GECKOLAKE_LAKE", str(lake))
    monkeypatch.delenv("GECKOLAKE_CONFIG", raising=False)
    app = AppTest.from_function(_page, args=(module,), default_timeout=60)
    return app.run()


def _texts(app: AppTest) -> str:
    parts = [e.value for e in [*app.info, *app.warning, *app.success, *app.error]]
    parts += [m.value for m in app.markdown] + [t.value for t in app.title] + [c.value for c in app.caption]
    return "\n".join(str(p) for p in parts)


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("dashboard") / "demo-lake"
    geckolake.demo(lake, coins=120, history_coins=6, history_days=100)
    return lake


@pytest.fixture(scope="module")
def gated_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    lake = tmp_path_factory.mktemp("dashboard") / "gated-lake"
    cfg = geckolake.SimulatorConfig(port=0, coins=120, plan="unlimited", now=NOW)
    with geckolake.running_simulator(cfg) as url:
        scope = {"plan": "pro", "rate_per_min": 60000, "coins": 60, "history_coins": 3, "history_days": 40}
        assert geckolake.run(geckolake.Settings(lake=lake, base_url=url, as_of=NOW, **scope)).status != "failed"
        with proxy(url, corrupt_markets) as bad:
            later = NOW + timedelta(minutes=5)
            gated = geckolake.run(geckolake.Settings(lake=lake, base_url=bad, as_of=later, **scope))
        geckolake.prices(geckolake.Settings(lake=lake, base_url=url, as_of=NOW + timedelta(minutes=6), **scope))
    assert gated.status == "gated"
    yield lake


def test_the_reads_are_bounded_and_answer_from_a_demo_lake(demo_lake: Path) -> None:
    assert len(data.market_daily(demo_lake, "usd", days=30)) == 30
    coins = data.coins(demo_lake, "usd", limit=5)
    assert list(coins.coin_id[:1]) == ["bitcoin"] and len(coins) == 5
    assert len(data.coin_daily(demo_lake, "usd", "bitcoin", days=10)) == 10
    fc = data.forecast(demo_lake, "usd", "bitcoin")
    assert {"naive", "auto_ets"} <= set(fc.model) and (fc.lo_95 <= fc.lo_80).all() and (fc.hi_80 <= fc.hi_95).all()
    assert set(data.backtest_scores(demo_lake, "usd", "bitcoin").model) == set(fc.model)
    assert len(data.risk_table(demo_lake, "usd", limit=3)) == 3
    assert data.correlations(demo_lake, "usd", 30)["corr"].between(-1, 1).all()
    runs = data.pipeline_runs(demo_lake)
    assert set(runs.command) == {"demo", "forecast"} and (runs.seconds > 0).all()
    assert data.check_results(demo_lake).passed.all()
    credits = geckolake.status(geckolake.Settings(lake=demo_lake)).credits
    assert credits is not None
    assert data.credits_per_month(demo_lake).iloc[-1].to_dict() == {"month": credits.month, "credits": credits.used}
    by_horizon = data.backtest_by_horizon(demo_lake, "usd", "bitcoin")
    assert set(by_horizon.horizon) == set(range(1, 31)) and set(by_horizon.model) == set(fc.model)
    assert data.gated_runs(demo_lake).empty and data.live_prices(demo_lake, "usd", "bitcoin").empty


@pytest.mark.parametrize("page", PAGES)
def test_every_page_draws_a_demo_lake_without_exception(
    page: str, demo_lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _run_page(page, demo_lake, monkeypatch)
    assert not app.exception, app.exception
    assert len(app.get("plotly_chart")) >= 2
    assert "No data in the lake" not in _texts(app)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_explains_what_to_run_when_there_is_no_lake(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _run_page(page, tmp_path / "nothing-here", monkeypatch)
    assert not app.exception, app.exception
    assert f"geckolake demo --lake {tmp_path / 'nothing-here'}" in _texts(app)
    assert not (tmp_path / "nothing-here").exists()  # read-only: no lake is created


def test_the_health_page_shows_a_gated_run_with_its_failing_checks(
    gated_lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _run_page("health", gated_lake, monkeypatch)
    assert not app.exception, app.exception
    text = _texts(app)
    assert "was **gated**" in text and "gold was not published" in text
    assert "silver.market_snapshots.price_non_negative" in text


@pytest.mark.parametrize("page", ("market", "coin", "risk"))
def test_the_other_pages_still_draw_a_lake_with_a_gated_run(
    page: str, gated_lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _run_page(page, gated_lake, monkeypatch)
    assert not app.exception, app.exception


def test_the_coin_page_draws_live_prices_once_the_prices_job_ran(
    gated_lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not data.live_prices(gated_lake, "usd", "bitcoin").empty
    app = _run_page("coin", gated_lake, monkeypatch)
    assert not app.exception, app.exception
    assert "no live prices yet" not in _texts(app)
    assert any("Live price" in str(c.proto.spec) for c in app.get("plotly_chart"))
