"""The transform engine: ``--engine`` / ``GECKOLAKE_ENGINE`` > ``[transform] engine`` > duckdb."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from geckolake.cli import app
from geckolake.config import load_settings


def test_the_default_engine_is_duckdb() -> None:
    assert load_settings().transform.engine == "duckdb"


def test_the_flag_sets_the_engine_and_keeps_the_files_other_transform_fields(tmp_path: Path) -> None:
    config = tmp_path / "geckolake.toml"
    config.write_text('[transform]\nengine = "duckdb"\nspark_master = "local[2]"\n')
    # what `--engine spark` becomes (cli/options.py: SECTION_OPTIONS)
    settings = load_settings(config, transform={"engine": "spark"})
    assert (settings.transform.engine, settings.transform.spark_master) == ("spark", "local[2]")


@pytest.mark.parametrize(("args", "env"), [(["--engine", "sparky"], {}), ([], {"GECKOLAKE_ENGINE": "sparky"})])
def test_an_unknown_engine_is_one_error_line_naming_the_setting(args: list[str], env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["replay", *args], env=env)
    assert result.exit_code == 1
    assert "error: invalid settings: transform.engine: Input should be 'duckdb' or 'spark'" in result.output
