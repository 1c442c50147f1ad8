"""/ping, /global, /coins/categories(/list), /search/trending and /exchanges."""

from __future__ import annotations

import numpy as np

from geckolake.simulator.context import Request, Sim, page_slice
from geckolake.simulator.endpoints_coins import IMG
from geckolake.simulator.hashing import key_of, uniform
from geckolake.simulator.market import VS_CURRENCIES
from geckolake.simulator.quirks import iso_ms, money
from geckolake.simulator.replies import Reply, error_simple, ok
from geckolake.simulator.universe import DAY

NFT_IMG = "https://coin-images.coingecko.com/nft_contracts/images"


def ping(sim: Sim, req: Request) -> Reply:
    return ok({"gecko_says": "(V3) To the Moon!"}, cache_s=0)


def _per_currency(sim: Sim, usd_value: float, live_s: int) -> dict[str, float]:
    ts = np.array([live_s], dtype=np.int64)
    out = {}
    for cur in VS_CURRENCIES:
        rate = sim.market.fx(cur, ts)
        assert rate is not None
        out[cur] = usd_value * float(rate[0])
    return out


def global_(sim: Sim, req: Request) -> Reply:
    market = sim.market
    live_s = market.live_s(req.now_s)
    board = market.board(live_s)
    total_cap, total_vol = float(board.caps.sum()), float(board.volumes.sum())
    top = np.argsort(-board.caps, kind="stable")[:10]
    dominance = {market.coins[int(i)].symbol: float(board.caps[i]) / total_cap * 100 for i in top}
    listed = sum(1 for c in market.coins if c.listing_day * DAY <= live_s and c.kind != "dead")
    data: dict[str, object] = {
        "active_cryptocurrencies": listed,
        "upcoming_icos": 0,
        "ongoing_icos": 49,
        "ended_icos": 3376,
        "markets": len(market.universe.exchanges) * 10,
        "total_market_cap": _per_currency(sim, total_cap, live_s),
        "total_volume": _per_currency(sim, total_vol, live_s),
        "market_cap_percentage": dominance,
        "market_cap_change_percentage_24h_usd": (total_cap / float(board.caps_24h.sum()) - 1) * 100,
    }
    if not sim.quirks:
        # Real bodies lack this field although the SDK types it; clean mode adds it.
        data["volume_change_percentage_24h_usd"] = (total_vol / float(board.volumes_24h.sum()) - 1) * 100
    data["updated_at"] = live_s
    return ok({"data": data}, cache_s=600)


def categories_list(sim: Sim, req: Request) -> Reply:
    rows = sorted(sim.market.universe.categories, key=lambda c: c[1])
    return ok([{"category_id": cid, "name": name} for cid, name in rows], cache_s=300)


def categories(sim: Sim, req: Request) -> Reply:
    market = sim.market
    live_s = market.live_s(req.now_s)
    board = market.board(live_s)
    rows = []
    for cid, name in market.universe.categories:
        members = [c for c in market.coins if cid in c.categories and board.caps[c.index] > 0]
        members.sort(key=lambda c: -board.caps[c.index])
        cap = float(sum(board.caps[c.index] for c in members))
        cap_24h = float(sum(board.caps_24h[c.index] for c in members))
        empty = not members
        rows.append(
            {
                "id": cid,
                "name": name,
                "market_cap": None if empty else cap,
                # the field is a percentage despite its name (FACTS.md)
                "market_cap_change_24h": None if empty or not cap_24h else (cap / cap_24h - 1) * 100,
                "content": "" if empty else f"{name} tokens.",
                "top_3_coins_id": [c.id for c in members[:3]],
                "top_3_coins": [f"{IMG}/{c.image_no}/small/{c.id}.png" for c in members[:3]],
                "volume_24h": None if empty else float(sum(board.volumes[c.index] for c in members)),
                "updated_at": None if empty else iso_ms(live_s * 1000 + 416),
            }
        )
    order = req.query.get("order", "market_cap_desc")
    keys = {
        "market_cap_desc": (lambda r: -(r["market_cap"] or -1.0), False),
        "market_cap_asc": (lambda r: r["market_cap"] or -1.0, False),
        "name_desc": (lambda r: r["name"], True),
        "name_asc": (lambda r: r["name"], False),
        "market_cap_change_24h_desc": (lambda r: -(r["market_cap_change_24h"] or -1e9), False),
        "market_cap_change_24h_asc": (lambda r: r["market_cap_change_24h"] or 1e9, False),
    }
    if order not in keys:
        raise error_simple(400, "invalid order")
    key, reverse = keys[order]
    rows.sort(key=key, reverse=reverse)  # type: ignore[arg-type]
    return ok(rows, cache_s=300)


