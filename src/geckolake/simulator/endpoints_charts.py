"""/coins/{id}/market_chart, /market_chart/range, /ohlc and /ohlc/range."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from geckolake.simulator.context import Request, Sim, check_history, find_coin, parse_number, vs_currency
from geckolake.simulator.granularity import (
    STEPS,
    auto_step_days,
    auto_step_range,
    chart_grid,
    ohlc_candle_s,
    ohlc_closes,
)
from geckolake.simulator.pricepath import HOUR
from geckolake.simulator.quirks import ohlc_round, round_price
from geckolake.simulator.replies import Reply, error_simple, ok, paid_only
from geckolake.simulator.universe import DAY, Coin

INTRADAY_LIMIT_DAYS = {"5m": 10, "hourly": 100}


def _interval(sim: Sim, req: Request) -> str | None:
    interval = req.query.get("interval") or None
    if interval is None:
        return None
    if interval not in STEPS:
        raise error_simple(400, "invalid interval")
    if interval != "daily" and not sim.cfg.rules.intraday_intervals:
        raise paid_only()  # interval=5m / hourly is enterprise-only
    return interval


def _chart(sim: Sim, coin: Coin, req: Request, cur: str, step: str, from_s: int, to_s: int) -> Reply:
    now_s, market = req.now_s, sim.market
    path = market.path(coin)
    grid = chart_grid(step, from_s, to_s, now_s, path.listing_s, sim.cfg.seed, coin.id, sim.quirks)
    prices, caps, vols = market.series(coin, grid.value_s, cur)
    stamps = grid.stamp_ms.tolist()
    precision = req.query.get("precision")
    price_list = prices.tolist()
    cap_list, vol_list = caps.tolist(), vols.tolist()
    if grid.now_point:
        # computed on its own so it equals /coins/markets' current_price bit for bit
        live = np.array([market.live_s(now_s)], dtype=np.int64)
        lp, lc, lv = market.series(coin, live, cur)
        stamps.append(now_s * 1000)
        price_list.append(float(lp[0]))
        cap_list.append(float(lc[0]))
        vol_list.append(float(lv[0]))
    if precision is not None:
        price_list = [round_price(x, precision) for x in price_list]
    body = {
        "prices": list(zip(stamps, price_list, strict=True)),
        "market_caps": list(zip(stamps, cap_list, strict=True)),
        "total_volumes": list(zip(stamps, vol_list, strict=True)),
    }
    cache = 30 if step == "5m" else (1800 if step == "hourly" else 43200)
    return ok(body, cache_s=cache)


def market_chart(sim: Sim, req: Request) -> Reply:
    coin = find_coin(sim, req)
    cur = vs_currency(req)
    raw = req.need("days")
    interval = _interval(sim, req)
    now_s = req.now_s
    if raw == "max":
        days = (now_s - coin.listing_day * DAY) / DAY + 1
        from_s = coin.listing_day * DAY
        step = interval or "daily"
    else:
        days = parse_number(req, "days")
        if days <= 0:
            raise error_simple(400, "invalid days")
        from_s = now_s - int(days * DAY)
        step = interval or auto_step_days(days)
    check_history(sim, from_s, now_s)
    if step in INTRADAY_LIMIT_DAYS and days > INTRADAY_LIMIT_DAYS[step]:
        raise error_simple(400, f"interval={step} allows at most {INTRADAY_LIMIT_DAYS[step]} days")
    return _chart(sim, coin, req, cur, step, from_s, now_s)


def _unix(req: Request, name: str) -> int:
    raw = req.need(name)
    try:
        return int(float(raw))
    except ValueError:
        pass
    try:
        return int(datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp())
    except ValueError:
        raise error_simple(400, f"invalid {name}") from None


def market_chart_range(sim: Sim, req: Request) -> Reply:
    coin = find_coin(sim, req)
    cur = vs_currency(req)
    from_s, to_s = _unix(req, "from"), _unix(req, "to")
    if to_s < from_s:
        raise error_simple(400, "from must not be after to")
    interval = _interval(sim, req)
    check_history(sim, from_s, req.now_s)
    step = interval or auto_step_range(from_s, to_s, req.now_s)
    if step in INTRADAY_LIMIT_DAYS and (to_s - from_s) > INTRADAY_LIMIT_DAYS[step] * DAY:
        raise error_simple(400, f"interval={step} allows at most {INTRADAY_LIMIT_DAYS[step]} days")
    return _chart(sim, coin, req, cur, step, from_s, to_s)


def _candles(sim: Sim, coin: Coin, cur: str, closes: np.ndarray, size: int, now_s: int) -> Reply:
    """OHLC rows stamped at their close; the last candle may still be forming (close in the future)."""
    market = sim.market
    live = market.live_s(now_s)
    sub = 300 if size <= 1800 else HOUR
    steps = size // sub
    if closes.size == 0:
        return ok([], cache_s=900)
    offsets = np.arange(-steps, 1, dtype=np.int64) * sub
    inst = np.minimum(closes[:, None] + offsets[None, :], live)
    prices = market.series(coin, inst.ravel(), cur)[0].reshape(inst.shape)
    on = sim.quirks
    rows = []
    for close, r in zip(closes.tolist(), prices, strict=True):
        o, h, lo, c = (ohlc_round(float(v), on) for v in (r[0], r.max(), r.min(), r[-1]))
        rows.append([int(close) * 1000, o, h, lo, c])
    return ok(rows, cache_s=900)


def ohlc(sim: Sim, req: Request) -> Reply:
    coin = find_coin(sim, req)
    if not req.query.get("vs_currency") or not req.query.get("days"):
        # Recorded reality: /ohlc without parameters answered 500, not 422.
        from geckolake.simulator.replies import ApiFailure

        raise ApiFailure(Reply(500, b'{"status":500,"error":"Internal Server Error"}'))
    cur = vs_currency(req)
    now_s = req.now_s
    raw = req.need("days")
    if raw == "max":
        days = (now_s - coin.listing_day * DAY) / DAY + 1
    else:
        days = parse_number(req, "days")
        if days <= 0:
            raise error_simple(400, "invalid days")
    from_s = now_s - int(days * DAY)
    check_history(sim, from_s, now_s)
    interval = req.query.get("interval") or None
    if interval is not None:
        if interval not in ("daily", "hourly"):
            raise error_simple(400, "invalid interval")
        if not sim.cfg.rules.paid:
            raise paid_only()
        size = DAY if interval == "daily" else HOUR
    else:
        size = ohlc_candle_s(days)
    closes = ohlc_closes(from_s, now_s, size, coin.listing_day * DAY)
    return _candles(sim, coin, cur, closes, size, now_s)


def ohlc_range(sim: Sim, req: Request) -> Reply:
    if not sim.cfg.rules.paid:
        raise paid_only()
    coin = find_coin(sim, req)
    cur = vs_currency(req)
    from_s, to_s = _unix(req, "from"), _unix(req, "to")
    interval = req.need("interval")
    if interval not in ("daily", "hourly"):
        raise error_simple(400, "invalid interval")
    limit = 180 if interval == "daily" else 31
    if to_s - from_s > limit * DAY:
        raise error_simple(400, f"interval={interval} allows at most {limit} days per request")
    size = DAY if interval == "daily" else HOUR
    closes = ohlc_closes(from_s, min(to_s, req.now_s + size), size, coin.listing_day * DAY)
    closes = closes[closes <= max(to_s, from_s + size)]
    return _candles(sim, coin, cur, closes, size, req.now_s)
