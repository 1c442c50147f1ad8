"""Every table is readable by Athena (engine v3) as an Iceberg table, as the lake creates it.

Athena reads Iceberg ``boolean int long float double decimal date string binary timestamp timestamptz``
and ``list``/``map``/``struct`` of those; it cannot read ``fixed``, ``time``, ``uuid`` or the v3 types
(``timestamp_ns``, ``variant``, ``unknown``, geospatial), and has no 8/16-bit integers for Iceberg
(https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-supported-data-types.html). Glue and
Athena fold names to lowercase, so a mixed-case column would not match its Parquet field.

The schemas are checked three ways, because each can go wrong on its own: the Arrow schema a
``TableDef`` declares (what the parsers and transforms produce), the Iceberg schema PyIceberg derives
from it (what Glue and Athena see), and that schema's ``as_arrow()`` (what the writer casts every
batch to, so what lands in the Parquet files). Tables are read from a freshly opened lake, so the
partition specs checked are the ones ``open_lake`` really creates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.schema import Schema, assign_fresh_schema_ids
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
)

from geckolake.lake.catalog import Lake, open_lake
from geckolake.lake.location import LakeSpec
from geckolake.lake.tables import TableDef, all_tables

# An allow-list rather than a deny-list: a type PyIceberg adds later (v3 types) fails until someone
# checks Athena can read it.
ATHENA_PRIMITIVES = (
    BooleanType,
    IntegerType,
    LongType,
    FloatType,
    DoubleType,
    DecimalType,
    DateType,
    StringType,
    BinaryType,
    TimestampType,
    TimestamptzType,
)
# Glue database, table and column names: lowercase letters, digits and underscores.
NAME = re.compile(r"[a-z0-9_]+")
# Athena DDL needs backticks around a table or database name that does not start with a letter.
TABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")
DEFS = all_tables()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return open_lake(tmp_path_factory.mktemp("athena") / "lake")


@pytest.fixture(scope="module")
def tables(lake: Lake) -> dict[str, Table]:
    return {name: lake.table(name) for name in lake.table_names()}


def iceberg_fields(fields: tuple[NestedField, ...], path: str = "") -> Iterator[tuple[str, IcebergType]]:
    """(dotted path, type) of every field, nested list elements, map keys/values and struct fields included."""
    for f in fields:
        yield from _walk_iceberg(f"{path}{f.name}", f.field_type)


def _walk_iceberg(path: str, typ: IcebergType) -> Iterator[tuple[str, IcebergType]]:
    yield path, typ
    if isinstance(typ, StructType):
        yield from iceberg_fields(typ.fields, f"{path}.")
    elif isinstance(typ, ListType):
        yield from _walk_iceberg(f"{path}.element", typ.element_type)
    elif isinstance(typ, MapType):
        yield from _walk_iceberg(f"{path}.key", typ.key_type)
        yield from _walk_iceberg(f"{path}.value", typ.value_type)


def arrow_fields(schema: pa.Schema) -> Iterator[tuple[str, str, pa.DataType]]:
    """(dotted path, field name, type) of every Arrow field, nested ones included."""
    for f in schema:
        yield from _walk_arrow(f.name, f.name, f.type)


def _walk_arrow(path: str, name: str, typ: pa.DataType) -> Iterator[tuple[str, str, pa.DataType]]:
    yield path, name, typ
    if pa.types.is_map(typ):
        yield from _walk_arrow(f"{path}.key", typ.key_field.name, typ.key_type)
        yield from _walk_arrow(f"{path}.value", typ.item_field.name, typ.item_type)
    elif pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
        yield from _walk_arrow(f"{path}.{typ.value_field.name}", typ.value_field.name, typ.value_type)
    elif pa.types.is_struct(typ):
        for i in range(typ.num_fields):
            child = typ.field(i)
            yield from _walk_arrow(f"{path}.{child.name}", child.name, child.type)


def arrow_problem(typ: pa.DataType) -> str | None:
    """Why Athena could not read a Parquet column of Arrow type ``typ`` for Iceberg, or None."""
    if isinstance(typ, pa.BaseExtensionType):  # arrow.uuid and friends: judged by what they store
        typ = typ.storage_type
    if pa.types.is_integer(typ) and (typ.bit_width < 32 or pa.types.is_unsigned_integer(typ)):
        return "Athena reads no 8/16-bit or unsigned integers for Iceberg (use int32/int64)"
    if pa.types.is_float16(typ):
        return "no half floats in Iceberg or Athena (use float32/float64)"
    if pa.types.is_time(typ):
        return "Athena cannot read Iceberg time"
    if pa.types.is_fixed_size_binary(typ) or pa.types.is_fixed_size_list(typ):
        return "Athena cannot read Iceberg fixed(L) / uuid"
    if pa.types.is_timestamp(typ) and typ.unit != "us":
        return f"timestamps must be microseconds (Iceberg timestamp_ns is v3; Athena cannot read it), not {typ.unit}"
    if pa.types.is_timestamp(typ) and typ.tz not in (None, "UTC", "+00:00"):
        return f"Iceberg timestamptz is UTC, not {typ.tz}"
    if pa.types.is_dictionary(typ) or pa.types.is_union(typ) or pa.types.is_duration(typ):
        return "no Iceberg type for it"
    if pa.types.is_interval(typ) or pa.types.is_null(typ):
        return "no Iceberg type for it"
    return None


def iceberg_problem(typ: IcebergType) -> str | None:
    if isinstance(typ, StructType | ListType | MapType):
        return None
    if isinstance(typ, ATHENA_PRIMITIVES):
        return None
    return f"Athena cannot read Iceberg {typ} (see this module's docstring)"


def test_the_lake_creates_exactly_the_defined_tables(tables: dict[str, Table]) -> None:
    # The checks below walk the created tables; a table left out of the lake would escape them.
    assert set(tables) == set(DEFS)
    assert len(DEFS) >= 30


@pytest.mark.parametrize("name", sorted(DEFS))
def test_declared_arrow_schema_has_only_athena_types_and_names(name: str) -> None:
    definition: TableDef = DEFS[name]
    bad = [f"{path}: {typ}: {why}" for path, _, typ in arrow_fields(definition.schema) if (why := arrow_problem(typ))]
    bad += [f"{path}: name {leaf!r} is not [a-z0-9_]" for path, leaf, _ in arrow_fields(definition.schema)
            if not NAME.fullmatch(leaf)]  # fmt: skip
    assert not bad, f"{name}:\n" + "\n".join(bad)


@pytest.mark.parametrize("name", sorted(DEFS))
def test_iceberg_schema_and_written_arrow_schema_have_only_athena_types(name: str, tables: dict[str, Table]) -> None:
    schema: Schema = tables[name].schema()
    bad = [f"{path}: {why}" for path, typ in iceberg_fields(schema.fields) if (why := iceberg_problem(typ))]
    bad += [f"{path}: name is not [a-z0-9_]" for path, _ in iceberg_fields(schema.fields)
            if not NAME.fullmatch(path.rsplit(".", 1)[-1])]  # fmt: skip
    # The writer casts each batch to this schema, so its types are the Parquet files' types
    # (large_string / large_list are Arrow-only widths: Parquet stores them as plain strings and lists).
    written = schema.as_arrow()
    bad += [f"written {path}: {typ}: {why}" for path, _, typ in arrow_fields(written) if (why := arrow_problem(typ))]
    assert not bad, f"{name}:\n" + "\n".join(bad)


@pytest.mark.parametrize("name", sorted(DEFS))
def test_the_lake_holds_the_schema_derived_from_the_definition(name: str, tables: dict[str, Table]) -> None:
    # The type checks above read the created tables: they must hold what open_lake derives from the
    # definition today, or a definition change could slip past them.
    derived = assign_fresh_schema_ids(Catalog._convert_schema_if_needed(DEFS[name].schema))
    assert derived.fields == tables[name].schema().fields


def test_table_and_database_names_are_lowercase_identifiers(tables: dict[str, Table]) -> None:
    glue = LakeSpec("s3://bucket/lake", catalog="glue", namespace_prefix="geckolake_")
    for name, table in tables.items():
        layer, _, short = name.partition(".")
        assert TABLE_NAME.fullmatch(short), f"table name {name!r}"
        assert TABLE_NAME.fullmatch(layer), f"namespace {layer!r}"
        # The name Athena and Glue see: geckolake_<layer>.<table>.
        assert TABLE_NAME.fullmatch(glue.namespace(layer)), glue.namespace(layer)
        assert table.name()[-1] == short


@pytest.mark.parametrize("name", sorted(n for n, d in DEFS.items() if d.partition))
def test_partitions_are_identity_on_a_top_level_date_or_string_column(name: str, tables: dict[str, Table]) -> None:
    # Athena prunes identity partitions on a date or string the way users filter (WHERE date = ...,
    # WHERE month = '2026-01'); a transform on a timestamptz would need Athena to apply it itself.
    table = tables[name]
    spec = table.spec()
    assert len(spec.fields) == 1, spec
    (field,) = spec.fields
    assert isinstance(field.transform, IdentityTransform), f"{name}: {field.transform}"
    source = table.schema().find_field(field.source_id)
    assert source.name == DEFS[name].partition == field.name
    top_level = {f.field_id for f in table.schema().fields}
    assert source.field_id in top_level, f"{name}: the partition column {source.name} is nested"
    assert isinstance(source.field_type, DateType | StringType), f"{name}: partition on {source.field_type}"


def test_unpartitioned_tables_are_unpartitioned(tables: dict[str, Table]) -> None:
    for name, definition in DEFS.items():
        if definition.partition is None:
            assert tables[name].spec().is_unpartitioned(), name
