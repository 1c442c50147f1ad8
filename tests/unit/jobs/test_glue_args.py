"""The Glue job reads its own arguments among Glue's and builds the settings with the spark engine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from geckolake.errors import ConfigError
from geckolake.jobs.glue import GlueArgs, job_settings, parse_args

GLUE_ARGV = [
    "--JOB_NAME", "geckolake-replay",
    "--job-bookmark-option", "job-bookmark-disable",
    "--TempDir", "s3://bucket/tmp",
    "--enable-metrics",
    "--lake", "/data/lake",
    "--command", "replay",
    "--as-of=2026-11-20T12:00:00+00:00",
]  # fmt: skip


def test_our_arguments_are_read_and_glues_own_are_skipped() -> None:
    assert parse_args(GLUE_ARGV) == GlueArgs(
        job_name="geckolake-replay",
        command="replay",
        settings={"lake": "/data/lake", "as_of": "2026-11-20T12:00:00+00:00"},
    )


def test_the_command_defaults_to_replay_and_config_log_level_are_read() -> None:
    args = parse_args(["--JOB_NAME", "j", "--config", "geckolake.toml", "--log_level", "debug", "--command", "run"])
    assert (args.command, args.config, args.log_level) == ("run", Path("geckolake.toml"), "DEBUG")
    assert parse_args(["--JOB_NAME", "j"]).command == "replay"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lake", "x"], "no --JOB_NAME"),
        (["--JOB_NAME", "j", "--command", "forecast"], "unknown --command 'forecast'"),
        (["--JOB_NAME", "j", "--lake"], "--lake has no value"),
        (["--JOB_NAME", "j", "--lake", "--command", "run"], "--lake has no value"),
    ],
)
def test_bad_job_arguments_are_named(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_args(argv)


def test_the_job_settings_use_the_spark_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GECKOLAKE_CONFIG", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no geckolake.toml here
    settings = job_settings(parse_args(GLUE_ARGV))
    assert settings.transform.engine == "spark"
    assert settings.lake == "/data/lake"
    assert settings.as_of == datetime(2026, 11, 20, 12, tzinfo=UTC)
