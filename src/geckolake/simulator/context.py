"""What every handler receives: the config, the market and the request's simulated time."""

from __future__ import annotations

import time
from dataclasses import dataclass

from geckolake.simulator.config import SimulatorConfig
from geckolake.simulator.market import VS_CURRENCIES, Market
from geckolake.simulator.replies import coin_not_found, error_simple, history_limit, missing
from geckolake.simulator.universe import DAY, Coin

Query = dict[str, str]


class Sim:
    """Shared, read-mostly simulator state (one per server)."""

    def __init__(self, cfg: SimulatorConfig) -> None:
        self.cfg = cfg
        self.quirks = not cfg.clean
        self._fixed_now = None if cfg.now is None else int(cfg.now.timestamp())
        start = self._fixed_now if self._fixed_now is not None else int(time.time())
        self.market = Market(cfg.coins, cfg.seed, start // DAY, self.quirks)

    def now_s(self) -> int:
        """Simulated time in whole seconds: ``--now`` frozen, else the wall clock."""
        return self._fixed_now if self._fixed_now is not None else int(time.time())


@dataclass(frozen=True)
class Request:
    """A parsed request as handlers see it."""

    path_params: dict[str, str]
    query: Query
    now_s: int

    def need(self, name: str) -> str:
        value = self.query.get(name)
        if value is None or value == "":
            raise missing(name)
        return value

    def flag(self, name: str) -> bool:
        return self.query.get(name, "false").lower() == "true"


def find_coin(sim: Sim, req: Request) -> Coin:
    coin = sim.market.coin(req.path_params["id"])
    if coin is None:
        raise coin_not_found()
    return coin


def vs_currency(req: Request) -> str:
    cur = req.need("vs_currency").lower()
    if cur not in VS_CURRENCIES:
        raise error_simple(400, "invalid vs_currency")
    return cur


def page_slice(req: Request) -> slice:
    """The rows one ``per_page``/``page`` request selects (CoinGecko: per_page 1..250, page from 1)."""
    try:
        per_page = int(req.query.get("per_page", "100"))
        page = int(req.query.get("page", "1"))
    except ValueError:
        raise error_simple(400, "invalid per_page or page") from None
    if not 1 <= per_page <= 250 or page < 1:
        raise error_simple(400, "per_page must be within 1..250 and page >= 1")
    return slice((page - 1) * per_page, page * per_page)


def check_history(sim: Sim, from_s: int, now_s: int) -> None:
    """Public/demo plans only reach 365 days back (error 10012)."""
    limit = sim.cfg.rules.history_days
    if limit is not None and from_s < now_s - limit * DAY - 60:
        raise history_limit()


def parse_number(req: Request, name: str) -> float:
    raw = req.need(name)
    try:
        return float(raw)
    except ValueError:
        raise error_simple(400, f"invalid {name}") from None
