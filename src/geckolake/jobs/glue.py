"""The AWS Glue 5.0 job: ``replay`` (or ``run``) with silver and gold computed on Glue's Spark.

Glue starts the script with its own arguments and the job's (``--JOB_NAME geckolake-replay
--lake s3://bucket/lake --command replay ...``), as ``--key value`` pairs. :func:`parse_args` reads
ours and ignores Glue's (``--TempDir``, ``--job-bookmark-option``, ...), as ``awsglue``'s
``getResolvedOptions`` would; we parse ``sys.argv`` ourselves so the job needs no ``awsglue``
import and can be tested anywhere. The script Glue runs is two lines::

    from geckolake.jobs.glue import main
    main()

Settings resolve as for the CLI (job arguments > ``GECKOLAKE_*`` environment > ``--config`` file >
defaults) with ``[transform] engine = "spark"`` forced: the job's own SparkSession (Glue's) computes
silver and gold, and the lake's writer commits them (docs/spark.md says which write path is covered).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from geckolake import flows
from geckolake.config import Settings, load_settings
from geckolake.errors import ConfigError
from geckolake.ingest.pipeline import EXIT_CODES
from geckolake.transform.spark_engine import build_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

Command = Literal["replay", "run"]
COMMANDS: tuple[Command, ...] = ("replay", "run")
# Job arguments that become Settings fields (Glue argument names use letters, digits and _ or -).
SETTING_ARGS: dict[str, str] = {
    "lake": "lake",
    "plan": "plan",
    "vs_currency": "vs_currency",
    "coins": "coins",
    "history_coins": "history_coins",
    "history_days": "history_days",
    "hourly_days": "hourly_days",
    "as_of": "as_of",
}
_OWN = {"JOB_NAME", "command", "config", "log_level", *SETTING_ARGS}


@dataclass(frozen=True)
class GlueArgs:
    """The job's arguments that geckolake reads; Glue's own are ignored."""

    job_name: str
    command: Command = "replay"
    config: Path | None = None
    log_level: str = "INFO"
    settings: dict[str, str] = field(default_factory=dict)


def parse_args(argv: Sequence[str]) -> GlueArgs:
    """Our arguments among ``argv`` (``sys.argv[1:]``): ``--key value`` or ``--key=value``; a dash in
    a key reads as an underscore (``--as-of``), others' keys are skipped with their values.

    Raises:
        ConfigError: no ``--JOB_NAME``, an unknown ``--command``, or one of ours without a value.
    """
    values: dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if not token.startswith("--"):
            continue
        key, eq, value = token[2:].partition("=")
        key = key if key == "JOB_NAME" else key.replace("-", "_")
        if not eq:
            if i >= len(argv) or argv[i].startswith("--"):
                if key in _OWN:
                    raise ConfigError(f"job argument --{key} has no value", hint="pass it as --key value")
                continue  # a flag of Glue's own
            value = argv[i]
            i += 1
        if key in _OWN:
            values[key] = value
    if "JOB_NAME" not in values:
        raise ConfigError("no --JOB_NAME among the job arguments", hint="Glue passes it; pass --JOB_NAME when testing")
    command = values.get("command", "replay")
    if command not in COMMANDS:
        raise ConfigError(f"unknown --command {command!r}", hint=f"use one of {', '.join(COMMANDS)}")
    return GlueArgs(
        job_name=values["JOB_NAME"],
        command=cast(Command, command),
        config=Path(values["config"]) if "config" in values else None,
        log_level=values.get("log_level", "INFO").upper(),
        settings={SETTING_ARGS[k]: v for k, v in values.items() if k in SETTING_ARGS},
    )


def job_settings(args: GlueArgs) -> Settings:
    """The job's Settings, with the spark engine.

    Raises:
        ConfigError: a value is invalid.
    """
    flags: dict[str, object] = dict(args.settings)
    if "as_of" in flags:
        flags["as_of"] = datetime.fromisoformat(str(flags["as_of"]))
    flags["transform"] = {"engine": "spark"}
    return load_settings(args.config, **flags)


def main(argv: Sequence[str] | None = None, *, spark: SparkSession | None = None) -> int:
    """Run the job named by ``argv`` (default ``sys.argv[1:]``) on ``spark`` (default: the session
    Glue provides, through ``SparkSession.builder.getOrCreate()``). Returns the exit code
    (``geckolake run``'s for a run; 0 for a replay, which raises when it fails).

    Raises:
        ConfigError: invalid job arguments or settings.
        GeckolakeError: whatever the flow raises (Glue marks the job run failed).
    """
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=getattr(logging, args.log_level, logging.INFO), force=True)
    settings = job_settings(args)
    session = spark or build_session(master=None, app_name=args.job_name)
    log.info("geckolake %s on lake %s (job %s)", args.command, settings.lake, args.job_name)
    if args.command == "replay":
        result = flows.replay(settings, spark=session)
        log.info("replayed %d raw files in %.1fs: %s", result.files, result.seconds, result.rows)
    else:
        outcome = flows.run(settings, spark=session)  # each batch merged on the job's session
        log.info("run %s: %s", outcome.run_id, outcome.status)
        return EXIT_CODES.get(outcome.status, 1)  # the CLI's codes: 3 = partial, the next run finishes
    return 0


if __name__ == "__main__":
    sys.exit(main())
