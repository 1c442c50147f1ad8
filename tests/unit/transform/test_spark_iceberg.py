"""Which Spark sessions write the lake's tables themselves: only one with an Iceberg catalog named as
the lake's catalog and pointing at it (``spark_iceberg.catalog_for``); any other keeps the driver path."""

from __future__ import annotations

from pathlib import Path

import pytest

from geckolake.errors import ConfigError
from geckolake.lake.location import LakeSpec
from geckolake.transform.spark_iceberg import GLUE_CATALOG_IMPL, SPARK_CATALOG, catalog_for, local_catalog_conf


def test_the_local_catalog_settings_select_the_lake_and_others_do_not(tmp_path: Path) -> None:
    spec = LakeSpec(location=str(tmp_path / "lake"))
    own = local_catalog_conf(spec)
    assert own["spark.sql.catalog.geckolake.uri"] == f"jdbc:sqlite:{tmp_path / 'lake' / 'catalog.db'}"
    assert catalog_for(own.get, spec) == "geckolake"
    elsewhere = {**own, "spark.sql.catalog.geckolake.uri": "jdbc:sqlite:/elsewhere/catalog.db"}
    assert catalog_for(elsewhere.get, spec) is None
    assert catalog_for({}.get, spec) is None  # a plain session (no Iceberg)
    renamed = {k.replace(".geckolake", ".other"): v for k, v in own.items()}
    assert catalog_for(renamed.get, spec) is None


def test_on_glue_the_catalog_must_be_glue_with_the_lakes_warehouse() -> None:
    spec = LakeSpec(location="s3://bucket/lake", catalog="glue", namespace_prefix="geckolake_")
    glue = {
        "spark.sql.catalog.geckolake": SPARK_CATALOG,
        "spark.sql.catalog.geckolake.catalog-impl": GLUE_CATALOG_IMPL,
        "spark.sql.catalog.geckolake.warehouse": "s3://bucket/lake/warehouse/",
    }
    assert catalog_for(glue.get, spec) == "geckolake"
    assert catalog_for({**glue, "spark.sql.catalog.geckolake.warehouse": "s3://other/wh"}.get, spec) is None
    with pytest.raises(ConfigError, match="local lake with its SQLite catalog"):
        local_catalog_conf(spec)
