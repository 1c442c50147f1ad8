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
