"""The planner: the minimal list of calls that brings the lake to what the settings ask for.

State comes from the lake itself (``silver.price_history``, ``silver.coins`` and ``ops.raw_manifest``),
never from a separate state file, so it cannot drift from the data. The manifest alone never makes
data count as held: a call counts as done only when its outcome is ``ok`` (a body with a part
missing is ``incomplete``, an unusable one ``quarantined``: both are asked for again), and what a
call brought counts only while silver holds it (a replay killed after dropping the tables, or the
quality gate rolling silver back, leaves the manifest saying "fetched").

Rules (see docs/planner.md for the derivation of the minimum):
- markets: ``ceil(N / 250)`` pages, ``per_page`` spread evenly so no coin beyond N is fetched.
- daily history: one ``/market_chart/range?interval=daily`` call per coin covering every missing
  day (one call costs one credit whatever its span), none when the lake already holds the latest
  00:00 UTC point. Public/demo plans reach back 365 days at most.
- hourly history (``hourly_days``): the 7-day sparkline of every markets row already carries
  hourly prices, so chart calls are needed only beyond 7 days; windows are kept ≥ 2 days so that
  CoinGecko answers hourly, not 5-minutely.
- extras: ``/global``, ``/coins/categories`` and ``/search/trending`` every run (they are
  snapshots); ``/coins/list`` once per UTC day: the day of the latest complete list (manifest
  outcome ``ok``) that ``silver.coins`` holds (a list fetch at or after it reached silver).
- category membership (extras): one ``/coins/markets?category=`` page (its 250 largest members) for
  ``stablecoins`` and for each of the top ``analytics.category_members`` categories by market cap
  (in a run: the ``/coins/categories`` body it just fetched; in a dry run: the latest
  ``silver.categories`` day), each once per UTC day: not when ``silver.category_members`` holds that
  category's members for today (CoinGecko's date of the page).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from geckolake.api import endpoints as ep
from geckolake.api.endpoints import ApiRequest

if TYPE_CHECKING:
    import duckdb

    from geckolake.config import Settings
    from geckolake.lake.catalog import Lake

MAX_PER_PAGE = 250
STABLECOINS = "stablecoins"  # the category whose members gold.market_daily counts as stablecoins
SPARKLINE_DAYS = 7
DAY = timedelta(days=1)


def floor_day(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def unix(ts: datetime) -> int:
    return int(ts.timestamp())


@dataclass
class LakeState:
    """What the lake already holds, per coin, for one vs currency."""

    daily_end: dict[str, datetime] = field(default_factory=dict)  # latest 00:00 point held
    daily_from: dict[str, datetime] = field(default_factory=dict)  # earliest start fetched successfully
    hourly_end: dict[str, datetime] = field(default_factory=dict)
    hourly_from: dict[str, datetime] = field(default_factory=dict)
    coins_list_day: datetime | None = None  # day of the latest complete /coins/list silver holds
    top_coins: list[str] = field(default_factory=list)  # latest known market-cap order
    top_categories: list[str] = field(default_factory=list)  # latest silver.categories day, by market cap
    members_day: dict[str, date] = field(default_factory=dict)  # latest day of each category's members


def read_lake_state(lake: Lake, vs_currency: str) -> LakeState:
    """Derive the planner's state from the lake's tables."""
    state = LakeState()
    con = lake.connect_duckdb()
    try:
        rows = con.execute(
            "SELECT coin_id, granularity, max(ts) FROM silver.price_history WHERE vs_currency = ? GROUP BY 1, 2",
            [vs_currency],
        ).fetchall()
        for coin, gran, end in rows:
            target = state.daily_end if gran == "daily" else state.hourly_end
            end = end.astimezone(UTC)
            if gran != "5m" and (coin not in target or end > target[coin]):
                target[coin] = end
        # Aggregated in SQL: the manifest grows by one row per call, so reading it row by row into
        # Python would make every run slower as history accumulates.
        starts = con.execute(
            "SELECT coin_id, granularity, min(CAST(json_extract_string(params_json, '$.from') AS BIGINT)) "
            "FROM ops.raw_manifest WHERE outcome = 'ok' AND endpoint = 'market_chart_range' "
            "AND vs_currency = ? GROUP BY 1, 2",
            [vs_currency],
        ).fetchall()
        for coin, gran, start_s in starts:
            target = state.daily_from if gran == "daily" else state.hourly_from
            start = datetime.fromtimestamp(int(start_s), UTC)
            if coin not in target or start < target[coin]:
                target[coin] = start
        # The latest complete list silver has taken in: a list fetch at least as recent is in
        # silver.coins (each listed coin keeps the fetch time of its latest list row).
        (last_list,) = con.execute(
            "SELECT max(fetched_at) FROM ops.raw_manifest WHERE outcome = 'ok' AND endpoint = 'coins_list' "
            "AND fetched_at <= (SELECT max(_platforms_fetched_at) FROM silver.coins)"
        ).fetchone() or (None,)
        if last_list is not None:
            state.coins_list_day = floor_day(last_list)
        top = con.execute(
            "SELECT coin_id FROM silver.market_snapshots WHERE vs_currency = ? AND snapshot_ts >= "
            "(SELECT max(snapshot_ts) - INTERVAL 2 DAY FROM silver.market_snapshots) "
            "QUALIFY row_number() OVER (PARTITION BY coin_id ORDER BY snapshot_ts DESC) = 1 "
            "ORDER BY market_cap_rank NULLS LAST, coin_id",
            [vs_currency],
        ).fetchall()
        state.top_coins = [r[0] for r in top]
        state.top_categories = [
            r[0]
            for r in con.execute(
                "SELECT category_id FROM silver.categories WHERE market_cap > 0 "
                "AND snapshot_date = (SELECT max(snapshot_date) FROM silver.categories WHERE market_cap > 0) "
                "ORDER BY market_cap DESC, category_id"
            ).fetchall()
        ]
        if _has_view(con, "silver", "category_members"):  # a lake made before membership has none yet
            state.members_day = dict(
                con.execute("SELECT category_id, max(snapshot_date) FROM silver.category_members GROUP BY 1").fetchall()
            )
    finally:
        con.close()
    return state


def _has_view(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND view_name = ?", [schema, name]
    ).fetchone()
    return bool(row and row[0])


def plan_markets(settings: Settings) -> list[ApiRequest]:
    n = settings.coins
    if n <= 0:
        return []
    pages = math.ceil(n / MAX_PER_PAGE)
    per_page = math.ceil(n / pages)
    return [ep.markets(settings.vs_currency, page, per_page) for page in range(1, pages + 1)]


def history_start(settings: Settings, now: datetime) -> datetime:
    """The earliest 00:00 UTC point the lake should hold, clipped to the plan's history depth."""
    start = floor_day(now) - settings.history_days * DAY
    limit = settings.resolved_plan.history_days_limit
    if limit is not None:
        # CoinGecko counts the limit back from now; round up to the next midnight to stay inside.
        earliest = floor_day(now - limit * DAY) + DAY
        start = max(start, earliest)
    return start


