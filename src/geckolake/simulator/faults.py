"""Fault injection, decided by (seed, request sequence number) so a run is reproducible.

Kinds: ``500`` (5xx body), ``timeout`` (answer after ``timeout_s``), ``malformed`` (invalid JSON,
status 200), ``truncated`` (Content-Length larger than the bytes sent), ``drift`` (an extra field,
a missing field, or a number sent as a string).

A drift acts on the first *record* of the body: the first object of a list (a markets row, a
category, a listed coin), the one object an envelope holds (``/global``'s ``data``), the first
coin's quotes of ``/simple/price``, or the body itself (a chart, trending). The missing field is
that record's last one, whatever it is: an optional window of a markets row, or a chart's
``total_volumes``, which geckolake must not take for an answer (docs/bronze.md, "Required parts").
"""

from __future__ import annotations

from typing import Any

import orjson

from geckolake.simulator.config import FAULT_KINDS
from geckolake.simulator.hashing import key_of, unit


class FaultPlan:
    """Maps the n-th eligible request to a fault kind (or None) at the configured rates."""

    def __init__(self, rates: dict[str, float], seed: int) -> None:
        self._bands: list[tuple[float, str]] = []
        edge = 0.0
        for kind in FAULT_KINDS:
            if rates.get(kind):
                edge += rates[kind]
                self._bands.append((edge, kind))
        self._key = key_of(seed, "faults")

    @property
    def active(self) -> bool:
        return bool(self._bands)

    def kind_for(self, seq: int) -> str | None:
        if not self._bands:
            return None
        u = unit(self._key, seq)
        for edge, kind in self._bands:
            if u < edge:
                return kind
        return None


MALFORMED = b'{"error": "upstream", "data": [1, 2, '


def drift(body: bytes, seq: int) -> bytes:
    """Return ``body`` with one schema drift applied; variant chosen by ``seq``."""
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    target = _first_dict(obj)
    variant = seq % 3
    if target is None or variant == 2:
        if not _stringify_first_number(obj):
            return body[:-1] + b" " + body[-1:] if body else body
        return orjson.dumps(obj)
    if variant == 0 or len(target) < 2:
        target["sim_new_field"] = {"added": True}
    else:
        target.pop(list(target)[-1])  # the record's last field, required or not, as real drift does
    return orjson.dumps(obj)


def _first_dict(obj: Any) -> dict[str, Any] | None:
    if isinstance(obj, dict):
        # An envelope ({"data": {...}}) or a body keyed by coin id ({"bitcoin": {...}}): dropping a
        # key there would drop a whole record (a coin CoinGecko may omit), not a field of one.
        if obj and all(isinstance(v, dict) for v in obj.values()):
            first: dict[str, Any] = next(iter(obj.values()))
            return first
        return obj
    if isinstance(obj, list) and obj and isinstance(obj[0], dict):
        return obj[0]
    return None


def _stringify_first_number(obj: Any) -> bool:
    stack = [obj]
    while stack:
        node = stack.pop(0)
        items = (
            list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
        )
        for k, v in items:
            if isinstance(v, int | float) and not isinstance(v, bool):
                node[k] = str(v)
                return True
            if isinstance(v, dict | list):
                stack.append(v)
    return False
