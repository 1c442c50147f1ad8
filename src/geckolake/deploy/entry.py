"""The process entry point of every deployed job: a Glue job's script or a Lambda function's handler.

This is geckolake's only Glue entry point: it owns the job parameters and the dispatch to the flows.
Both forms resolve ``Settings`` exactly as the CLI does (``load_settings``: environment, then the
defaults), run one job of ``deploy.jobs`` and publish its metrics (``deploy.cloudwatch``).

* Glue passes job parameters as ``--NAME value`` (or ``--NAME=value``) pairs. ``--geckolake-job``
  names the job (``run``, ``forecast``, ``check``, ``replay``, ``maintenance``, ...),
  ``--metrics-namespace`` the CloudWatch namespace; every ``--GECKOLAKE_*``, ``--COINGECKO_*`` or
  ``--AWS_*`` pair becomes an environment variable first; ``--engine duckdb|spark`` says where silver
  and gold are computed (``spark``: on the Glue job's own Spark, ``[transform] spark_master =
  "cluster"``; absent: as the settings say, DuckDB by default); ``--lock-wait-seconds`` is how long
  the job waits for a locked lake; ``--JOB_NAME`` (Glue's) is logged; Glue's other arguments are
  ignored. The script ``deploy/aws/jobs/glue_entry.py`` calls
  ``glue_main(sys.argv[1:])`` and exits with its code if not 0.
* Lambda: ``geckolake.deploy.entry.handler``, the event ``{"job": "prices"}``, settings from the
  function's environment (``GECKOLAKE_METRICS_NAMESPACE`` for the namespace).

A failed job exits 1 (Glue) or raises (Lambda), so Step Functions, the schedules' retry and the
``JobFailed`` alarm see it; the error line never contains the key (logs are redacted as the CLI's).

Deployed jobs run concurrently, unlike the local scheduler's, so a job may find the lake's writer
lock held (``LakeLocked``, raised before any work). :class:`OnLocked` says what it does then: a Glue
job (a daily step, maintenance) tries again for up to 15 minutes (``--lock-wait-seconds``); a Lambda
poll tries for a minute and then skips this fire (``JobSkipped``): the next one is minutes away.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

from geckolake.api.redaction import install as install_redaction
from geckolake.config import load_settings
from geckolake.deploy import cloudwatch
from geckolake.deploy.jobs import Outcome, outcome, runner
from geckolake.errors import ConfigError, GeckolakeError, LakeLocked

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

ENV_PREFIXES = ("GECKOLAKE_", "COINGECKO_", "AWS_")
Engine = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = get_args(Engine)
# ``[transform] spark_master`` that leaves the session to the cluster: on Glue, ``getOrCreate`` returns
# the job's own (spark_engine.CLUSTER; not imported, so a DuckDB job never loads the Spark module).
CLUSTER_MASTER = "cluster"


@dataclass(frozen=True)
class OnLocked:
    """What a job does when another job holds the lake's writer lock: try again for ``wait_s``
    seconds, then fail — or, with ``skip``, succeed without running."""

    wait_s: float = 0.0
    skip: bool = False


GLUE_ON_LOCKED = OnLocked(wait_s=900.0)
LAMBDA_ON_LOCKED = OnLocked(wait_s=60.0, skip=True)
RETRY_EVERY_S = 15.0


@dataclass(frozen=True)
class GlueArgs:
    """What a Glue job's parameters ask for; Glue's own parameters are not kept."""

    job: str
    namespace: str
    env: dict[str, str]
    on_locked: OnLocked = GLUE_ON_LOCKED
    engine: Engine | None = None  # None: as the settings say (DuckDB unless configured)
    job_name: str = "geckolake"  # Glue's --JOB_NAME, for the log


def _pairs(argv: Sequence[str]) -> dict[str, str]:
    """``--NAME value`` and ``--NAME=value`` pairs; a flag with no value (``--enable-metrics``) is skipped."""
    pairs: dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if not token.startswith("--"):
            continue
        name, eq, value = token[2:].partition("=")
        if not eq:
            if i >= len(argv) or argv[i].startswith("--"):
                continue
            value = argv[i]
            i += 1
        pairs[name] = value
    return pairs


def parse_glue_args(argv: Sequence[str]) -> GlueArgs:
    """The job, the namespace, the environment and the engine from Glue's job parameters.

    Raises:
        ConfigError: no ``--geckolake-job``, an unknown ``--engine`` or a ``--lock-wait-seconds``
            that is not a number.
    """
    pairs = _pairs(argv)
    job = pairs.get("geckolake-job")
    if not job:
        raise ConfigError("no job named", hint="give the Glue job the parameter --geckolake-job (run, forecast, ...)")
    env = {k: v for k, v in pairs.items() if k.startswith(ENV_PREFIXES)}
    try:
        wait = float(pairs.get("lock-wait-seconds", GLUE_ON_LOCKED.wait_s))
    except ValueError:
        raise ConfigError("--lock-wait-seconds is not a number", hint="seconds, e.g. 900") from None
    engine = pairs.get("engine")
    if engine is not None and engine not in ENGINES:
        raise ConfigError(f"unknown --engine {engine!r}", hint=f"use one of {', '.join(ENGINES)}")
    return GlueArgs(
        job=job,
        namespace=pairs.get("metrics-namespace", cloudwatch.DEFAULT_NAMESPACE),
        env=env,
        on_locked=OnLocked(wait),
        engine=cast(Engine | None, engine),
        job_name=pairs.get("JOB_NAME", "geckolake"),
    )


def engine_flags(engine: Engine | None) -> dict[str, Any]:
    """The settings flags for ``--engine``: ``spark`` computes on the cluster's own session (Glue's),
    so its master is the cluster's; ``duckdb`` pins DuckDB whatever ``GECKOLAKE_TRANSFORM`` says."""
    if engine == "spark":
        return {"transform": {"engine": "spark", "spark_master": CLUSTER_MASTER}}
    if engine == "duckdb":
        return {"transform": {"engine": "duckdb"}}
    return {}


