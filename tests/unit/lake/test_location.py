"""Where a lake lives: locations and catalog choices as users write them."""

from __future__ import annotations

from pathlib import Path

import pytest

from geckolake.config import Settings, load_settings
from geckolake.errors import ConfigError, LakeError
from geckolake.lake.location import lake_spec, parse_location


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3://bucket/some/prefix/", "s3://bucket/some/prefix"),
        ("s3a://bucket/p", "s3://bucket/p"),
        ("s3://bucket", "s3://bucket"),
    ],
)
def test_s3_uris_are_kept_as_uris(text: str, expected: str) -> None:
    assert parse_location(text) == expected


def test_local_paths_and_file_uris_become_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_location("lake") == str(tmp_path / "lake")
    assert parse_location((tmp_path / "a b").as_uri()) == str(tmp_path / "a b")


@pytest.mark.parametrize("text", ["gs://bucket/lake", "s3:///nobucket", "file://host/x"])
def test_unsupported_locations_say_what_to_use(text: str) -> None:
    with pytest.raises(LakeError, match=r"s3://bucket|file:///abs/path"):
        parse_location(text)


def test_default_catalogs_follow_the_location(tmp_path: Path) -> None:
    local = lake_spec(Settings(lake=tmp_path))
    assert (local.catalog, local.namespace("gold")) == ("sqlite", "gold")
    remote = lake_spec(Settings(lake="s3://b/lake"))
    assert (remote.catalog, remote.namespace("gold")) == ("glue", "geckolake_gold")
    team = lake_spec(Settings(lake="s3://b/lake", catalog="sql", catalog_uri="postgresql+psycopg://h/db"))
    assert (team.catalog, team.namespace("gold")) == ("sql", "gold")


def test_impossible_catalog_choices_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LakeError, match="GECKOLAKE_CATALOG_URI"):
        lake_spec(Settings(lake=tmp_path, catalog="sql"))
    with pytest.raises(LakeError, match="is not one"):
        lake_spec(Settings(lake="s3://b/lake", catalog="sqlite"))


def test_the_lake_table_in_geckolake_toml(tmp_path: Path) -> None:
    path = tmp_path / "geckolake.toml"
    path.write_text('[lake]\nlocation = "s3://team-bucket/lake"\ncatalog = "glue"\nglue_database_prefix = "mkt_"\n')
    spec = lake_spec(load_settings(path))
    assert (spec.location, spec.catalog, spec.namespace("ops")) == ("s3://team-bucket/lake", "glue", "mkt_ops")
    path.write_text('[lake]\nwhere = "x"\n')
    with pytest.raises(ConfigError, match="unknown key 'where'"):
        load_settings(path)


def test_environment_names_from_the_docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GECKOLAKE_LAKE", str(tmp_path))
    monkeypatch.setenv("GECKOLAKE_CATALOG", "sql")
    monkeypatch.setenv("GECKOLAKE_CATALOG_URI", "postgresql+psycopg://u@h/db")
    spec = lake_spec(load_settings())
    assert (spec.catalog, spec.catalog_uri, spec.location) == ("sql", "postgresql+psycopg://u@h/db", str(tmp_path))