def trending(sim: Sim, req: Request) -> Reply:
    market = sim.market
    live_s = market.live_s(req.now_s)
    board = market.board(live_s)
    hour = live_s // 3600
    ranked = [c for c in market.coins if board.ranks[c.index] is not None and c.index > 2]
    scores = uniform(key_of(sim.cfg.seed, "trending", hour), np.array([c.index for c in ranked], dtype=np.int64))
    picks = [ranked[int(i)] for i in np.argsort(scores)[:15]]
    btc = float(market.path(market.coins[0]).price(np.array([live_s], dtype=np.int64))[0])
    coins = []
    for pos, coin in enumerate(picks):
        usd = market.quote(coin, live_s, "usd")
        in_btc = market.quote(coin, live_s, "btc")
        coins.append(
            {
                "item": {
                    "id": coin.id,
                    "coin_id": coin.image_no,
                    "name": coin.name,
                    "symbol": coin.symbol.upper(),
                    "market_cap_rank": board.ranks[coin.index],
                    "thumb": f"{IMG}/{coin.image_no}/standard/{coin.id}.png?1731185925",
                    "small": f"{IMG}/{coin.image_no}/small/{coin.id}.png?1731185925",
                    "large": f"{IMG}/{coin.image_no}/large/{coin.id}.png?1731185925",
                    "slug": coin.id,
                    "price_btc": usd.price / btc,
                    "score": pos,
                    "data": {
                        "price": usd.price,
                        "price_btc": f"{usd.price / btc:.20f}".rstrip("0"),  # a string, as recorded
                        "price_change_percentage_24h": {
                            "btc": in_btc.changes["24h"],
                            "usd": usd.changes["24h"],
                        },
                        "market_cap": money(usd.market_cap),
                        "market_cap_btc": f"{usd.market_cap / btc:.8f}",
                        "total_volume": money(usd.volume),
                        "total_volume_btc": f"{usd.volume / btc:.8f}",
                        "sparkline": f"https://www.coingecko.com/coins/{coin.image_no}/sparkline.svg",
                        "content": None,
                    },
                }
            }
        )
    body: dict[str, object] = {
        "coins": coins,
        "nfts": _nfts(sim, hour),
        "categories": _trend_categories(sim, live_s),
    }
    return ok(body, cache_s=600)


def _nfts(sim: Sim, hour: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    u = uniform(key_of(sim.cfg.seed, "nfts", hour), np.arange(7, dtype=np.int64))
    for i in range(7):
        floor = round(0.001 + float(u[i]) * 2, 5)
        change = (float(u[i]) - 0.5) * 20
        out.append(
            {
                "id": f"sim-nft-{i + 1}",
                "name": f"Sim NFT {i + 1}",
                "symbol": f"SNFT{i + 1}",
                "thumb": f"{NFT_IMG}/{4200 + i}/standard/nft.png",
                "nft_contract_id": 4200 + i,
                "native_currency_symbol": "eth",
                "floor_price_in_native_currency": floor,
                "floor_price_24h_percentage_change": change,
                "data": {
                    "floor_price": f"{floor:.3f} ETH",  # formatted strings, as recorded
                    "floor_price_in_usd_24h_percentage_change": str(change),
                    "h24_volume": f"{floor * 40:.2f} ETH",
                    "h24_average_sale_price": f"{floor:.3f} ETH",
                    "sparkline": f"https://www.coingecko.com/nft/{4200 + i}/sparkline.svg",
                    "content": None,
                },
            }
        )
    return out


def _trend_categories(sim: Sim, live_s: int) -> list[dict[str, object]]:
    market = sim.market
    board = market.board(live_s)
    btc = float(market.path(market.coins[0]).price(np.array([live_s], dtype=np.int64))[0])
    out: list[dict[str, object]] = []
    for i, (cid, name) in enumerate(market.universe.categories[:6]):
        members = [c for c in market.coins if cid in c.categories]
        cap = float(sum(board.caps[c.index] for c in members))
        cap_24h = float(sum(board.caps_24h[c.index] for c in members)) or 1.0
        vol = float(sum(board.volumes[c.index] for c in members))
        change = (cap / cap_24h - 1) * 100
        out.append(
            {
                "id": 200 + i,
                "name": name,
                "market_cap_1h_change": change / 24,
                "slug": cid,
                # a string in real bodies, a number in the specs and the SDK
                "coins_count": str(len(members)) if sim.quirks else len(members),
                "data": {
                    "market_cap": cap,
                    "market_cap_btc": cap / btc,
                    "total_volume": vol,
                    "total_volume_btc": vol / btc,
                    "market_cap_change_percentage_24h": {"btc": change, "usd": change},
                    "sparkline": f"https://www.coingecko.com/categories/{200 + i}/sparkline.svg",
                },
            }
        )
    return out


def exchanges(sim: Sim, req: Request) -> Reply:
    rows = sim.market.universe.exchanges[page_slice(req)]
    return ok(rows, cache_s=60)
