"""The model registry: every SQL model with what its header declares, so the runner reads data, not code.

A model is one ``SELECT`` in ``transform/<layer>/<name>.sql`` that opens with a header of
``-- field: value`` lines (the first line that is not one, or repeats a field, ends it; prose
may follow)::

    -- model: silver.price_history
    -- grain: one row per market_chart point (coin, currency, time, granularity)
    -- key: coin_id, vs_currency, ts, granularity
    -- partition: month
    -- inputs: bronze_market_chart
    -- merge: partitions

``table`` (default: the model's name) names the table a model feeds when it is one step of it
(``gold.coin_daily_returns`` feeds ``gold.coin_daily``); ``job`` (default ``run``) says which job
merges it: ``run`` (a run's batches, :func:`geckolake.transform.runner.apply_batch`) or ``prices``
(the prices poll). ``merge`` is how its rows reach the table:

=============  ======================================================================================
``partitions``  one row per key (latest fetch wins), merged with the partitions it touches, which
                are overwritten
``whole``       one row per key (latest fetch wins), merged with the whole (small) table, rewritten
``model``       the SQL merges with the ``existing`` relation itself; the table is rewritten whole
``recompute``   gold: recomputed for the groups a batch touched; their partitions are overwritten
=============  ======================================================================================

``tests/unit/transform/test_registry.py`` checks every header against its ``TableDef``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal, cast, get_args

from geckolake.errors import LakeError
from geckolake.transform.models import Layer, load_sql

Merge = Literal["partitions", "whole", "model", "recompute"]
Job = Literal["run", "prices"]
LAYER_NAMES: tuple[Layer, ...] = ("silver", "gold")
_REQUIRED = ("model", "grain", "key", "partition", "inputs", "merge")
_OPTIONAL = ("table", "job")
_FIELD = re.compile(r"^--\s*([a-z_]+):\s*(.*?)\s*$")


@dataclass(frozen=True)
class Model:
    """One SQL model as its header declares it."""

    name: str  # "<layer>.<file stem>", e.g. "silver.price_history"
    table: str  # the table it feeds ("gold.coin_daily" for gold.coin_daily_returns)
    grain: str
    key: tuple[str, ...]
    partition: str | None
    inputs: tuple[str, ...]  # relations the SQL reads, registered by the runner
    merge: Merge
    job: Job = "run"

    @property
    def layer(self) -> Layer:
        return cast(Layer, self.name.split(".", 1)[0])

    @property
    def stem(self) -> str:
        """The file's name without ``.sql`` (what :func:`load_sql` takes)."""
        return self.name.split(".", 1)[1]

    @property
    def sql(self) -> str:
        return load_sql(self.layer, self.stem)

    @property
    def bronze_inputs(self) -> tuple[str, ...]:
        """The bronze endpoints it reads (``bronze_coins_markets`` → ``coins_markets``)."""
        return tuple(i.removeprefix("bronze_") for i in self.inputs if i.startswith("bronze_"))


def parse_header(text: str, where: str) -> Model:
    """The :class:`Model` declared by the header of SQL ``text`` (``where`` names it in errors).

    Raises:
        LakeError: a required field is missing, a field is unknown, or a value is not allowed.
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        match = _FIELD.match(line)
        if match is None or match.group(1) not in _REQUIRED + _OPTIONAL or match.group(1) in fields:
            break
        fields[match.group(1)] = match.group(2)
    missing = [f for f in _REQUIRED if f not in fields]
    if missing:
        raise LakeError(f"model {where}: header lacks {', '.join(missing)}", hint="see transform/registry.py")
    merge, job = fields["merge"], fields.get("job", "run")
    if merge not in get_args(Merge) or job not in get_args(Job):
        raise LakeError(f"model {where}: merge {merge!r} / job {job!r} not allowed", hint="see transform/registry.py")
    name = fields["model"]
    partition = fields["partition"]
    return Model(
        name=name,
        table=fields.get("table", name),
        grain=fields["grain"],
        key=_names(fields["key"]),
        partition=None if partition == "none" else partition,
        inputs=_names(fields["inputs"]),
        merge=cast(Merge, merge),
        job=cast(Job, job),
    )


def _names(value: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in value.split(",") if n.strip())


@cache
def models() -> dict[str, Model]:
    """Every model by name, silver first, each layer in file-name order.

    Raises:
        LakeError: a header is malformed, or names a model other than its file.
    """
    out: dict[str, Model] = {}
    for layer in LAYER_NAMES:
        files = sorted(
            f.name for f in resources.files(f"geckolake.transform.{layer}").iterdir() if f.name.endswith(".sql")
        )
        for file in files:
            stem = file.removesuffix(".sql")
            model = parse_header(load_sql(layer, stem), f"{layer}/{file}")
            if model.name != f"{layer}.{stem}":
                raise LakeError(f"model {layer}/{file} declares {model.name}", hint="name it after its file")
            out[model.name] = model
    return out


def silver_models(merge: Merge, *, job: Job = "run") -> tuple[Model, ...]:
    """The silver models of ``job`` merged the ``merge`` way."""
    return tuple(m for m in models().values() if m.layer == "silver" and m.merge == merge and m.job == job)


def batch_inputs() -> tuple[str, ...]:
    """Bronze endpoints a run's batches merge into silver (what a batch registers and recovers)."""
    seen: dict[str, None] = {}
    for m in models().values():
        if m.layer == "silver" and m.job == "run":
            seen.update(dict.fromkeys(m.bronze_inputs))
    return tuple(seen)


def model(name: str) -> Model:
    """The model called ``name`` ("gold.coin_daily").

    Raises:
        LakeError: there is no such model.
    """
    try:
        return models()[name]
    except KeyError:
        raise LakeError(f"no model {name}", hint=f"models: {', '.join(models())}") from None