def plan_daily(settings: Settings, state: LakeState, coin_ids: list[str], now: datetime) -> list[ApiRequest]:
    start = history_start(settings, now)
    latest_midnight = floor_day(now)
    requests = []
    for coin in coin_ids:
        have_from = state.daily_from.get(coin)
        have_end = state.daily_end.get(coin)
        if have_from is not None and have_from <= start and have_end is not None and have_end >= latest_midnight:
            continue
        if have_from is not None and have_from <= start and have_end is not None:
            fetch_from = have_end + timedelta(seconds=1)
        else:
            fetch_from = start
        requests.append(ep.market_chart_range(coin, settings.vs_currency, unix(fetch_from), unix(now), "daily"))
    return requests


def plan_hourly(settings: Settings, state: LakeState, coin_ids: list[str], now: datetime) -> list[ApiRequest]:
    if settings.hourly_days <= SPARKLINE_DAYS:
        return []  # the markets sparklines already give 7 days of hourly prices
    start = now - settings.hourly_days * DAY
    requests = []
    for coin in coin_ids:
        have_from = state.hourly_from.get(coin)
        have_end = state.hourly_end.get(coin)
        if have_from is not None and have_from <= start and have_end is not None:
            if have_end >= now - timedelta(hours=1):
                continue
            fetch_from = min(have_end + timedelta(seconds=1), now - 2 * DAY)
        else:
            fetch_from = start
        requests.append(ep.market_chart_range(coin, settings.vs_currency, unix(fetch_from), unix(now), "hourly"))
    return requests


