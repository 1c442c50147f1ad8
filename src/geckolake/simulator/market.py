"""The deterministic market: prices, caps and volumes of every coin in any currency at any instant.

Every endpoint derives its numbers from here, which is what keeps markets, charts, OHLC and
/global consistent with each other. Values are in USD unless a currency is named.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from geckolake.simulator.pricepath import HOUR, Factors, PricePath
from geckolake.simulator.universe import DAY, Coin, Universe, build_universe

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

# Fixed FX rates per USD: fiat drift is irrelevant to what the pipeline tests.
FIAT_PER_USD: dict[str, float] = {
    "usd": 1.0,
    "eur": 0.92,
    "gbp": 0.79,
    "jpy": 151.0,
    "myr": 4.45,
    "aud": 1.52,
    "cad": 1.37,
    "chf": 0.9,
    "cny": 7.2,
    "inr": 83.4,
    "krw": 1350.0,
    "brl": 5.1,
}
CRYPTO_QUOTES: dict[str, tuple[str, float]] = {
    "btc": ("bitcoin", 1.0),
    "eth": ("ethereum", 1.0),
    "sats": ("bitcoin", 1e8),
}
VS_CURRENCIES: tuple[str, ...] = ("btc", "eth", *FIAT_PER_USD, "sats")
CHANGE_WINDOWS: dict[str, int] = {
    "1h": HOUR,
    "24h": DAY,
    "7d": 7 * DAY,
    "14d": 14 * DAY,
    "30d": 30 * DAY,
    "200d": 200 * DAY,
    "1y": 365 * DAY,
}
# How old the ranking behind market_cap_rank is: five minutes gives the recorded rate of adjacent rank
# inversions on a 250-coin page (≈7 %, docs/simulator.md).
RANK_LAG_S = 300


@dataclass(frozen=True)
class Quote:
    """A coin's market snapshot in one currency at one minute bucket."""

    price: float
    market_cap: float
    volume: float
    price_24h: float | None
    market_cap_24h: float | None
    high_24h: float
    low_24h: float
    changes: dict[str, float | None]
    sparkline: list[float]
    ath: float
    ath_s: int
    atl: float
    atl_s: int
    supply: float


@dataclass(frozen=True)
class Board:
    """All coins at one minute bucket, USD: what ordering, ranks and /global need."""

    caps: F64
    caps_24h: F64
    volumes: F64
    volumes_24h: F64
    ranks: list[int | None]


