"""W0 as a dlt user would write it: dlt's ``rest_api`` source into DuckDB (runs in the dlt peer's venv).

Imports only dlt (and the standard library): this file is executed by the peer's own interpreter
(``bench/.peers/dlt/bin/python``), never by the project's. One argument, a JSON object:

* ``base``: the simulator's ``.../api/v3`` URL; ``markets``: the query of each markets page (W0's
  planner output, ``whole_command.spec``); ``chart``: the daily chart window; ``k``: how many coins
  get history (the first ``k`` rows of the markets pages, i.e. the top ``k`` by market cap);
* ``workdir``: an empty folder for the pipeline's state and the DuckDB file (a fresh lake), or, for
  a next-day run, the folder of the previous day's run (the same pipeline, loaded again);
* ``history_write`` (optional): the price-history table's write disposition, ``replace`` (W0's
  default) or ``merge`` on (coin_id, ts), which a next-day load needs to keep earlier days.

The calls are W0's exactly: the markets pages through a page-number paginator capped at the last
page, then one ``/coins/{id}/market_chart/range`` per top-``k`` id, resolved from the markets rows
by a small transformer (rest_api has no "first k parents" option, and asking the API for a separate
top-100 list would be a 109th call). Chart bodies are turned into one row per point, as a user
wanting a price-history table would; markets rows load as dlt normalises them (the 7-day sparkline
becomes a child table). Prints one JSON line: the row counts per table.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any


def main(spec: dict[str, Any]) -> dict[str, Any]:
    # Before importing dlt: no telemetry (the bench has no network), state under the fresh workdir.
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    os.environ["DLT_DATA_DIR"] = os.path.join(spec["workdir"], "data")
    import dlt
    from dlt.sources.rest_api import rest_api_resources

    pages = spec["markets"]
    first = {k: v for k, v in pages[0].items() if k != "page"}
    client = {"base_url": spec["base"].rstrip("/") + "/"}
    (markets,) = rest_api_resources({
        "client": client,
        "resources": [{
            "name": "markets",
            "write_disposition": "replace",
            "endpoint": {
                "path": "coins/markets",
                "params": first,
                "paginator": {
                    "type": "page_number", "base_page": 1, "page_param": "page",
                    "total_path": None, "maximum_page": 1 + len(pages),  # exclusive
                },
            },
        }],
    })  # fmt: skip
    k = int(spec["k"])
    passed = [0]  # ids handed on so far, across pages

    @dlt.transformer(data_from=markets, name="top_coins", selected=False)
    def top_coins(page: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        # Pages arrive in rank order; pass on ids until k have gone.
        wanted = k - passed[0]
        if wanted > 0:
            passed[0] += min(wanted, len(page))
            yield [{"id": row["id"]} for row in page[:wanted]]

    def points(body: dict[str, Any]) -> list[dict[str, Any]]:
        caps = {int(t): v for t, v in body.get("market_caps", [])}
        vols = {int(t): v for t, v in body.get("total_volumes", [])}
        coin = body["_top_coins_id"]
        return [
            {"coin_id": coin, "ts": int(t), "price": p, "market_cap": caps.get(int(t)), "volume": vols.get(int(t))}
            for t, p in body.get("prices", [])
        ]

    history_write: dict[str, Any] = {"write_disposition": spec.get("history_write", "replace")}
    if history_write["write_disposition"] == "merge":
        history_write["primary_key"] = ["coin_id", "ts"]
    charts = rest_api_resources({
        "client": client,
        "resources": [
            top_coins,
            {
                "name": "price_history",
                **history_write,
                "include_from_parent": ["id"],
                "endpoint": {
                    "path": "coins/{id}/market_chart/range",
                    "params": {"id": {"type": "resolve", "resource": "top_coins", "field": "id"}, **spec["chart"]},
                    "data_selector": "$",
                    "paginator": "single_page",
                },
                "processing_steps": [{"yield_map": points}],
            },
        ],
    })  # fmt: skip
    pipeline = dlt.pipeline(
        pipeline_name="w0",
        pipelines_dir=os.path.join(spec["workdir"], "pipelines"),
        destination=dlt.destinations.duckdb(os.path.join(spec["workdir"], "w0.duckdb")),
        dataset_name="coingecko",
    )
    pipeline.run([markets, *charts], loader_file_format=spec.get("loader_file_format"))
    with pipeline.sql_client() as sql:
        tables = [
            r[0]
            for r in sql.execute_sql(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'coingecko' AND table_name NOT LIKE '_dlt%'"
            )
        ]
        rows = {t: sql.execute_sql(f'SELECT count(*) FROM coingecko."{t}"')[0][0] for t in sorted(tables)}
    return {"rows": rows}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
