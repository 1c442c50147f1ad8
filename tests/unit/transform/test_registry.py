"""The model registry: every SQL header agrees with its table's definition and with its own SQL."""

from __future__ import annotations

import pytest
from sqlglot import exp

from geckolake.errors import LakeError
from geckolake.lake.tables import all_tables
from geckolake.transform import merge
from geckolake.transform.dialect import parse
from geckolake.transform.registry import Model, batch_inputs, models, parse_header, silver_models

MODELS = list(models().values())


@pytest.mark.parametrize("spec", MODELS, ids=lambda m: m.name)
def test_every_header_states_its_tables_key_partition_and_grain(spec: Model) -> None:
    tdef = all_tables()[spec.table]
    assert (spec.key, spec.partition, spec.grain) == (tdef.key, tdef.partition, tdef.grain)


@pytest.mark.parametrize("spec", MODELS, ids=lambda m: m.name)
def test_every_header_lists_exactly_the_relations_its_sql_reads(spec: Model) -> None:
    tree = parse(spec.sql)
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    read = {t.name for t in tree.find_all(exp.Table)} - ctes
    assert read == set(spec.inputs)


@pytest.mark.parametrize("spec", MODELS, ids=lambda m: m.name)
def test_a_model_that_merges_itself_reads_its_existing_rows(spec: Model) -> None:
    assert ("existing" in spec.inputs) == (spec.merge == "model")


def test_every_silver_and_run_gold_table_has_a_model() -> None:
    tables = {m.table for m in MODELS}
    assert {n for n in all_tables() if n.startswith("silver.")} <= tables
    assert {"gold.coin_aggregates", "gold.coin_daily"} <= tables


def test_the_registry_gives_the_runner_its_lists() -> None:
    assert [m.stem for m in silver_models("partitions")] == ["market_snapshots", "price_history", "sparkline_prices"]
    assert [m.stem for m in silver_models("whole")] == ["categories", "category_members", "global_market"]
    assert [m.stem for m in silver_models("model")] == ["coins", "trending"]
    assert [m.stem for m in silver_models("partitions", job="prices")] == ["live_prices"]
    # the prices poll's bronze is not a batch input: a run's batches neither merge nor recover it
    assert set(batch_inputs()) == {
        "coins_markets", "market_chart", "coins_list", "global_market", "categories", "trending",
    }  # fmt: skip
    assert batch_inputs() == merge.SILVER_INPUTS


def test_a_header_without_a_required_field_is_refused() -> None:
    with pytest.raises(LakeError, match="lacks merge"):
        parse_header("-- model: silver.x\n-- grain: g\n-- key: a\n-- partition: none\n-- inputs: t\nSELECT 1", "x")
    with pytest.raises(LakeError, match="not allowed"):
        parse_header(
            "-- model: silver.x\n-- grain: g\n-- key: a\n-- partition: none\n-- inputs: t\n-- merge: upsert\nSELECT 1",
            "x",
        )


def test_the_header_ends_at_the_first_other_line() -> None:
    spec = parse_header(
        "-- model: gold.x\n-- table: gold.y\n-- grain: g\n-- key: a, b\n-- partition: month\n-- inputs: p, q\n"
        "-- merge: recompute\n-- key: prose that looks like a field\nSELECT 1",
        "x",
    )
    assert spec == Model("gold.x", "gold.y", "g", ("a", "b"), "month", ("p", "q"), "recompute")
