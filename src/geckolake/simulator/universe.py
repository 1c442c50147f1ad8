"""The simulated coins, categories and exchanges: static attributes, fixed by the seed.

Listing dates are relative to the simulator's reference day (``--now`` or the start-up day), so
"recently listed" coins stay recent whatever date a run simulates. Each coin also carries its
factor loadings (market beta, sector, idiosyncratic volatility): :func:`_calibrate` sizes them by
market-cap rank so realised correlations and volatilities fall in real ranges (docs/simulator.md).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

DAY = 86_400

# id, symbol, name, price at the reference day (USD), circulating supply, max supply, years listed
_REAL: tuple[tuple[str, str, str, float, float, float | None, float], ...] = (
    ("bitcoin", "btc", "Bitcoin", 64000.0, 19.7e6, 21e6, 12.0),
    ("ethereum", "eth", "Ethereum", 3200.0, 120.1e6, None, 9.5),
    ("tether", "usdt", "Tether", 1.0, 110e9, None, 9.0),
    ("binancecoin", "bnb", "BNB", 580.0, 146e6, 200e6, 7.0),
    ("solana", "sol", "Solana", 150.0, 460e6, None, 4.5),
    ("usd-coin", "usdc", "USDC", 1.0, 33e9, None, 6.5),
    ("ripple", "xrp", "XRP", 0.55, 55e9, 100e9, 11.0),
    ("staked-ether", "steth", "Lido Staked Ether", 3195.0, 9.6e6, None, 3.5),
    ("dogecoin", "doge", "Dogecoin", 0.14, 144e9, None, 11.0),
    ("cardano", "ada", "Cardano", 0.45, 35e9, 45e9, 7.0),
    ("tron", "trx", "TRON", 0.12, 87e9, None, 7.0),
    ("avalanche-2", "avax", "Avalanche", 30.0, 390e6, 720e6, 4.0),
    ("shiba-inu", "shib", "Shiba Inu", 0.000021, 589e12, None, 4.0),
    ("wrapped-bitcoin", "wbtc", "Wrapped Bitcoin", 63950.0, 155e3, None, 6.0),
    ("polkadot", "dot", "Polkadot", 7.0, 1.4e9, None, 4.5),
    ("chainlink", "link", "Chainlink", 15.0, 587e6, 1e9, 7.0),
    ("bitcoin-cash", "bch", "Bitcoin Cash", 450.0, 19.7e6, 21e6, 7.0),
    ("matic-network", "matic", "Polygon", 0.7, 9.9e9, 10e9, 5.5),
    ("litecoin", "ltc", "Litecoin", 80.0, 74.6e6, 84e6, 11.0),
    ("dai", "dai", "Dai", 1.0, 5.3e9, None, 5.0),
    ("uniswap", "uni", "Uniswap", 9.0, 600e6, 1e9, 4.0),
    ("cosmos", "atom", "Cosmos Hub", 8.0, 390e6, None, 5.5),
    ("stellar", "xlm", "Stellar", 0.1, 29e9, 50e9, 10.0),
    ("monero", "xmr", "Monero", 160.0, 18.4e6, None, 10.0),
    ("ethereum-classic", "etc", "Ethereum Classic", 25.0, 147e6, 210e6, 8.0),
)
_STABLES = {"tether", "usd-coin", "dai"}
_MARKET_IMG = "https://coin-images.coingecko.com/markets/images"
_WORDS = [
    "nova",
    "lumen",
    "zenith",
    "aether",
    "quant",
    "orbit",
    "pixel",
    "vault",
    "nexus",
    "ember",
    "flux",
    "cipher",
    "delta",
    "astra",
    "echo",
    "helix",
    "krypt",
    "lyra",
    "magma",
    "neon",
    "onyx",
    "prism",
    "quasar",
    "radix",
    "sigma",
    "terra",
    "ultra",
    "vertex",
    "warp",
    "xeno",
    "yield",
    "zephyr",
    "apex",
    "blaze",
    "coral",
    "drift",
    "frost",
    "gala",
    "harbor",
    "iris",
    "jade",
    "kite",
    "lotus",
    "mint",
    "nimbus",
    "opal",
    "pulse",
]
_SUFFIX = ("protocol", "network", "finance", "dao", "chain", "swap", "token", "labs", "ai", "inu")
_CATEGORIES = (
    ("layer-1", "Layer 1 (L1)"),
    ("smart-contract-platform", "Smart Contract Platform"),
    ("stablecoins", "Stablecoins"),
    ("decentralized-finance-defi", "Decentralized Finance (DeFi)"),
    ("meme-token", "Meme"),
    ("gaming", "Gaming (GameFi)"),
    ("layer-2", "Layer 2 (L2)"),
    ("artificial-intelligence", "Artificial Intelligence (AI)"),
    ("real-world-assets-rwa", "Real World Assets (RWA)"),
    ("exchange-based-tokens", "Exchange-based Tokens"),
    ("decentralized-exchange", "Decentralized Exchange (DEX)"),
    ("privacy-coins", "Privacy Coins"),
    ("oracle", "Oracle"),
    ("liquid-staking-tokens", "Liquid Staking Tokens"),
    ("wrapped-tokens", "Wrapped-Tokens"),
    ("xt-smart-chain-ecosystem", "XT Smart Chain Ecosystem"),
    ("yield-farming", "Yield Farming"),
    ("metaverse", "Metaverse"),
)
_EXCHANGES = (
    ("binance", "Binance", 2017, "Cayman Islands"),
    ("gdax", "Coinbase Exchange", 2012, "United States"),
    ("bybit_spot", "Bybit", 2018, "British Virgin Islands"),
    ("okex", "OKX", 2013, "Seychelles"),
    ("kraken", "Kraken", 2011, "United States"),
    ("kucoin", "KuCoin", 2014, "Seychelles"),
    ("gate", "Gate", 2013, None),
    ("bitget", "Bitget", 2018, "Seychelles"),
    ("htx", "HTX", 2013, "Seychelles"),
    ("bitfinex", "Bitfinex", 2014, "British Virgin Islands"),
)


@dataclass
class Coin:
    """One coin's fixed attributes; its prices live in :mod:`geckolake.simulator.pricepath`."""

    index: int
    id: str
    symbol: str
    name: str
    image_no: int
    kind: str  # "normal" | "stable" | "dead"
    ref_price: float
    circulating: float
    max_supply: float | None
    total_extra: float  # total_supply = circulating * (1 + total_extra); may be < 0 (quirk)
    supply_growth: float  # per year
    sigma_day: float
    listing_day: int  # days since epoch
    death_day: int | None
    turnover: float
    roi_currency: str | None
    roi_entry: float
    stale_s: int  # quirk: last_updated lags by this many seconds
    listing_price: float  # price trend at listing (the walk adds noise around the trend)
    categories: list[str] = field(default_factory=list)
    platforms: dict[str, str] = field(default_factory=dict)
    beta: float = 1.0  # loading on the market factor
    idio_sigma: float = 0.03  # daily volatility of the coin's own noise (normal regime)
    sector: str | None = None  # the category whose factor the coin loads on
    twin: str | None = None  # a wrapped/staked coin follows this coin's path (tiny tracking error)


