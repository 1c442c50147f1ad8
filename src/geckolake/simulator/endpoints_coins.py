"""/coins/list, /coins/markets, /simple/price and /coins/{id}/history."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from geckolake.simulator.context import Request, Sim, check_history, find_coin, page_slice, vs_currency
from geckolake.simulator.market import CHANGE_WINDOWS, VS_CURRENCIES, Quote
from geckolake.simulator.quirks import (
    cap_int,
    coarse_extreme,
    iso_ms,
    nulls,
    pct,
    round_price,
    whole,
)
from geckolake.simulator.replies import Reply, error_simple, missing, ok
from geckolake.simulator.universe import DAY, Coin

IMG = "https://coin-images.coingecko.com/coins/images"
ORDERS = ("market_cap_desc", "market_cap_asc", "volume_desc", "volume_asc", "id_asc", "id_desc")


def coins_list(sim: Sim, req: Request) -> Reply:
    with_platforms = req.flag("include_platform")
    out = []
    for coin in sorted(sim.market.coins, key=lambda c: c.id):
        row: dict[str, object] = {"id": coin.id, "symbol": coin.symbol, "name": coin.name}
        if with_platforms:
            row["platforms"] = coin.platforms
        out.append(row)
    return ok(out, cache_s=300)


def _selected(sim: Sim, req: Request, live_s: int) -> list[Coin]:
    market = sim.market
    board = market.board(live_s)
    coins = [c for c in market.coins if c.listing_day * DAY <= live_s]
    ids = req.query.get("ids")
    if ids:
        # /coins/markets tolerates "bitcoin, ethereum" (recorded 2021 body matched both)
        wanted = {s.strip() for s in ids.split(",")}
        coins = [c for c in coins if c.id in wanted]
    category = req.query.get("category")
    if category:
        coins = [c for c in coins if category in c.categories]
    order = req.query.get("order", "market_cap_desc")
    if order not in ORDERS:
        raise error_simple(400, "invalid order")
    field, _, direction = order.rpartition("_")
    if field == "id":
        coins.sort(key=lambda c: c.id, reverse=direction == "desc")
    else:
        values = board.caps if field == "market_cap" else board.volumes
        coins.sort(key=lambda c: (float(values[c.index]), -c.index), reverse=direction == "desc")
    return coins


def coins_markets(sim: Sim, req: Request) -> Reply:
    cur = vs_currency(req)
    window = page_slice(req)
    live_s = sim.market.live_s(req.now_s)
    coins = _selected(sim, req, live_s)[window]
    windows = [w.strip() for w in req.query.get("price_change_percentage", "").split(",") if w.strip()]
    windows = [w for w in windows if w in CHANGE_WINDOWS]
    spark = req.flag("sparkline")
    precision = req.query.get("precision")
    ranks = sim.market.board(live_s).ranks
    rows = [_market_row(sim, c, live_s, cur, ranks[c.index], spark, windows, precision) for c in coins]
    return ok(rows, cache_s=60)


def _market_row(
    sim: Sim,
    coin: Coin,
    live_s: int,
    cur: str,
    rank: int | None,
    spark: bool,
    windows: list[str],
    precision: str | None,
) -> dict[str, object]:
    q = sim.market.quote(coin, live_s, cur)
    on, seed = sim.quirks, sim.cfg.seed
    p = lambda x: round_price(x, precision)  # noqa: E731
    dead_24h = q.price_24h is None or nulls(seed, coin.id, "all24h", 0.01, on)
    total = None if nulls(seed, coin.id, "total_supply", 0.03, on) else whole(q.supply * (1 + coin.total_extra))
    max_s = None if coin.max_supply is None else whole(float(round(coin.max_supply)))
    fdv_supply = coin.max_supply or (q.supply * (1 + coin.total_extra))
    fdv = None if (coin.max_supply is None and nulls(seed, coin.id, "fdv", 0.3, on)) else cap_int(q.price * fdv_supply)
    row: dict[str, object] = {
        "id": coin.id,
        "symbol": coin.symbol,
        "name": coin.name,
        "image": f"{IMG}/{coin.image_no}/large/{coin.id}.png?1696501400",
        "current_price": p(q.price),
        "market_cap": cap_int(q.market_cap),
        "market_cap_rank": rank,
        "fully_diluted_valuation": fdv,
        "total_volume": cap_int(q.volume),
        "high_24h": None if dead_24h else p(coarse_extreme(q.high_24h, True, on)),
        "low_24h": None if dead_24h else p(coarse_extreme(q.low_24h, False, on)),
        "price_change_24h": None if dead_24h else q.price - (q.price_24h or 0.0),
        "price_change_percentage_24h": None if dead_24h else pct(q.changes["24h"]),
        "market_cap_change_24h": None if dead_24h else q.market_cap - (q.market_cap_24h or 0.0),
        "market_cap_change_percentage_24h": None if dead_24h else _cap_change(q),
        "circulating_supply": whole(q.supply),
        "total_supply": total,
        "max_supply": max_s,
        "ath": p(coarse_extreme(q.ath, True, on)),
        "ath_change_percentage": pct((q.price / q.ath - 1) * 100 if q.ath else None),
        "ath_date": iso_ms(q.ath_s * 1000 + (coin.index * 271) % 1000 * (q.ath_s % 60 != 0)),
        "atl": p(q.atl),
        "atl_change_percentage": pct((q.price / q.atl - 1) * 100 if q.atl else None),
        "atl_date": iso_ms(q.atl_s * 1000),
        "roi": _roi(sim, coin, live_s),
        "last_updated": iso_ms((live_s - (coin.stale_s if on else 0)) * 1000 + (coin.index * 137) % 1000),
    }
    if spark:
        row["sparkline_in_7d"] = {"price": [p(x) for x in q.sparkline]}
    for w in windows:
        null = nulls(seed, coin.id, f"chg{w}", 0.03, on)
        row[f"price_change_percentage_{w}_in_currency"] = None if null else q.changes[w]
    return row


def _cap_change(q: Quote) -> float | None:
    if not q.market_cap_24h:
        return None
    return pct((q.market_cap / q.market_cap_24h - 1) * 100)


def _roi(sim: Sim, coin: Coin, live_s: int) -> dict[str, object] | None:
    """ROI since the ICO price, measured in USD whatever the vs_currency (as CoinGecko does)."""
    if coin.roi_currency is None:
        return None
    usd = sim.market.quote(coin, live_s, "usd").price
    if usd == 0:
        return None
    times = usd / coin.roi_entry - 1
    return {"times": times, "currency": coin.roi_currency, "percentage": times * 100}


def simple_price(sim: Sim, req: Request) -> Reply:
    ids_raw = req.query.get("ids")
    if not ids_raw:
        raise missing("ids")
    vs_raw = req.need("vs_currencies")
    # Quirk: "bitcoin,%20ethereum" silently answers only bitcoin (recorded 2021 body)
    split = (lambda s: s.split(",")) if sim.quirks else (lambda s: [x.strip() for x in s.split(",")])
    ids, currencies = split(ids_raw), [c.lower() for c in split(vs_raw)]
    live_s = sim.market.live_s(req.now_s)
    flags = {k: req.flag(k) for k in ("include_market_cap", "include_24hr_vol", "include_24hr_change")}
    precision = req.query.get("precision")
    out: dict[str, dict[str, object]] = {}
    for cid in ids:
        coin = sim.market.coin(cid)
        if coin is None or coin.listing_day * DAY > live_s:
            continue
        entry: dict[str, object] = {}
        for cur in currencies:
            if cur not in VS_CURRENCIES:
                continue
            q = sim.market.quote(coin, live_s, cur)
            entry[cur] = whole(round_price(q.price, precision))
            if flags["include_market_cap"]:
                entry[f"{cur}_market_cap"] = q.market_cap
            if flags["include_24hr_vol"]:
                entry[f"{cur}_24h_vol"] = q.volume
            if flags["include_24hr_change"]:
                entry[f"{cur}_24h_change"] = q.changes["24h"]
        if entry and req.flag("include_last_updated_at"):
            entry["last_updated_at"] = live_s - (coin.stale_s if sim.quirks else 0)
        out[coin.id] = entry
    return ok(out, cache_s=20 if sim.cfg.rules.paid else 60)


def coin_history(sim: Sim, req: Request) -> Reply:
    coin = find_coin(sim, req)
    raw = req.need("date")
    try:
        day = datetime.strptime(raw, "%d-%m-%Y").replace(tzinfo=UTC)
    except ValueError:
        raise error_simple(400, "invalid date") from None
    ts = int(day.timestamp())
    check_history(sim, ts, req.now_s)
    body: dict[str, object] = {"id": coin.id, "symbol": coin.symbol, "name": coin.name}
    if req.query.get("localization", "true").lower() != "false":
        body["localization"] = {lang: coin.name for lang in ("en", "de", "es", "fr", "it", "ja", "zh")}
    body["image"] = {
        "thumb": f"{IMG}/{coin.image_no}/thumb/{coin.id}.png?1547033579",
        "small": f"{IMG}/{coin.image_no}/small/{coin.id}.png?1547033579",
    }
    if ts < coin.listing_day * DAY or ts > req.now_s:
        return ok(body)  # real answers for dates before listing carry no market_data
    when = np.array([ts], dtype=np.int64)
    prices, caps, vols = {}, {}, {}
    for cur in VS_CURRENCIES:
        pr, ca, vo = sim.market.series(coin, when, cur)
        prices[cur], caps[cur], vols[cur] = float(pr[0]), float(ca[0]), float(vo[0])
    body["market_data"] = {"current_price": prices, "market_cap": caps, "total_volume": vols}
    body["community_data"] = {
        "facebook_likes": None,
        "twitter_followers": 1000 + coin.index,
        "reddit_average_posts_48h": 0.0,
        "reddit_average_comments_48h": 0.0,
        "reddit_subscribers": 100 + coin.index,
        "reddit_accounts_active_48h": 0,
    }
    body["developer_data"] = {
        "forks": 10,
        "stars": 100,
        "subscribers": 10,
        "total_issues": 5,
        "closed_issues": 4,
        "pull_requests_merged": 20,
        "pull_request_contributors": 3,
        "code_additions_deletions_4_weeks": {"additions": 0, "deletions": 0},
        "commit_count_4_weeks": 0,
    }
    body["public_interest_stats"] = {"alexa_rank": None, "bing_matches": None}
    return ok(body, cache_s=300)