def plan_extras(settings: Settings, state: LakeState, now: datetime) -> list[ApiRequest]:
    """Every extra call of a run: the snapshots and the list, then the category membership."""
    return plan_reference(settings, state, now) + plan_membership(settings, state, now)


def plan_reference(settings: Settings, state: LakeState, now: datetime) -> list[ApiRequest]:
    """``/global``, ``/coins/categories``, ``/search/trending``, and ``/coins/list`` once a day."""
    if not settings.extras:
        return []
    requests = [ep.global_market(), ep.categories(), ep.trending()]
    if state.coins_list_day is None or state.coins_list_day < floor_day(now):
        requests.append(ep.coins_list())
    return requests


def membership_categories(settings: Settings, state: LakeState) -> list[str]:
    """``stablecoins``, then the top ``analytics.category_members`` categories by market cap."""
    top = [c for c in state.top_categories if c != STABLECOINS][: settings.analytics.category_members]
    return [STABLECOINS, *top]


def plan_membership(settings: Settings, state: LakeState, now: datetime) -> list[ApiRequest]:
    """One page of members per category whose members silver does not hold for today.

    A run ranks the categories by the ``/coins/categories`` body it just fetched (``state.top_categories``
    replaced), so a new lake gets the top categories' members on its first run.
    """
    if not settings.extras:
        return []
    today = floor_day(now).date()
    return [
        ep.category_markets(settings.vs_currency, category)
        for category in membership_categories(settings, state)
        if (held := state.members_day.get(category)) is None or held < today
    ]


def history_coins(settings: Settings, ranked_ids: list[str], explicit: list[str]) -> list[str]:
    """Top K of the ranked ids, then any explicitly named ids not already in it."""
    chosen = list(dict.fromkeys(ranked_ids[: settings.history_coins]))
    chosen += [c for c in explicit if c not in chosen]
    return chosen


@dataclass(frozen=True)
class PlanSummary:
    calls: dict[str, int]
    total: int
    rate_per_min: float

    @property
    def eta_seconds(self) -> float:
        return self.total / self.rate_per_min * 60.0

    @property
    def credits(self) -> int:
        return self.total  # one credit per call on every endpoint we use


def summarize(requests: list[ApiRequest], rate_per_min: float) -> PlanSummary:
    counts = Counter(r.endpoint for r in requests)
    return PlanSummary(dict(sorted(counts.items())), len(requests), rate_per_min)


def dry_run(settings: Settings, lake: Lake | None, ids: Sequence[str] = ()) -> PlanSummary:
    """What the next run would call, without calling anything.

    History coins are the lake's latest top K when it holds snapshots, else K coins not yet held,
    plus ``ids`` (the run's ``--ids``, one markets page to check them).
    """
    now = settings.now()
    state = read_lake_state(lake, settings.vs_currency) if lake is not None else LakeState()
    ranked = state.top_coins or [f"<coin #{i + 1}>" for i in range(settings.history_coins)]
    if not state.top_categories:  # the run ranks them by the /coins/categories body it fetches
        state.top_categories = [f"<category #{i + 1}>" for i in range(settings.analytics.category_members)]
    coins = history_coins(settings, ranked, list(ids))
    requests = (
        plan_markets(settings)
        + ([plan_ids(list(ids), settings.vs_currency)] if ids else [])
        + plan_daily(settings, state, coins, now)
        + plan_hourly(settings, state, coins, now)
        + plan_extras(settings, state, now)
    )
    return summarize(requests, settings.effective_rate_per_min)


def plan_ids(ids: list[str], vs_currency: str) -> ApiRequest:
    """The markets page of the coins named with ``--ids`` (to check they exist, and rank them)."""
    base = ep.markets(vs_currency, 1, 250)
    return ApiRequest(base.endpoint, base.path, (("ids", ",".join(ids)), *base.params), vs_currency=vs_currency)


def ranked_categories(body: object) -> list[str]:
    """Category ids of a ``/coins/categories`` body by market cap (largest first; none without a cap)."""
    if not isinstance(body, list):
        return []
    caps = [
        (-float(c["market_cap"]), c["id"])
        for c in body
        if isinstance(c, dict)
        and isinstance(c.get("id"), str)
        and isinstance(c.get("market_cap"), int | float)
        and c["market_cap"] > 0
    ]
    return [cid for _, cid in sorted(caps)]