@dataclass
class Universe:
    coins: list[Coin]
    by_id: dict[str, Coin]
    categories: list[tuple[str, str]]
    exchanges: list[dict[str, object]]


def build_universe(n_coins: int, seed: int, ref_day: int) -> Universe:
    """Build the fixed coin list for a seed; ``ref_day`` anchors listing dates and prices."""
    rng = random.Random(seed)
    coins: list[Coin] = []
    seen: set[str] = set()
    for i in range(n_coins):
        coin = _real_coin(i, rng, ref_day) if i < len(_REAL) else _generated_coin(i, rng, ref_day, seen)
        seen.add(coin.id)
        coins.append(coin)
    _assign_categories(coins, rng)
    _calibrate(coins, seed, ref_day)
    return Universe(coins, {c.id: c for c in coins}, list(_CATEGORIES), _exchanges(rng))


def _real_coin(i: int, rng: random.Random, ref_day: int) -> Coin:
    cid, sym, name, price, circ, max_s, years = _REAL[i]
    stable = cid in _STABLES
    return Coin(
        index=i,
        id=cid,
        symbol=sym,
        name=name,
        image_no=[1, 279, 325, 825, 4128, 6319, 44, 13442, 5, 975][i] if i < 10 else 1000 + i * 37,
        kind="stable" if stable else "normal",
        ref_price=price,
        circulating=circ,
        max_supply=max_s,
        total_extra=0.0 if max_s == circ else rng.choice([0.0, 0.0, 0.02, 0.1]),
        supply_growth=0.0 if stable else rng.uniform(0.0, 0.03),
        sigma_day=0.001 if stable else (0.03 if i == 0 else rng.uniform(0.035, 0.06)),
        listing_day=ref_day - int(years * 365),
        death_day=None,
        turnover=0.6 if stable else rng.uniform(0.01, 0.08),
        roi_currency=rng.choice([None, None, "usd", "btc", "eth"]) if i > 1 else None,
        roi_entry=price / rng.uniform(2.0, 80.0),
        stale_s=0,
        listing_price=100.0 if i == 0 else (1.0 if stable else price / 10 ** rng.uniform(0.5, 2.5)),
        platforms={} if i in (0, 6, 8, 12) else {"ethereum": _address(rng)},
    )


