"""Simulator settings: one frozen object, resolved once by the caller (CLI or tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from geckolake.errors import ConfigError

SIM_PLANS: tuple[str, ...] = ("public", "demo", "analyst", "lite", "pro", "enterprise", "unlimited")
FAULT_KINDS: tuple[str, ...] = ("500", "timeout", "malformed", "truncated", "drift")


@dataclass(frozen=True)
class PlanRules:
    """What the simulated server enforces for one plan (figures from FACTS.md, ≈ values)."""

    rate_per_min: int | None  # None: no limit
    paid: bool  # pro host/header, /ohlc/range, no 365-day limit
    intraday_intervals: bool  # interval=5m / hourly
    history_days: int | None  # None: back to listing


PLAN_RULES: dict[str, PlanRules] = {
    "public": PlanRules(10, False, False, 365),
    "demo": PlanRules(30, False, False, 365),
    "analyst": PlanRules(500, True, False, None),
    "lite": PlanRules(500, True, False, None),
    "pro": PlanRules(1000, True, False, None),
    "enterprise": PlanRules(1000, True, True, None),
    "unlimited": PlanRules(None, True, True, None),
}


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything the simulator needs; field names map 1:1 to ``geckolake simulator`` flags.

    ``rate_window_s`` and ``timeout_s`` are not CLI flags: tests shorten them so a rate-limit
    window or a simulated hang does not cost a real minute.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    coins: int = 2000
    seed: int = 42
    plan: str = "pro"
    rate_per_min: int | None = None
    latency_ms: float = 0.0
    faults: str = ""
    fixtures: Path | None = None
    now: datetime | None = None
    api_key: str | None = None
    clean: bool = False
    rate_window_s: float = 60.0
    timeout_s: float = 35.0
    quiet: bool = True
    fault_rates: dict[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.plan not in PLAN_RULES:
            raise ConfigError(f"unknown simulator plan {self.plan!r}", hint=f"use one of {', '.join(SIM_PLANS)}")
        if self.coins < 3:
            raise ConfigError("the simulator needs at least 3 coins", hint="pass --coins 3 or more")
        if self.now is not None and self.now.tzinfo is None:
            raise ConfigError("--now must carry a timezone", hint="e.g. 2025-01-01T00:00:00Z")
        object.__setattr__(self, "fault_rates", parse_faults(self.faults))

    @property
    def rules(self) -> PlanRules:
        return PLAN_RULES[self.plan]

    @property
    def effective_rate_per_min(self) -> int | None:
        """The limit in force: the explicit override, else the plan's default."""
        if self.rate_per_min is not None:
            return self.rate_per_min if self.rate_per_min > 0 else None
        return self.rules.rate_per_min


def parse_faults(spec: str) -> dict[str, float]:
    """Parse ``"500=0.05,timeout=0.02"`` into rates.

    Raises:
        ConfigError: unknown kind, bad number, or rates summing above 1.
    """
    rates: dict[str, float] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        kind, _, value = part.partition("=")
        kind = kind.strip()
        if kind not in FAULT_KINDS:
            raise ConfigError(f"unknown fault kind {kind!r}", hint=f"use {', '.join(FAULT_KINDS)}")
        try:
            rate = float(value)
        except ValueError:
            raise ConfigError(f"fault rate for {kind!r} is not a number: {value!r}") from None
        if not 0.0 <= rate <= 1.0:
            raise ConfigError(f"fault rate for {kind!r} must be within 0..1, got {rate}")
        rates[kind] = rate
    if sum(rates.values()) > 1.0 + 1e-9:
        raise ConfigError("fault rates sum above 1", hint="lower some rates in --faults")
    return rates
