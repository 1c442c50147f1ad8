"""Settings: flags > environment > geckolake.toml > defaults, resolved once into one object.

Environment names: ``GECKOLAKE_<FIELD>`` (e.g. ``GECKOLAKE_LAKE``, ``GECKOLAKE_PLAN``), plus the names
the official SDK uses: ``COINGECKO_BASE_URL``, ``COINGECKO_DEMO_API_KEY``, ``COINGECKO_PRO_API_KEY``.
The file is ``geckolake.toml`` in the working directory, or ``--config`` / ``GECKOLAKE_CONFIG``; its keys
are the field names below (``lake = "./lake"``, ``coins = 500``...), and the sections of
:mod:`geckolake.config.sections` are its tables (``[quality]``, ``[alerts]``, ``[schedule]``,
``[maintenance]``, ``[analytics]``), each also settable as ``GECKOLAKE_<SECTION>`` (a JSON object).
"""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from geckolake.api.plans import PLAN_NAMES, Plan, get_plan
from geckolake.config.sections import (
    AlertSettings,
    AnalyticsSettings,
    MaintenanceSettings,
    QualitySettings,
    ScheduleSettings,
    TransformSettings,
)
from geckolake.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("geckolake.toml")


class Settings(BaseSettings):
    """Everything a geckolake command needs to know, from one place."""

    model_config = SettingsConfigDict(
        env_prefix="GECKOLAKE_", populate_by_name=True, extra="forbid", validate_default=True
    )

    lake: str = Field(default="lake", description="where the lake lives: a folder, file:///path or s3://bucket/prefix")
    catalog: Literal["sqlite", "glue", "sql", "rest"] | None = Field(
        default=None, description="Iceberg catalog: sqlite (local default), glue (s3:// default), sql, rest"
    )
    catalog_uri: str | None = Field(
        default=None, description="the sql catalog's SQLAlchemy URI (postgresql+psycopg://...) or a rest catalog's URL"
    )
    catalog_name: str = Field(default="geckolake", min_length=1, description="the catalog's name (sql/rest catalogs)")
    glue_database_prefix: str = Field(
        default="geckolake_", description="Glue database names are this prefix + bronze|silver|gold|ops"
    )
    catalog_properties: dict[str, str] = Field(
        default_factory=dict, description="extra PyIceberg catalog properties (e.g. a rest catalog's credential)"
    )
    base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("base_url", "COINGECKO_BASE_URL", "GECKOLAKE_BASE_URL"),
        description="API base URL; defaults to the plan's host",
    )
    plan: str | None = Field(default=None, description="public|demo|analyst|lite|pro|enterprise")
    demo_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("demo_api_key", "COINGECKO_DEMO_API_KEY")
    )
    pro_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("pro_api_key", "COINGECKO_PRO_API_KEY")
    )
    api_key_source: str | None = Field(
        default=None, description="env | file:PATH | ssm:/param/name | secretsmanager:NAME"
    )
    aws_region: str | None = None
    aws_endpoint_url: str | None = None
    rate_per_min: float | None = Field(default=None, gt=0, description="override the plan's calls/min")
    concurrency: int = Field(default=4, ge=1, le=64)
    timeout_s: float = Field(default=10.0, gt=0, description="read timeout of one API call, seconds")
    connect_timeout_s: float = Field(default=5.0, gt=0, description="connect timeout of one API call, seconds")
    max_attempts: int = Field(default=6, ge=1, le=20)

    vs_currency: str = "usd"
    coins: int = Field(default=250, ge=0, le=20_000, description="markets depth (top N coins)")
    history_coins: int = Field(default=10, ge=0, description="daily history for the top K coins")
    history_days: int = Field(default=365, ge=1, description="daily history depth in days")
    hourly_days: int = Field(default=0, ge=0, le=90, description="hourly history depth (0 = none)")
    extras: bool = Field(default=True, description="also fetch /global, categories (+ members), trending, coins list")
    as_of: datetime | None = Field(
        default=None, description="pretend 'now' is this instant (for simulators with --now)"
    )
    # operations (see docs/operations.md): [quality], [alerts], [schedule], [maintenance] sections
    quality: QualitySettings = Field(default_factory=QualitySettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    maintenance: MaintenanceSettings = Field(default_factory=MaintenanceSettings)
    # analytics (see docs/metrics.md): universe sizes, windows, forecasting knobs
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    # where silver and gold are computed (see docs/spark.md): the [transform] section
    transform: TransformSettings = Field(default_factory=TransformSettings)

    @field_validator("lake", mode="before")
    @classmethod
    def _lake_text(cls, v: object) -> object:
        # A Path from the Python API stays a path; URIs (s3://...) must not go through Path, which
        # would collapse "//".
        if isinstance(v, Path):
            return str(v)
        if isinstance(v, str) and not v.strip():
            raise ValueError("the lake location is empty")
        return v.strip() if isinstance(v, str) else v

    @field_validator("plan")
    @classmethod
    def _known_plan(cls, v: str | None) -> str | None:
        if v is not None and v not in PLAN_NAMES:
            raise ValueError(f"unknown plan {v!r}; use one of {', '.join(PLAN_NAMES)}")
        return v

    @field_validator("vs_currency")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()

    @field_validator("as_of")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            v = v.replace(tzinfo=UTC)
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """``Settings(...)``: keyword arguments > environment > defaults (no .env, no secrets dir).

        The file layer is added by :func:`load_settings`, which knows which file to read.
        """
        return init_settings, env_settings

    # --- derived values -------------------------------------------------------------------------
    @property
    def plan_name(self) -> str:
        """The explicit plan, else the one the configured key implies, else public."""
        if self.plan:
            return self.plan
        if self.pro_api_key is not None:
            return "pro"
        if self.demo_api_key is not None:
            return "demo"
        return "public"

    @property
    def resolved_plan(self) -> Plan:
        return get_plan(self.plan_name)

    @property
    def resolved_base_url(self) -> str:
        return (self.base_url or self.resolved_plan.base_url).rstrip("/")

    @property
    def effective_rate_per_min(self) -> float:
        return self.rate_per_min or self.resolved_plan.rate_per_min

    def now(self) -> datetime:
        return self.as_of or datetime.now(UTC)


def load_settings(config_file: Path | None = None, **flags: Any) -> Settings:
    """Resolve settings once: ``flags`` (None values ignored) > environment > file > defaults.

    Raises:
        ConfigError: a value is invalid, the file is not TOML, a ``GECKOLAKE_<SECTION>`` variable is
            not a JSON object, or ``config_file`` was named but does not exist.
    """
    path = config_file or (Path(os.environ["GECKOLAKE_CONFIG"]) if os.environ.get("GECKOLAKE_CONFIG") else None)
    if path is not None and not path.is_file():
        raise ConfigError(f"config file {path} not found", hint="fix --config / GECKOLAKE_CONFIG")
    if path is None and DEFAULT_CONFIG_FILE.is_file():
        path = DEFAULT_CONFIG_FILE
    hint = "values come from flags, GECKOLAKE_* / COINGECKO_* variables, then geckolake.toml"
    try:
        return Settings.model_validate(_layered(path, {k: v for k, v in flags.items() if v is not None}))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f"config file {path} is not valid TOML: {e}", hint="fix --config / GECKOLAKE_CONFIG"
        ) from None
    except SettingsError as e:  # a section variable that is not JSON
        raise ConfigError(f"invalid settings: {e}", hint=hint) from None
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}" for err in e.errors())
        where = f" (file {path})" if path else ""
        raise ConfigError(f"invalid settings{where}: {problems}", hint=hint) from None


