"""The outcome of parsing one body, and the helpers that assemble its tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
import pyarrow as pa

from geckolake.lake.bronze import LINEAGE_FIELDS, QUARANTINE_SCHEMA, TS
from geckolake.lake.lineage import Lineage
from geckolake.transform.bronze.coerce import RecordError, datetime_to_us
from geckolake.transform.bronze.required import REQUIRED_PREFIX, MissingPart

Outcome = Literal["ok", "incomplete", "quarantined"]


@dataclass
class ParseResult:
    """Rows parsed from one response body.

    ``tables`` maps a bronze table name to the rows from this body (schema exactly
    ``BRONZE_SCHEMAS[name]``); the endpoint's table is always present, possibly empty.
    ``quarantine`` holds rejected records (or the whole body) with ``QUARANTINE_SCHEMA``, or None.
    ``ok`` is False when the whole body was unusable (``reason`` says why). ``points`` counts the
    rows parsed. ``missing``: each required or documented part the body lacked (schema drift,
    :mod:`~geckolake.transform.bronze.required`) → how many records lacked it (1 for a part of the
    body); ``required_missing`` names the required ones (their records, or the body, are quarantined).
    """

    tables: dict[str, pa.Table]
    quarantine: pa.Table | None = None
    ok: bool = True
    points: int = 0
    missing: dict[str, int] = field(default_factory=dict)
    required_missing: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def outcome(self) -> Outcome:
        """The call's outcome in ``ops.raw_manifest``: ``quarantined`` (the whole body is unusable),
        ``incomplete`` (the body lacked a required or documented part), else ``ok``. Only ``ok``
        calls count as done for the planner."""
        if not self.ok:
            return "quarantined"
        return "incomplete" if self.missing else "ok"

    @property
    def problem(self) -> str | None:
        """Why the call is not ``ok`` (the manifest's ``error``): the whole-body reason, or the
        missing parts, required first (``missing required: current_price (1 record); missing: …``)."""
        if not self.ok:
            return self.reason
        if not self.missing:
            return None
        required = [p for p in self.missing if p in self.required_missing]
        documented = [p for p in self.missing if p not in self.required_missing]
        parts = [
            prefix + ", ".join(f"{p} ({self.missing[p]} record{'s' * (self.missing[p] != 1)})" for p in names)
            for prefix, names in ((REQUIRED_PREFIX, required), ("missing: ", documented))
            if names
        ]
        return "; ".join(parts)


@dataclass
class Quarantine:
    """Collects rejected records of one body."""

    endpoint: str
    default_coin_id: str | None = None
    reasons: list[str] = field(default_factory=list)
    records: list[str | None] = field(default_factory=list)
    coin_ids: list[str | None] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)  # part → records of the body that lacked it
    required: set[str] = field(default_factory=set)  # the required parts among them

    def add(self, reason: str, record: Any = None, *, whole_body: bool = False, coin_id: Any = None) -> None:
        self.reasons.append(reason)
        self.records.append(None if whole_body else dump_json(record))
        cid = coin_id if isinstance(coin_id, str) and coin_id else self.default_coin_id
        self.coin_ids.append(cid)

    def reject(self, error: RecordError, record: Any, *, coin_id: Any = None) -> None:
        """Quarantine ``record`` for ``error``; a missing required field is also counted as missing."""
        if isinstance(error, MissingPart):
            self.lacks(error.parts, required=True)
        self.add(str(error), record, coin_id=coin_id)

    def lacks(self, parts: Iterable[str], *, required: bool = False) -> None:
        """One record lacked ``parts`` (schema drift)."""
        for part in parts:
            self.missing[part] = self.missing.get(part, 0) + 1
            if required:
                self.required.add(part)

    def __len__(self) -> int:
        return len(self.reasons)

    def to_table(self, lineage: Lineage) -> pa.Table | None:
        n = len(self.reasons)
        if n == 0:
            return None
        columns = [
            pa.array([self.endpoint] * n, pa.string()),
            pa.array(self.reasons, pa.string()),
            pa.array(self.records, pa.string()),
            pa.array(self.coin_ids, pa.string()),
            pa.array([lineage.raw_path] * n, pa.string()),
            pa.array([lineage.raw_sha256] * n, pa.string()),
            pa.array([lineage.run_id] * n, pa.string()),
            pa.array([datetime_to_us(lineage.fetched_at)] * n, TS),
        ]
        return pa.Table.from_arrays(columns, schema=QUARANTINE_SCHEMA)


def dump_json(record: Any) -> str:
    """The record as compact JSON text (never fails: unknown objects are written with ``str``)."""
    return orjson.dumps(record, default=str).decode()


def lineage_arrays(lineage: Lineage, n: int) -> list[pa.Array]:
    """The four lineage columns, ``n`` rows each."""
    values: Sequence[Any] = (
        lineage.run_id,
        datetime_to_us(lineage.fetched_at),
        lineage.raw_sha256,
        lineage.raw_path,
    )
    return [constant_array(v, f.type, n) for v, f in zip(values, LINEAGE_FIELDS, strict=True)]


def constant_array(value: Any, dtype: pa.DataType, n: int) -> pa.Array:
    """``n`` copies of one value (``pa.repeat`` fills the buffer in C: ~100× a Python list)."""
    return pa.repeat(pa.scalar(value, dtype), n)


def table_from_columns(
    schema: pa.Schema, columns: Mapping[str, Sequence[Any] | pa.Array], lineage: Lineage
) -> pa.Table:
    """Assemble a bronze table: ``columns`` holds every non-lineage column as a list or Arrow array."""
    n_data = len(schema) - len(LINEAGE_FIELDS)
    arrays: list[pa.Array] = []
    n = 0
    for f in list(schema)[:n_data]:
        values = columns[f.name]
        arr = values if isinstance(values, pa.Array) else pa.array(values, f.type)
        if arr.type != f.type:
            arr = arr.cast(f.type)
        arrays.append(arr)
        n = len(arr)
    arrays.extend(lineage_arrays(lineage, n))
    return pa.Table.from_arrays(arrays, schema=schema)


class RowBuilder:
    """Accumulates row dicts column by column for one schema."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.names = [f.name for f in list(schema)[: len(schema) - len(LINEAGE_FIELDS)]]
        self.columns: dict[str, list[Any]] = {name: [] for name in self.names}
        self.count = 0

    def add(self, row: dict[str, Any]) -> None:
        for name in self.names:
            self.columns[name].append(row.get(name))
        self.count += 1

    def to_table(self, lineage: Lineage) -> pa.Table:
        return table_from_columns(self.schema, self.columns, lineage)
