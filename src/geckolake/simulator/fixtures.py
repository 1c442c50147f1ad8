"""Fixture mode: serve recorded bodies verbatim.

Layout (``--fixtures DIR``), for a request ``GET /api/v3/<path>?<query>``::

    DIR/<path>/<query-key>.json        the body, served byte for byte
    DIR/<path>/<query-key>.meta.json   optional: {"status": 422, "headers": {"x-a": "b"}}

``<query-key>`` is the query string canonicalised: API-key parameters dropped, pairs sorted,
each ``quote(name)=quote(value)`` (``,`` kept, space → ``%20``), joined by ``&``; ``_`` when
the query is empty; ``h-<sha1 of the key>`` when the key would exceed 180 characters.

Example: ``/api/v3/coins/markets?vs_currency=usd&ids=bitcoin`` →
``DIR/coins/markets/ids=bitcoin&vs_currency=usd.json``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import orjson

from geckolake.simulator.replies import Reply

KEY_PARAMS = frozenset({"x_cg_demo_api_key", "x_cg_pro_api_key"})


def query_key(pairs: list[tuple[str, str]]) -> str:
    """The canonical file stem for a query (see module docstring)."""
    kept = sorted((k, v) for k, v in pairs if k not in KEY_PARAMS)
    if not kept:
        return "_"
    key = "&".join(f"{quote(k, safe='')}={quote(v, safe=',')}" for k, v in kept)
    if len(key) > 180:
        return "h-" + hashlib.sha1(key.encode()).hexdigest()
    return key


def fixture_file(root: Path, path: str, pairs: list[tuple[str, str]]) -> Path | None:
    """Where the body for ``path`` (relative to /api/v3) and query lives; None if unsafe."""
    parts = [p for p in path.strip("/").split("/") if p]
    if any(p in (".", "..") or "\\" in p for p in parts):
        return None
    return root.joinpath(*parts, query_key(pairs) + ".json")


def load_fixture(root: Path, path: str, pairs: list[tuple[str, str]]) -> Reply | None:
    """The recorded reply for a request, or None when no fixture matches."""
    file = fixture_file(root, path, pairs)
    if file is None or not file.is_file():
        return None
    status, headers = 200, {}
    meta = file.with_name(file.name[: -len(".json")] + ".meta.json")
    if meta.is_file():
        info = orjson.loads(meta.read_bytes())
        status = int(info.get("status", 200))
        headers = {str(k): str(v) for k, v in info.get("headers", {}).items()}
    return Reply(status, file.read_bytes(), headers)


def fixture_missing(path: str) -> Reply:
    body = {"error": f"Incorrect path. No fixture recorded for /api/v3/{path.strip('/')} with this query"}
    return Reply(404, orjson.dumps(body))


# -- building a fixtures dir -------------------------------------------------------------------


@dataclass(frozen=True)
class FixtureEntry:
    """One fixture written by :func:`build_fixtures_dir`: the request that replays ``source``."""

    request: str  # path relative to /api/v3, with query string
    source: str  # recorded file or "spec-<demo|pro>:<path>"
    file: Path
    status: int


_ROW = re.compile(r"^\| `(?P<file>[^`]+)` \|(?P<rest>.*)$")
_URL = re.compile(r"https://(?:pro-)?api\.coingecko\.com/api/v3(?P<req>/[^`\s;]*)")
_STATUS = re.compile(r"HTTP (?P<status>\d{3})")

# Recorded files whose SOURCES.md row has no request: the request they answer, as best known.
_KNOWN: dict[str, str] = {
    "categories/monkey_529_2025-03-04.json": "/coins/categories",
    "coin_detail/dashbrd_matic-network_2023-07-28.json": "/coins/matic-network",
    "coins_list/dashbrd_include_platform_2023-07.json": "/coins/list?include_platform=true",
    "coins_markets/dashbrd_250_usd_2023-07-28.json": "/coins/markets?vs_currency=usd&per_page=250",
    "coins_markets/jkorf_100_usd_2023-01-08.json": "/coins/markets?vs_currency=usd",
    "coins_markets/monkey_30_eur_2025-03-04.json": "/coins/markets?vs_currency=eur&per_page=30",
    "exchanges/monkey_2025-03.json": "/exchanges",
    "global/jkorf_2023-01.json": "/global",
    "global/jkorf_2025-04-07.json": "/global",
    # the fixture name does not say which coin; its ~$1.1 prices suggest matic-network
    "market_chart/dashbrd_1d_5min_2023-03-15.json": ("/coins/matic-network/market_chart?days=1&vs_currency=usd"),
    "trending/jkorf_2023-01.json": "/search/trending",
    "trending/jkorf_2025-05_with_nfts_categories.json": "/search/trending",
}


def recorded_requests(recorded: Path) -> list[tuple[str, str, int]]:
    """(relative file, request path+query, status) for every body listed in SOURCES.md."""
    out: list[tuple[str, str, int]] = []
    for line in (recorded / "SOURCES.md").read_text().splitlines():
        m = _ROW.match(line)
        if not m:
            continue
        rel, rest = m["file"], m["rest"]
        url = _URL.search(rest)
        status = _STATUS.search(rest)
        request = url["req"] if url else _KNOWN.get(rel)
        if request is None:
            raise ValueError(f"no request known for recorded body {rel}")
        out.append((rel, request, int(status["status"]) if status else 200))
    return out


def _split(request: str) -> tuple[str, list[tuple[str, str]]]:
    from urllib.parse import parse_qsl, unquote

    path, _, qs = request.partition("?")
    return unquote(path), parse_qsl(qs, keep_blank_values=True)


def _write(root: Path, request: str, body: bytes, status: int, taken: set[Path], tag: str) -> tuple[str, Path]:
    """Write one fixture; a request already taken gets a ``_fixture=<tag>`` parameter to stay reachable."""
    path, pairs = _split(request)
    file = fixture_file(root, path, pairs)
    assert file is not None
    if file in taken:
        pairs = [*pairs, ("_fixture", tag)]
        request = request + ("&" if "?" in request else "?") + f"_fixture={quote(tag, safe='')}"
        file = fixture_file(root, path, pairs)
        assert file is not None
    taken.add(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(body)
    if status != 200:
        file.with_name(file.name[: -len(".json")] + ".meta.json").write_text(json.dumps({"status": status}))
    return request, file


def build_fixtures_dir(dest: Path, recorded: Path | None = None, specs: list[Path] | None = None) -> list[FixtureEntry]:
    """Fill ``dest`` with every recorded body (and every OpenAPI 200 example) in fixture layout.

    Returns one entry per fixture with the request that replays it. Recorded bodies are copied
    byte for byte; spec examples are serialised with ``json.dumps`` (their bytes are ours).
    """
    entries: list[FixtureEntry] = []
    taken: set[Path] = set()
    if recorded is not None:
        for rel, request, status in recorded_requests(recorded):
            body = (recorded / rel).read_bytes()
            req, file = _write(dest, request, body, status, taken, Path(rel).stem)
            entries.append(FixtureEntry(req, rel, file, status))
    for spec in specs or []:
        for path, example in spec_examples(spec):
            tag = "spec-" + ("pro" if "pro" in spec.name else "demo")
            body = json.dumps(example, ensure_ascii=False).encode()
            req, file = _write(dest, path + f"?_fixture={tag}", body, 200, taken, tag + path.replace("/", "_"))
            entries.append(FixtureEntry(req, f"{tag}:{path}", file, 200))
    return entries


def spec_examples(spec: Path) -> list[tuple[str, object]]:
    """(concrete request path, example body) for each GET path whose 200 schema has an example."""
    import yaml  # type: ignore[import-untyped]

    doc = yaml.safe_load(spec.read_text())
    schemas = doc.get("components", {}).get("schemas", {})
    out: list[tuple[str, object]] = []
    for template, item in doc.get("paths", {}).items():
        op = item.get("get")
        if not op:
            continue
        content = op.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
        schema = content.get("schema", {})
        example = content.get("example")
        if example is None and "$ref" in schema:
            example = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {}).get("example")
        elif example is None:
            example = schema.get("example")
        if example is None:
            continue
        path = re.sub(r"\{[^}]+\}", _path_example, template)
        out.append((path, example))
    return out


def _path_example(m: re.Match[str]) -> str:
    return _PATH_EXAMPLES.get(m.group(0), "bitcoin")


_PATH_EXAMPLES = {
    "{id}": "bitcoin",
    "{contract_address}": "0x2260fac5e5542a773aa44fbcfedf7c193bc2c599",
    "{asset_platform_id}": "ethereum",
    "{coin_id}": "bitcoin",
}
