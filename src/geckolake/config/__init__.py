"""Settings: flags > environment > geckolake.toml > defaults, resolved once into one object.

:mod:`geckolake.config.settings` holds :class:`Settings` and :func:`load_settings`;
:mod:`geckolake.config.sections` the typed ``[quality]``, ``[alerts]``, ``[schedule]``,
``[maintenance]``, ``[analytics]`` and ``[transform]`` sections. The package sits low in the layers (it imports only
``errors`` and ``api.plans``), so every other package may import it.
"""

from __future__ import annotations

from geckolake.config.sections import (
    ALL_RULES,
    FORECAST_MODELS,
    KNOWN_STABLECOINS,
    AlertSettings,
    AnalyticsSettings,
    ForecastModel,
    JobSettings,
    MaintenanceSettings,
    QualitySettings,
    RuleName,
    ScheduleSettings,
    TransformSettings,
    default_jobs,
)
from geckolake.config.settings import DEFAULT_CONFIG_FILE, Settings, load_settings

__all__ = [
    "ALL_RULES",
    "DEFAULT_CONFIG_FILE",
    "FORECAST_MODELS",
    "KNOWN_STABLECOINS",
    "AlertSettings",
    "AnalyticsSettings",
    "ForecastModel",
    "JobSettings",
    "MaintenanceSettings",
    "QualitySettings",
    "RuleName",
    "ScheduleSettings",
    "Settings",
    "TransformSettings",
    "default_jobs",
    "load_settings",
]
