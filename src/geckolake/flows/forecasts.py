"""``forecast``: fit price forecasts and rolling backtests for the top coins of the latest day."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geckolake.analytics.refresh import refresh_forecasts
from geckolake.flows.ledger import lake_job

if TYPE_CHECKING:
    from geckolake.config import Settings

FORECASTS = "gold.price_forecasts"
BACKTESTS = "gold.forecast_backtests"


def forecast(settings: Settings) -> dict[str, int]:
    """Refit ``gold.price_forecasts`` and ``gold.forecast_backtests`` under the writer lock; rows per table.

    ``{FORECASTS: 0, ...}`` when no coin has enough contiguous daily closes yet.

    Raises:
        LakeError: no lake there, or a table does not fit its schema.
        LakeLocked: another process is writing the lake.

    Recorded in ``ops.pipeline_runs`` as command ``forecast`` (so ``status`` shows the job).
    """
    with lake_job(settings, "forecast") as (lake, rows):
        rows.update(refresh_forecasts(lake, settings.analytics))
    return rows
