"""``prices``: one ``/simple/price`` poll of the lake's top coins into ``silver.live_prices``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from geckolake.errors import ConfigError
from geckolake.flows.lakes import creating
from geckolake.flows.ledger import recorded
from geckolake.ingest import prices as poll
from geckolake.ingest.pipeline import Run, RunResult, make_client
from geckolake.lake.catalog import is_lake, open_lake

if TYPE_CHECKING:
    from geckolake.api.client import CoinGeckoClient
    from geckolake.config import Settings


def prices(
    settings: Settings,
    *,
    command: str = "prices",
    client_factory: Callable[[Settings], CoinGeckoClient] | None = None,
    compact: bool = True,
) -> RunResult:
    """Poll ``/simple/price`` once for the lake's top ``[schedule] price_coins`` coins, under the writer lock.

    Recorded in the ledger like a run; crowded live-price files are compacted after the poll
    (``compact=False`` skips that).

    Raises:
        LakeLocked: another run is writing this lake.
        ConfigError: the lake holds no coins yet (run ``geckolake run`` first).
        AuthError, ApiError, LakeError: as for a run.
    """
    with creating(settings):
        lake = open_lake(settings) if is_lake(settings) else None
        ids = poll.top_coins(lake, settings.schedule.price_coins) if lake is not None else []
        if lake is None or not ids:
            raise ConfigError(
                f"the lake {settings.lake} holds no coins to poll",
                hint="run `geckolake run` (or let the scheduler's markets job run) first",
            )
        job = Run(settings, (client_factory or make_client)(settings), command=command, lake=lake)
        return recorded(job, lambda: poll.poll(job, ids, compact=compact))
