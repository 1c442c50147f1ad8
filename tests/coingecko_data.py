"""Where the tests' CoinGecko reference data lives, inside the repository (tests/data/coingecko/).

``recorded/`` holds real response bodies captured from the live API (provenance in
``recorded/SOURCES.md``); beside it are CoinGecko's two OpenAPI specs. Every test reads them through
this module, and a missing file fails the test (or its collection): nothing here ever skips.
"""

from __future__ import annotations

from pathlib import Path

COINGECKO = Path(__file__).resolve().parent / "data" / "coingecko"
RECORDED = COINGECKO / "recorded"
SPECS = {name: COINGECKO / f"coingecko-{name}-api-v3.openapi.yml" for name in ("demo", "pro")}


def recorded_files(folder: str) -> list[Path]:
    """The recorded bodies of one endpoint folder, sorted; raises if there are none."""
    files = sorted((RECORDED / folder).glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no recorded bodies in {RECORDED / folder}")
    return files
