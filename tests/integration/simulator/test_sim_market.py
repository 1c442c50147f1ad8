"""Acceptance 4: the market model is consistent and the granularity rules hold."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from conftest import NOW, config

from geckolake.simulator import running_simulator

NOW_S = int(NOW.timestamp())
DAY = 86_400


@pytest.fixture(scope="module")
def api(clean_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=clean_url) as client:
        yield client


def chart(api: httpx.Client, coin: str, **params: object) -> dict[str, list[list[float]]]:
    r = api.get(f"/coins/{coin}/market_chart", params={"vs_currency": "usd", **params})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_markets_current_price_is_last_chart_point(api: httpx.Client) -> None:
    rows = api.get("/coins/markets", params={"vs_currency": "usd", "per_page": 40, "sparkline": "true"}).json()
    for row in rows[:40:4]:
        prices = chart(api, row["id"], days=1)["prices"]
        assert row["current_price"] == prices[-1][1]
        assert prices[-1][0] == NOW_S * 1000
        assert row["low_24h"] <= row["current_price"] <= row["high_24h"]
        assert len(row["sparkline_in_7d"]["price"]) == 168
        window = [p for _, p in prices]
        assert row["high_24h"] == pytest.approx(max(window), rel=1e-9)


def test_ranks_and_order_in_clean_mode(api: httpx.Client) -> None:
    rows = api.get("/coins/markets", params={"vs_currency": "usd", "per_page": 250}).json()
    caps = [r["market_cap"] for r in rows]
    assert caps == sorted(caps, reverse=True)
    assert [r["id"] for r in rows[:2]] == ["bitcoin", "ethereum"]
    ranked = [r["market_cap_rank"] for r in rows if r["market_cap_rank"] is not None]
    assert ranked == sorted(ranked)
    assert api.get("/coins/markets", params={"vs_currency": "usd", "page": 50}).json() == []


def test_btc_quote_is_usd_over_bitcoin(api: httpx.Client) -> None:
    usd = {r["id"]: r["current_price"] for r in api.get("/coins/markets", params={"vs_currency": "usd"}).json()}
    btc = {r["id"]: r["current_price"] for r in api.get("/coins/markets", params={"vs_currency": "btc"}).json()}
    assert btc["bitcoin"] == pytest.approx(1.0)
    assert btc["ethereum"] == pytest.approx(usd["ethereum"] / usd["bitcoin"], rel=1e-12)


def test_global_totals_and_dominance(api: httpx.Client) -> None:
    data = api.get("/global").json()["data"]
    rows = api.get("/coins/markets", params={"vs_currency": "usd", "per_page": 250, "page": 1}).json()
    rows += api.get("/coins/markets", params={"vs_currency": "usd", "per_page": 250, "page": 2}).json()
    total = sum(r["market_cap"] for r in rows)
    assert data["total_market_cap"]["usd"] == pytest.approx(total, rel=1e-6)
    assert data["market_cap_percentage"]["btc"] == pytest.approx(rows[0]["market_cap"] / total * 100, rel=1e-6)
    assert len(data["market_cap_percentage"]) == 10


@pytest.mark.parametrize(
    ("days", "count", "step"),
    [(1, 289, 300), (2, 49, 3600), (90, 2161, 3600), (91, 92, DAY), (365, 366, DAY)],
)
def test_market_chart_granularity(api: httpx.Client, days: int, count: int, step: int) -> None:
    body = chart(api, "bitcoin", days=days)
    stamps = [t for t, _ in body["prices"]]
    assert len(stamps) == count
    assert [t for t, _ in body["market_caps"]] == stamps == [t for t, _ in body["total_volumes"]]
    grid = np.diff(np.array(stamps[:-1]) // 1000)
    assert set(grid.tolist()) == {step}
    assert stamps[-1] == NOW_S * 1000 and stamps[-2] < stamps[-1]
    if step == DAY:
        assert all(t % (DAY * 1000) == 0 for t in stamps[:-1])


def test_days_max_starts_at_listing_and_daily_matches_hourly(api: httpx.Client) -> None:
    full = chart(api, "ethereum", days="max")["prices"]
    hourly = {t: p for t, p in chart(api, "ethereum", days=30)["prices"]}
    daily = {t: p for t, p in full}
    shared = set(hourly) & set(daily)
    assert len(shared) >= 29
    assert all(hourly[t] == daily[t] for t in shared)  # a midnight is the price at that instant


def test_range_daily_returns_exact_midnights_plus_now(api: httpx.Client) -> None:
    lo, hi = NOW_S - 5 * 365 * DAY, NOW_S + 3600
    body = api.get(
        "/coins/bitcoin/market_chart/range",
        params={"vs_currency": "usd", "from": lo, "to": hi, "interval": "daily"},
    ).json()
    stamps = [t // 1000 for t, _ in body["prices"]]
    midnights = list(range(-(-lo // DAY) * DAY, NOW_S, DAY))
    assert stamps == [*midnights, NOW_S]
    past = api.get(
        "/coins/bitcoin/market_chart/range",
        params={"vs_currency": "usd", "from": lo, "to": NOW_S - 10 * DAY, "interval": "daily"},
    ).json()
    assert [t // 1000 for t, _ in past["prices"]][-1] == (NOW_S - 10 * DAY) // DAY * DAY


@pytest.mark.parametrize(
    ("span", "ends_ago", "step"),
    [(DAY, 0, 300), (DAY, 30 * DAY, 3600), (60 * DAY, 0, 3600), (120 * DAY, 0, DAY)],
)
def test_range_auto_granularity(api: httpx.Client, span: int, ends_ago: int, step: int) -> None:
    to = NOW_S - ends_ago
    body = api.get(
        "/coins/bitcoin/market_chart/range", params={"vs_currency": "usd", "from": to - span, "to": to}
    ).json()
    stamps = [t // 1000 for t, _ in body["prices"]]
    grid = stamps[:-1] if ends_ago == 0 else stamps
    assert set(np.diff(grid).tolist()) == {step}


def test_recent_listing_range_before_listing_is_empty(api: httpx.Client) -> None:
    coins = api.get("/coins/markets", params={"vs_currency": "usd", "per_page": 250}).json()
    young = None
    for row in coins:
        first = chart(api, row["id"], days="max")["prices"][0][0] // 1000
        if first > NOW_S - 200 * DAY:
            young, listed = row["id"], first
            break
    assert young, "the universe should hold recently listed coins"
    before = api.get(
        f"/coins/{young}/market_chart/range",
        params={"vs_currency": "usd", "from": listed - 100 * DAY, "to": listed - DAY},
    ).json()
    assert before == {"prices": [], "market_caps": [], "total_volumes": []}
    straddle = api.get(
        f"/coins/{young}/market_chart/range",
        params={
            "vs_currency": "usd",
            "from": listed - 100 * DAY,
            "to": listed + 3 * DAY,
            "interval": "daily",
        },
    ).json()
    assert [t // 1000 for t, _ in straddle["prices"]] == [listed + i * DAY for i in range(4)]


def test_ohlc_candles_close_stamped(api: httpx.Client) -> None:
    rows = api.get("/coins/bitcoin/ohlc", params={"vs_currency": "usd", "days": 7}).json()
    assert len(rows) == 42
    assert all(b[0] - a[0] == 4 * 3600 * 1000 for a, b in itertools.pairwise(rows))
    assert rows[-1][0] >= NOW_S * 1000  # the last candle is still forming
    assert all(r[3] <= min(r[1], r[4]) and r[2] >= max(r[1], r[4]) for r in rows)
    assert len(api.get("/coins/bitcoin/ohlc", params={"vs_currency": "usd", "days": 30}).json()) == 180


def test_same_seed_and_now_give_identical_bytes(clean_url: str) -> None:
    paths = [
        "/coins/markets?vs_currency=usd&sparkline=true",
        "/coins/bitcoin/market_chart?vs_currency=usd&days=3",
    ]
    first = [httpx.get(clean_url + p).content for p in paths]
    with running_simulator(config(plan="enterprise", clean=True)) as other:
        assert [httpx.get(other + p).content for p in paths] == first


def test_quirks_make_hourly_irregular_and_last_point_unordered(quirky_url: str) -> None:
    body = httpx.get(quirky_url + "/coins/bitcoin/market_chart?vs_currency=usd&days=30").json()
    gaps = np.diff([t for t, _ in body["prices"][:-1]]) / 60000
    assert gaps.min() < 30 and gaps.max() > 90
    ooo = 0
    for coin in ("bitcoin", "ethereum", "solana", "ripple", "cardano", "dogecoin", "tron", "polkadot"):
        p = httpx.get(quirky_url + f"/coins/{coin}/market_chart?vs_currency=usd&days=1").json()["prices"]
        ooo += p[-1][0] < p[-2][0]
    assert ooo >= 1


@pytest.mark.parametrize(
    ("plan", "path", "code"),
    [
        ("demo", "/coins/bitcoin/market_chart?vs_currency=usd&days=400", 10012),
        (
            "demo",
            "/coins/bitcoin/ohlc/range?vs_currency=usd&from=1735689600&to=1738368000&interval=daily",
            10005,
        ),
        ("pro", "/coins/bitcoin/market_chart?vs_currency=usd&days=3&interval=hourly", 10005),
    ],
)
def test_plan_rules(plan: str, path: str, code: int) -> None:
    with running_simulator(config(plan=plan)) as url:
        r = httpx.get(url + path)
        assert r.status_code == 401
        assert r.json()["status"]["error_code"] == code


def test_api_key_required_when_configured() -> None:
    with running_simulator(config(plan="demo", api_key="k")) as url:
        missing = httpx.get(url + "/ping")
        assert missing.status_code == 401 and missing.json()["status"]["error_code"] == 10002
        assert httpx.get(url + "/ping", headers={"x-cg-demo-api-key": "k"}).status_code == 200
        assert httpx.get(url + "/ping?x_cg_demo_api_key=k").status_code == 200
        assert httpx.get(url + "/ping", headers={"x-cg-demo-api-key": "bad"}).status_code == 401


def test_errors(api: httpx.Client) -> None:
    assert api.get("/coins/markets").json() == {"error": "Missing parameter vs_currency"}
    assert api.get("/coins/markets?vs_currency=xyz").status_code == 400
    r = api.get("/coins/not-a-coin/market_chart?vs_currency=usd&days=1")
    assert (r.status_code, r.json()) == (404, {"error": "coin not found"})


def test_category_markets_pages_list_exactly_the_members_of_coins_categories(api: httpx.Client) -> None:
    categories = api.get("/coins/categories").json()
    assert categories
    for cat in categories:
        members: list[str] = []
        for page in itertools.count(1):
            params = {"vs_currency": "usd", "category": cat["id"], "per_page": 50, "page": page}
            rows = api.get("/coins/markets", params=params).json()
            members += [r["id"] for r in rows]
            if len(rows) < 50:
                break
        # /coins/categories sums the members' caps and names the top three, in the markets page's order
        assert members[: len(cat["top_3_coins_id"] or [])] == (cat["top_3_coins_id"] or []), cat["id"]
        assert (cat["market_cap"] is None) == (not members), cat["id"]