class Market:
    """Holds the universe and lazily built price paths; caches per minute bucket."""

    def __init__(self, n_coins: int, seed: int, ref_day: int, quirks: bool) -> None:
        self.seed = seed
        self.ref_day = ref_day
        self.quirks = quirks
        self.universe: Universe = build_universe(n_coins, seed, ref_day)
        self._paths: dict[int, PricePath] = {}
        self._factors = Factors(seed)
        self._boards: OrderedDict[int, Board] = OrderedDict()
        self._quotes: OrderedDict[tuple[int, int, str], Quote] = OrderedDict()

    @property
    def coins(self) -> list[Coin]:
        return self.universe.coins

    def coin(self, coin_id: str) -> Coin | None:
        return self.universe.by_id.get(coin_id)

    def path(self, coin: Coin) -> PricePath:
        p = self._paths.get(coin.index)
        if p is None:
            p = self._paths[coin.index] = PricePath(coin, self.seed, self.ref_day, self._factors)
        return p

    @staticmethod
    def live_s(now_s: int) -> int:
        """CoinGecko refreshes prices about once a minute: the live price is the minute bucket's."""
        return now_s - now_s % 60

    def fx(self, currency: str, ts: I64) -> F64 | None:
        """Units of ``currency`` per USD at each instant; None if the currency is unsupported."""
        if currency in FIAT_PER_USD:
            return np.full(len(ts), FIAT_PER_USD[currency])
        if currency in CRYPTO_QUOTES:
            base_id, mult = CRYPTO_QUOTES[currency]
            base = self.path(self.universe.by_id[base_id]).price(ts)
            out: F64 = mult / base
            return out
        return None

    def series(self, coin: Coin, ts: I64, currency: str) -> tuple[F64, F64, F64]:
        """(price, market cap, 24 h volume) at each instant, in ``currency``."""
        path = self.path(coin)
        rate = self.fx(currency, ts)
        assert rate is not None
        usd = path.price(ts)
        caps = usd * path.supply(ts)
        vols = path.volume(ts, caps)
        return usd * rate, caps * rate, vols * rate

    # -- per-bucket board ------------------------------------------------------------------------
    def board(self, live_s: int) -> Board:
        cached = self._boards.get(live_s)
        if cached is not None:
            return cached
        ts = np.array([live_s, live_s - DAY, live_s - RANK_LAG_S], dtype=np.int64)
        n = len(self.coins)
        caps, caps_24h, stale, vols, vols_24h = (np.zeros(n) for _ in range(5))
        for coin in self.coins:
            path = self.path(coin)
            usd = path.price(ts)
            cap = usd * path.supply(ts)
            vol = path.volume(ts, cap)
            listed = ts >= path.listing_s
            cap, vol = cap * listed, vol * listed
            caps[coin.index], caps_24h[coin.index], stale[coin.index] = cap
            vols[coin.index], vols_24h[coin.index] = vol[0], vol[1]
        # Quirk: ranks come from a slightly old ranking, so close neighbours swap (…76, 78, 77…).
        rank_basis = stale if self.quirks else caps
        order = np.argsort(-rank_basis, kind="stable")
        ranks: list[int | None] = [None] * n
        for pos, idx in enumerate(order):
            if rank_basis[idx] > 0:
                ranks[int(idx)] = pos + 1
        board = Board(caps, caps_24h, vols, vols_24h, ranks)
        self._remember(self._boards, live_s, board, 4)
        return board

    @staticmethod
    def _remember(cache: OrderedDict, key: object, value: object, limit: int) -> None:  # type: ignore[type-arg]
        cache[key] = value
        while len(cache) > limit:
            cache.popitem(last=False)

    # -- per-coin quote --------------------------------------------------------------------------
    def quote(self, coin: Coin, live_s: int, currency: str) -> Quote:
        key = (coin.index, live_s, currency)
        cached = self._quotes.get(key)
        if cached is not None:
            return cached
        q = self._compute_quote(coin, live_s, currency)
        self._remember(self._quotes, key, q, 20_000)
        return q

    def _compute_quote(self, coin: Coin, live_s: int, currency: str) -> Quote:
        path = self.path(coin)
        back = np.array([live_s - w for w in CHANGE_WINDOWS.values()], dtype=np.int64)
        ts = np.concatenate([np.array([live_s], dtype=np.int64), back])
        prices, caps, vols = self.series(coin, ts, currency)
        price, cap, vol = float(prices[0]), float(caps[0]), float(vols[0])
        changes: dict[str, float | None] = {}
        for i, name in enumerate(CHANGE_WINDOWS, start=1):
            then = float(prices[i])
            ok = ts[i] >= path.listing_s and then > 0
            changes[name] = (price / then - 1.0) * 100.0 if ok else None
        day_i = list(CHANGE_WINDOWS).index("24h") + 1
        has_24h = bool(ts[day_i] >= path.listing_s)
        # 24 h high/low over the 5-minute path plus the live price
        first = max(live_s - DAY, path.listing_s)
        grid = np.arange(first - first % 300 + 300, live_s + 1, 300, dtype=np.int64)
        window = self.series(coin, grid, currency)[0] if grid.size else np.empty(0)
        high = float(max(window.max(initial=price), price))
        low = float(min(window.min(initial=price), price))
        hours = np.arange(live_s - live_s % HOUR - 167 * HOUR, live_s - live_s % HOUR + 1, HOUR, dtype=np.int64)
        hours = hours[hours >= path.listing_s]
        spark = self.series(coin, hours, currency)[0].tolist() if hours.size else []
        ath, ath_s, atl, atl_s = self._extremes(coin, live_s, currency, price)
        return Quote(
            price=price,
            market_cap=cap,
            volume=vol,
            price_24h=float(prices[day_i]) if has_24h else None,
            market_cap_24h=float(caps[day_i]) if has_24h else None,
            high_24h=high,
            low_24h=low,
            changes=changes,
            sparkline=spark,
            ath=ath,
            ath_s=ath_s,
            atl=atl,
            atl_s=atl_s,
            supply=float(self.path(coin).supply(ts[:1])[0]),
        )

    def _extremes(self, coin: Coin, live_s: int, currency: str, price: float) -> tuple[float, int, float, int]:
        """ATH/ATL over daily closes since listing plus the live price."""
        path = self.path(coin)
        days = np.arange(coin.listing_day, live_s // DAY + 1, dtype=np.int64) * DAY
        days = days[days <= live_s]
        if not days.size:
            return price, live_s, price, live_s
        values = self.series(coin, days, currency)[0]
        values = np.where(days >= (path.death_s or 1 << 62), np.nan, values)
        if np.all(np.isnan(values)):
            return price, live_s, price, live_s
        hi, lo = int(np.nanargmax(values)), int(np.nanargmin(values))
        ath, ath_s = float(values[hi]), int(days[hi])
        atl, atl_s = float(values[lo]), int(days[lo])
        if price > ath:
            ath, ath_s = price, live_s
        if 0 < price < atl:
            atl, atl_s = price, live_s
        return ath, ath_s, atl, atl_s
