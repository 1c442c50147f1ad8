"""CoinGecko plans: host, key header, rate limit, credits and history rules (see FACTS.md).

Figures marked ≈ on CoinGecko's pricing page are defaults here, overridable from settings.
"""

from __future__ import annotations

from dataclasses import dataclass

PLAN_NAMES: tuple[str, ...] = ("public", "demo", "analyst", "lite", "pro", "enterprise")

PUBLIC_BASE_URL = "https://api.coingecko.com/api/v3"
PRO_BASE_URL = "https://pro-api.coingecko.com/api/v3"


@dataclass(frozen=True)
class Plan:
    """What a plan allows; the client paces itself and the planner chunks by these rules."""

    name: str
    base_url: str
    key_header: str | None
    rate_per_min: float
    monthly_credits: int | None
    history_days_limit: int | None  # None: back to 2013
    paid: bool
    intraday_intervals: bool  # interval=5m / hourly (enterprise only)

    @property
    def needs_key(self) -> bool:
        return self.key_header is not None


PLANS: dict[str, Plan] = {
    "public": Plan("public", PUBLIC_BASE_URL, None, 10, None, 365, False, False),
    "demo": Plan("demo", PUBLIC_BASE_URL, "x-cg-demo-api-key", 30, 10_000, 365, False, False),
    "analyst": Plan("analyst", PRO_BASE_URL, "x-cg-pro-api-key", 500, 500_000, None, True, False),
    "lite": Plan("lite", PRO_BASE_URL, "x-cg-pro-api-key", 500, 2_000_000, None, True, False),
    "pro": Plan("pro", PRO_BASE_URL, "x-cg-pro-api-key", 1000, 5_000_000, None, True, False),
    "enterprise": Plan("enterprise", PRO_BASE_URL, "x-cg-pro-api-key", 1000, None, None, True, True),
}


def get_plan(name: str) -> Plan:
    """Return the plan called ``name``.

    Raises:
        ConfigError: the name is not a CoinGecko plan.
    """
    from geckolake.errors import ConfigError

    try:
        return PLANS[name]
    except KeyError:
        raise ConfigError(
            f"unknown plan {name!r}",
            hint=f"use one of {', '.join(PLAN_NAMES)} (flag --plan, GECKOLAKE_PLAN or plan= in geckolake.toml)",
        ) from None
