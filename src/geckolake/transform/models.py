"""SQL models shipped as package data: ``transform/silver/*.sql`` and ``transform/gold/*.sql``.

Each file is one DuckDB ``SELECT`` with a header comment declaring its grain, key, partition and
input relations; the runner registers those relations (Arrow tables or views) and runs it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

Layer = Literal["silver", "gold"]


@cache
def load_sql(layer: Layer, model: str) -> str:
    """The text of model ``model`` of ``layer`` (e.g. ``load_sql("silver", "price_history")``)."""
    return resources.files(f"geckolake.transform.{layer}").joinpath(f"{model}.sql").read_text("utf-8")


def header(layer: Layer, model: str) -> dict[str, str]:
    """The ``-- name: value`` header fields (model, grain, key, partition, input(s)) of a model."""
    out: dict[str, str] = {}
    for line in load_sql(layer, model).splitlines():
        if not line.startswith("--"):
            break
        name, sep, value = line[2:].strip().partition(":")
        if sep and name.strip() in ("model", "grain", "key", "partition", "input", "inputs"):
            out[name.strip()] = value.strip()
    return out
