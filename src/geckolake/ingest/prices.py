"""Near-real-time prices: one ``/simple/price`` poll of the lake's top N coins.

A poll lands every response raw and in ``ops.raw_manifest`` exactly like a pipeline run (it is a
:class:`~geckolake.ingest.pipeline.Run` with command ``prices``: same raw layout, same ledger rows
in ``ops.pipeline_runs`` / ``ops.task_runs``), appends the parsed rows to ``bronze.simple_price`` and
merges them into ``silver.live_prices`` by key ``(coin_id, vs_currency, last_updated_at)``: the
latest fetch wins, and every distinct price point CoinGecko published is kept.

Commit order as in the pipeline: raw files, then bronze, then silver, then the manifest. The
silver merge takes every bronze row fetched at or after the newest fetch silver already holds, so
a poll killed between its bronze and silver commits is completed by the next poll.

Ids are sent in chunks of :data:`IDS_PER_REQUEST` to keep URLs reasonable (one credit each).
Polls do not run the data-quality checks (a minute is too short for them); the markets job does.
Crowded ``bronze.simple_price`` / ``silver.live_prices`` files are compacted after the poll.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from geckolake.errors import ApiError, NotFound
from geckolake.ingest.pipeline import drive
from geckolake.transform.live_prices import BRONZE, SILVER, merge_live_prices

if TYPE_CHECKING:
    from geckolake.api.endpoints import ApiRequest
    from geckolake.config import Settings
    from geckolake.ingest.pipeline import Failed, Fetched, Run, RunResult
    from geckolake.lake.catalog import Lake

log = logging.getLogger(__name__)

IDS_PER_REQUEST = 250  # ~4 KB of ids per URL


def top_coins(lake: Lake, n: int) -> list[str]:
    """The lake's top ``n`` coins by their latest market-cap rank (``silver.coins``)."""
    coins = lake.read("silver.coins", columns=("coin_id", "market_cap_rank")).to_pylist()
    ranked = sorted(
        (r for r in coins if r["market_cap_rank"] is not None), key=lambda r: (r["market_cap_rank"], r["coin_id"])
    )
    return [r["coin_id"] for r in ranked[:n]]


def plan_prices(ids: list[str], vs_currency: str) -> list[ApiRequest]:
    """One ``/simple/price`` request per chunk of ids."""
    from geckolake.api import endpoints as ep

    return [ep.simple_price(ids[i : i + IDS_PER_REQUEST], vs_currency) for i in range(0, len(ids), IDS_PER_REQUEST)]


def planned_calls(settings: Settings) -> int:
    """API calls (= credits) one poll spends."""
    n = settings.schedule.price_coins
    return -(-n // IDS_PER_REQUEST)


def poll(run: Run, ids: list[str], *, compact: bool = True) -> RunResult:
    """Poll ``/simple/price`` for ``ids`` once and commit (raw, bronze, silver, manifest); closes the client.

    Raises:
        AuthError, ApiError: the key or a parameter is refused.
    """
    s, client = run.settings, run.client
    started = time.perf_counter()

    async def fetch() -> tuple[list[Fetched], list[Failed]]:
        try:
            return await run._fetch(plan_prices(ids, s.vs_currency), "prices")
        finally:
            await client.aclose()

    landed, failed = drive(fetch())
    for f in failed:
        if isinstance(f.error, ApiError) and not isinstance(f.error, NotFound):
            raise f.error
    r = run.result
    run.count_failures(failed)
    with run.ledger.task("prices_commit") as task:
        rows = commit(run, landed, failed)
        task.rows_in, task.rows_out = rows.get(BRONZE, 0), rows.get(SILVER, 0)
    for name, n in rows.items():
        r.rows[name] = r.rows.get(name, 0) + n
    if compact:
        from geckolake.ops.maintenance import compact as do_compact

        with run.ledger.task("compact"):
            do_compact(run.lake, s.maintenance, [BRONZE, SILVER])
    stats = client.stats
    r.api_calls, r.retries, r.rate_limited = stats.calls, stats.retries, stats.rate_limited
    r.status = "succeeded" if not r.failed_requests and not r.quarantined else "partial"
    r.seconds = time.perf_counter() - started
    return r


def commit(run: Run, landed: list[Fetched], failed: list[Failed]) -> dict[str, int]:
    """Land raw bodies, append bronze, merge silver, then append the manifest rows. Rows written per table.

    Bronze rows the silver merge leaves out by its documented rule are counted as ``filtered.<table>``.
    """
    from geckolake.transform.report import TransformReport

    lake = run.lake
    batch = run.land(landed, failed)
    rows: dict[str, int] = {}
    bronze = batch.bronze.get("simple_price")
    if bronze is not None:
        lake.append(BRONZE, bronze)
        rows[BRONZE] = bronze.num_rows
    if batch.quarantine is not None:
        lake.append("bronze.quarantine", batch.quarantine)
        rows["bronze.quarantine"] = batch.quarantine.num_rows
    live = TransformReport()
    rows[SILVER] = merge_live_prices(lake, live)
    rows.update({f"filtered.{name}": n for name, n in live.filtered.items() if n})
    if batch.manifest is not None:
        lake.append("ops.raw_manifest", batch.manifest)
    return rows
