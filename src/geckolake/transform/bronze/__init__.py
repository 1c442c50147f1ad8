"""Bronze parsers: raw CoinGecko response bodies → typed Arrow tables with lineage.

    from geckolake.transform.bronze import parse
    result = parse(request, body, lineage)   # never raises for bad data
    result.tables["coins_markets"], result.quarantine, result.ok, result.points

See docs/bronze.md for the tables and the quirks each parser tolerates.
"""

from __future__ import annotations

from geckolake.lake.bronze import BRONZE_SCHEMAS, QUARANTINE_SCHEMA
from geckolake.transform.bronze.body import parse_body_json
from geckolake.transform.bronze.parse import parse, table_for
from geckolake.transform.bronze.result import ParseResult

__all__ = ["BRONZE_SCHEMAS", "QUARANTINE_SCHEMA", "ParseResult", "parse", "parse_body_json", "table_for"]
