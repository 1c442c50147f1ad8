"""Forecasting models on log prices: a random-walk baseline and statsforecast's AutoETS / AutoTheta.

Every model maps the log closes ``y`` (oldest first, one per day, no gaps) to ``h`` daily
forecasts of the log price with 80% and 95% intervals; exponentiating gives price forecasts
whose intervals keep their coverage (a monotone transform) and never go below zero. statsforecast
takes ~5 s to import: it is imported only when a model needs it.
"""

from __future__ import annotations

import logging

import numpy as np

from geckolake.config import FORECAST_MODELS, ForecastModel

log = logging.getLogger(__name__)

# The closed set is declared with the setting that names it ([analytics] forecast_models).
ModelName = ForecastModel
MODELS: tuple[ModelName, ...] = FORECAST_MODELS
LEVELS = (80, 95)
Z = {80: 1.2815515655446004, 95: 1.959963984540054}  # standard normal quantiles 0.9 and 0.975
KEYS = ("mean", "lo-80", "hi-80", "lo-95", "hi-95")


def naive(y: np.ndarray, h: int) -> dict[str, np.ndarray]:
    """Random walk without drift: mean = last value; the k-step band is ± z · σ · √k with σ the
    sample standard deviation (ddof=1) of the one-step changes of ``y``."""
    steps = np.arange(1, h + 1, dtype=np.float64)
    sigma = float(np.std(np.diff(y), ddof=1)) if len(y) > 2 else 0.0
    mean = np.full(h, float(y[-1]))
    out = {"mean": mean}
    for level in LEVELS:
        band = Z[level] * sigma * np.sqrt(steps)
        out[f"lo-{level}"], out[f"hi-{level}"] = mean - band, mean + band
    return out


def _statsforecast(name: ModelName, y: np.ndarray, h: int) -> dict[str, np.ndarray]:
    from statsforecast.models import AutoETS, AutoTheta

    model = AutoETS(season_length=1) if name == "auto_ets" else AutoTheta(season_length=1)
    got = model.forecast(y=y.astype(np.float64), h=h, level=list(LEVELS))
    return {k: np.asarray(got[k], dtype=np.float64) for k in KEYS}


def forecast_log(name: ModelName, y: np.ndarray, h: int) -> dict[str, np.ndarray] | None:
    """``h`` forecasts of the log price by model ``name``; None when the model fails on ``y``."""
    if name == "naive":
        return naive(y, h)
    try:
        out = _statsforecast(name, y, h)
    except Exception as e:  # a fit failing on one series must not stop the others
        log.warning("model %s failed on a series of %d points: %s", name, len(y), e)
        return None
    if not all(np.isfinite(v).all() for v in out.values()):
        return None
    return out


def forecast_price(name: ModelName, closes: np.ndarray, h: int) -> dict[str, np.ndarray] | None:
    """Price forecasts (exp of the log forecasts) from positive ``closes``."""
    got = forecast_log(name, np.log(closes), h)
    return None if got is None else {k: np.exp(v) for k, v in got.items()}