def run_waiting(
    job: str,
    settings: Any,
    on_locked: OnLocked,
    *,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    spark: SparkSession | None = None,
) -> tuple[Any, bool]:
    """The job's result, trying again while the lake is locked; ``(None, True)`` when it skipped.
    ``spark``: a session the caller made, for the jobs that compute on one (``deploy.jobs.runner``).

    Raises:
        LakeLocked: still locked after ``on_locked.wait_s`` (and not ``skip``).
        GeckolakeError: whatever the job's flow raises.
    """
    flow = runner(job, spark=spark)
    deadline = clock() + on_locked.wait_s
    while True:
        try:
            return flow(settings), False
        except LakeLocked:
            left = deadline - clock()
            if left <= 0:
                if on_locked.skip:
                    return None, True
                raise
            logger.info("%s: the lake is locked by another job; trying again", job)
            sleep(min(RETRY_EVERY_S, left))


def execute(
    job: str,
    namespace: str,
    *,
    on_locked: OnLocked = GLUE_ON_LOCKED,
    engine: Engine | None = None,
    spark: SparkSession | None = None,
    cloudwatch_client: Any = None,
    sleep: Callable[[float], object] = time.sleep,
) -> Outcome:
    """Run ``job`` with the settings of this process's environment (and ``engine``, when given)
    and publish its metrics.

    Raises:
        GeckolakeError: the settings are invalid, the job failed (``JobFailed``), the lake stayed
            locked (``LakeLocked``) or the flow raised.
    """
    started = time.monotonic()
    settings = load_settings(**engine_flags(engine))
    ok, skipped, per_run = False, False, {}
    try:
        result, skipped = run_waiting(job, settings, on_locked, sleep=sleep, spark=spark)
        if skipped:
            ok = True
            done = Outcome(job, f"{job}: skipped, another job holds the lake's writer lock")
            logger.info("%s", done.summary)
            return done
        per_run = cloudwatch.run_metrics(result)
        done = outcome(job, result)
        ok = True
        logger.info("%s", done.summary)
        return done
    finally:
        try:
            gauges = cloudwatch.lake_gauges(settings)
        except GeckolakeError as e:
            logger.warning("lake gauges not read: %s", e)
            gauges = {}
        data = cloudwatch.metric_data(job, ok, time.monotonic() - started, per_run, gauges, skipped=skipped)
        cloudwatch.publish(
            namespace, data, client=cloudwatch_client,
            region=settings.aws_region, endpoint_url=settings.aws_endpoint_url,
        )  # fmt: skip


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    install_redaction()


def glue_main(
    argv: Sequence[str],
    environ: MutableMapping[str, str] = os.environ,
    *,
    spark: SparkSession | None = None,
) -> int:
    """A Glue job's script: 0 when the job succeeded, 1 when it failed (one ``error:`` line).

    With ``--engine spark`` the flow takes the cluster's session (Glue's, through ``getOrCreate``);
    ``spark`` hands it a session made here instead (a notebook's, a test's local one), left running.
    """
    _configure_logging()
    try:
        args = parse_glue_args(argv)
        environ.update(args.env)
        logger.info("job %s (Glue job %s), engine %s", args.job, args.job_name, args.engine or "as configured")
        execute(args.job, args.namespace, on_locked=args.on_locked, engine=args.engine, spark=spark)
    except GeckolakeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def handler(event: Mapping[str, Any], context: object = None) -> dict[str, str]:
    """A Lambda function's handler: ``{"job": NAME}`` in, ``{"job", "summary"}`` out.

    Raises:
        GeckolakeError: the job failed (the invocation is then an error, retried by the schedule).
    """
    _configure_logging()
    done = execute(
        str(event.get("job", "")), os.environ.get("GECKOLAKE_METRICS_NAMESPACE", cloudwatch.DEFAULT_NAMESPACE)
    )
    return {"job": done.job, "summary": done.summary}