def _generated_coin(i: int, rng: random.Random, ref_day: int, seen: set[str]) -> Coin:
    cid, name = _slug(rng, seen)
    symbol = "".join(w[: rng.choice([1, 2, 3])] for w in cid.split("-")[:2]).replace("-", "")[:5]
    if rng.random() < 0.01:
        symbol = symbol.upper()  # quirk: some symbols are upper-case
    stable = rng.random() < 0.01  # real markets: a handful of large stablecoins, then small ones
    dead = not stable and rng.random() < 0.015
    recent = rng.random() < 0.05
    age_days = rng.randint(3, 120) if recent else rng.randint(200, 4000)
    listing_day = ref_day - age_days
    has_max = rng.random() < 0.6
    circ = 10 ** rng.uniform(6, 12)
    if rng.random() < 0.3:
        circ = float(round(circ))  # quirk: whole supplies serialise as integers
    rank_scale = 1.0 / (1.0 + (i - len(_REAL)) * 0.02) ** 1.6
    mcap = 5e9 * rank_scale * 10 ** rng.uniform(-0.3, 0.3)
    if stable:
        circ = mcap * 0.25  # a generated stablecoin is small: a quarter of its rank's cap
    return Coin(
        index=i,
        id=cid,
        symbol=symbol,
        name=name,
        image_no=2000 + i * 13,
        kind="stable" if stable else ("dead" if dead else "normal"),
        ref_price=1.0 if stable else mcap / circ,
        circulating=circ,
        max_supply=(circ * rng.uniform(1.0, 3.0)) if has_max else None,
        total_extra=rng.choice([0.0, 0.0, 0.05, 0.5, -0.01]),
        supply_growth=0.0 if stable else rng.uniform(0.0, 0.15),
        sigma_day=0.001 if stable else rng.uniform(0.04, 0.11),
        listing_day=listing_day,
        death_day=(listing_day + rng.randint(30, max(31, age_days - 10))) if dead else None,
        turnover=0.5 if stable else 10 ** rng.uniform(-2.5, -0.7),
        roi_currency=rng.choice(["usd", "btc", "eth"]) if rng.random() < 0.2 else None,
        roi_entry=(mcap / circ) / 10 ** rng.uniform(-1.0, 2.0),
        stale_s=rng.choice([3 * 3600, 26 * 3600, 4 * DAY]) if rng.random() < 0.02 else 0,
        listing_price=(mcap / circ) * 10 ** rng.uniform(-1.5, 0.7) * min(1.0, age_days / 365),
        platforms=_platforms(rng),
    )


def _slug(rng: random.Random, seen: set[str]) -> tuple[str, str]:
    tries = 0
    while True:
        tries += 1
        words = [rng.choice(_WORDS)]
        roll = rng.random()
        if roll < 0.6:
            words.append(rng.choice(_SUFFIX))
        if roll > 0.85 or tries > 8:
            # the word space is small: crowded universes fall back to wider numeric suffixes
            words.append(str(rng.randint(2, 9 if tries <= 8 else 10 * tries)))
        cid = "-".join(words)
        if cid not in seen:
            name = " ".join(w.capitalize() if not w.isdigit() else w for w in words)
            return cid, name


def _address(rng: random.Random) -> str:
    return "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40))


def _platforms(rng: random.Random) -> dict[str, str]:
    roll = rng.random()
    if roll < 0.3:
        return {}
    if roll < 0.31:
        return {"": ""}  # quirk seen in /coins/list?include_platform=true
    out = {"ethereum": _address(rng)}
    if roll > 0.8:
        out["binance-smart-chain"] = _address(rng)
    return out


def _assign_categories(coins: list[Coin], rng: random.Random) -> None:
    fixed = {
        "bitcoin": ["layer-1"],
        "ethereum": ["layer-1", "smart-contract-platform"],
        "binancecoin": ["layer-1", "smart-contract-platform", "exchange-based-tokens"],
        "solana": ["layer-1", "smart-contract-platform"],
        "dogecoin": ["layer-1", "meme-token"],
        "shiba-inu": ["meme-token"],
        "staked-ether": ["liquid-staking-tokens"],
        "wrapped-bitcoin": ["wrapped-tokens"],
        "chainlink": ["oracle"],
        "uniswap": ["decentralized-finance-defi", "decentralized-exchange"],
        "monero": ["layer-1", "privacy-coins"],
    }
    # Some categories stay empty on purpose: real /coins/categories lists them with null market data.
    pool = [c for c, _ in _CATEGORIES if c not in ("xt-smart-chain-ecosystem", "metaverse", "stablecoins")]
    for coin in coins:
        cats = list(fixed.get(coin.id, []))
        if coin.kind == "stable":
            cats.append("stablecoins")
        elif coin.id not in fixed:
            cats.extend(rng.sample(pool, rng.choice([0, 1, 1, 2])))
        coin.categories = sorted(set(cats))