def _layered(path: Path | None, flags: dict[str, Any]) -> dict[str, Any]:
    """The raw values of each source, lowest first, merged so a higher one wins key by key.

    The sources are built for this call only (the file is an argument, not class or global state),
    so concurrent calls with different files cannot see each other's. Sections merge field by
    field: ``[quality] gate`` in the file and ``GECKOLAKE_QUALITY='{"anomaly_sigma": 3}'`` both apply.
    """
    layers = [
        _flat_lake_table(TomlConfigSettingsSource(Settings, toml_file=path)()) if path is not None else {},
        EnvSettingsSource(Settings)(),
        InitSettingsSource(Settings, init_kwargs=flags)(),
    ]
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = _deep_merge(merged, layer)
    return merged


# geckolake.toml may say ``lake = "./lake"`` or hold a ``[lake]`` table; its keys map to these fields.
_LAKE_TABLE_KEYS = {
    "location": "lake",
    "catalog": "catalog",
    "catalog_uri": "catalog_uri",
    "uri": "catalog_uri",
    "catalog_name": "catalog_name",
    "name": "catalog_name",
    "glue_database_prefix": "glue_database_prefix",
    "properties": "catalog_properties",
}


def _flat_lake_table(values: dict[str, Any]) -> dict[str, Any]:
    """``[lake]`` (location, catalog, uri, name, glue_database_prefix, properties) as top-level fields."""
    table = values.get("lake")
    if not isinstance(table, dict):
        return values
    out = {k: v for k, v in values.items() if k != "lake"}
    for key, value in table.items():
        if key not in _LAKE_TABLE_KEYS:
            raise ConfigError(
                f"unknown key {key!r} in the [lake] table",
                hint=f"use {', '.join(sorted(_LAKE_TABLE_KEYS))}",
            )
        out[_LAKE_TABLE_KEYS[key]] = value
    return out


def _deep_merge(low: dict[str, Any], high: dict[str, Any]) -> dict[str, Any]:
    out = dict(low)
    for key, value in high.items():
        below = out.get(key)
        out[key] = _deep_merge(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return out
