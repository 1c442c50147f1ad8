"""geckolake: CoinGecko to an analysis-ready Apache Iceberg lakehouse, from Python or the ``geckolake`` CLI.

    import geckolake

    with geckolake.running_simulator(geckolake.SimulatorConfig(port=0)) as url:   # or the real API
        geckolake.run(geckolake.Settings(lake="lake", base_url=url, plan="pro"))
    geckolake.query("SELECT * FROM gold.coin_daily LIMIT 5", lake="lake").to_pandas()

Every job the CLI starts is a function here (the flows); see docs/python-api.md. Names are loaded
on first use, so ``import geckolake`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from geckolake.version import __version__

# public name → the module that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        (
            "run", "plan", "replay", "export", "forecast", "prices", "check", "watch", "maintain", "demo", "scheduler",
            "relocate", "query", "sql", "tables", "runs", "status", "metrics", "alert_test", "DemoResult",
        ),
        "geckolake.flows",
    ),
    "Settings": "geckolake.config",
    "load_settings": "geckolake.config",
    "Lake": "geckolake.lake.catalog",
    "open_lake": "geckolake.lake.catalog",
    "RunResult": "geckolake.ingest.pipeline",
    "SimulatorConfig": "geckolake.simulator",
    "running_simulator": "geckolake.simulator",
    **dict.fromkeys(
        (
            "GeckolakeError", "TransientError", "RateLimited", "ServerError", "NetworkError", "TerminalError",
            "ConfigError", "SecretError", "ApiError", "AuthError", "ApiUnreachable", "NotFound", "FetchFailed",
            "ParseError", "LakeError", "LakeLocked", "DiskFull", "QueryError",
        ),
        "geckolake.errors",
    ),
}  # fmt: skip

__all__ = [
    "ApiError",
    "ApiUnreachable",
    "AuthError",
    "ConfigError",
    "DemoResult",
    "DiskFull",
    "FetchFailed",
    "GeckolakeError",
    "Lake",
    "LakeError",
    "LakeLocked",
    "NetworkError",
    "NotFound",
    "ParseError",
    "QueryError",
    "RateLimited",
    "RunResult",
    "SecretError",
    "ServerError",
    "Settings",
    "SimulatorConfig",
    "TerminalError",
    "TransientError",
    "__version__",
    "alert_test",
    "check",
    "demo",
    "export",
    "forecast",
    "load_settings",
    "maintain",
    "metrics",
    "open_lake",
    "plan",
    "prices",
    "query",
    "relocate",
    "replay",
    "run",
    "running_simulator",
    "runs",
    "scheduler",
    "sql",
    "status",
    "tables",
    "watch",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'geckolake' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from geckolake.config import Settings, load_settings
    from geckolake.errors import (
        ApiError,
        ApiUnreachable,
        AuthError,
        ConfigError,
        DiskFull,
        FetchFailed,
        GeckolakeError,
        LakeError,
        LakeLocked,
        NetworkError,
        NotFound,
        ParseError,
        QueryError,
        RateLimited,
        SecretError,
        ServerError,
        TerminalError,
        TransientError,
    )
    from geckolake.flows import (
        DemoResult,
        alert_test,
        check,
        demo,
        export,
        forecast,
        maintain,
        metrics,
        plan,
        prices,
        query,
        relocate,
        replay,
        run,
        runs,
        scheduler,
        sql,
        status,
        tables,
        watch,
    )
    from geckolake.ingest.pipeline import RunResult
    from geckolake.lake.catalog import Lake, open_lake
    from geckolake.simulator import SimulatorConfig, running_simulator