# Factor loadings of the real coins (beta, idiosyncratic daily sigma), roughly their observed
# 2021-2025 behaviour: bitcoin is almost the market, ethereum a high-beta large cap.
_LOADINGS = {"bitcoin": (1.0, 0.006), "ethereum": (1.2, 0.016), "binancecoin": (0.75, 0.018), "tron": (0.6, 0.02)}
# Daily volatility of the common market factor (a beta-1 coin's systematic part in the normal regime),
# of each sector factor and of a stablecoin's peg; calibrated so the realised statistics fall in the
# ranges docs/simulator.md lists (tests/unit/simulator/test_sim_realism.py measures them).
MARKET_SIGMA = 0.025
SECTOR_SIGMA = 0.008
STABLE_SIGMA = 0.0004
_TWINS = {"wrapped-bitcoin": "bitcoin", "staked-ether": "ethereum"}
_BROAD = ("layer-1", "smart-contract-platform")


def _calibrate(coins: list[Coin], seed: int, ref_day: int) -> None:
    """Factor loadings by size: larger coins follow the market more and have less noise of their own."""
    rng = random.Random(seed * 7919 + 17)  # its own stream: ids and attributes drawn before stay as they were
    by_id = {c.id: c for c in coins}
    for coin in coins:
        own = [c for c in coin.categories if c not in _BROAD and c != "stablecoins"]
        sectors = own or [c for c in coin.categories if c in _BROAD]
        coin.sector = sectors[0] if sectors and coin.id != "bitcoin" else None  # bitcoin is the market
        if coin.id in _LOADINGS:
            coin.beta, coin.idio_sigma = _LOADINGS[coin.id]
        elif coin.index < len(_REAL):
            coin.beta, coin.idio_sigma = rng.uniform(0.9, 1.4), rng.uniform(0.014, 0.024)
        else:
            k = coin.index - len(_REAL)
            coin.beta = rng.uniform(0.8, 1.6)
            coin.idio_sigma = (0.016 + 0.01 * math.log10(1 + k)) * rng.uniform(0.8, 1.25)
        parent = by_id.get(_TWINS.get(coin.id, ""))
        if parent is not None:
            coin.twin = parent.id
            coin.beta, coin.idio_sigma, coin.sector = parent.beta, parent.idio_sigma, parent.sector
            # the parent's long-run trend, so the pair keeps its price ratio
            parent_drift = math.log(parent.ref_price / parent.listing_price) / max(1, ref_day - parent.listing_day)
            coin.listing_price = coin.ref_price / math.exp(parent_drift * max(1, ref_day - coin.listing_day))
        if coin.kind == "stable":
            coin.sigma_day = STABLE_SIGMA
        else:  # the total daily volatility in the normal regime (the intraday bridges scale with it)
            coin.sigma_day = math.hypot(coin.beta * MARKET_SIGMA, SECTOR_SIGMA, coin.idio_sigma)


def _exchanges(rng: random.Random) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    volume = 450_000.0
    year: int | None
    for i in range(120):
        if i < len(_EXCHANGES):
            eid, name, year, country = _EXCHANGES[i]
        else:
            word = rng.choice(_WORDS)
            eid, name = f"{word}_{i}", f"{word.capitalize()} Exchange {i}"
            year, country = (
                rng.choice([None, 2015, 2018, 2020, 2022]),
                rng.choice([None, "Seychelles", "Panama"]),
            )
        volume *= rng.uniform(0.7, 0.98)
        trust = max(1, 10 - i // 12)
        out.append(
            {
                "id": eid,
                "name": name,
                "year_established": year,
                "country": country,
                "description": "" if i % 3 else f"{name} is a cryptocurrency exchange.",
                "url": f"https://www.{eid.split('_')[0]}.com/",
                "image": f"{_MARKET_IMG}/{52 + i}/small/{eid}.png?1706864274",
                "has_trading_incentive": False,
                "trust_score": trust,
                "trust_score_rank": i + 1,
                "trade_volume_24h_btc": round(volume, 8),
                "trade_volume_24h_btc_normalized": round(volume * rng.uniform(0.5, 1.0), 8),
            }
        )
    return out
