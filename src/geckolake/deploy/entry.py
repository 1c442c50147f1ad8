"""The process entry point of a deployed job: a Glue job's script or a Lambda function's handler.

Both resolve ``Settings`` exactly as the CLI does (``load_settings``: environment, then the
defaults), run one job of ``deploy.jobs`` and publish its metrics (``deploy.cloudwatch``).

* Glue passes job parameters as ``--NAME value`` pairs. ``--geckolake-job`` names the job,
  ``--metrics-namespace`` the CloudWatch namespace; every ``--GECKOLAKE_*``, ``--COINGECKO_*`` or
  ``--AWS_*`` pair becomes an environment variable first; Glue's own arguments are ignored. The
  script ``deploy/aws/jobs/glue_entry.py`` is ``raise SystemExit(glue_main(sys.argv[1:]))``.
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
from typing import Any

from geckolake.api.redaction import install as install_redaction
from geckolake.config import load_settings
from geckolake.deploy import cloudwatch
from geckolake.deploy.jobs import Outcome, outcome, runner
from geckolake.errors import ConfigError, GeckolakeError, LakeLocked

logger = logging.getLogger(__name__)

ENV_PREFIXES = ("GECKOLAKE_", "COINGECKO_", "AWS_")


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
    job: str
    namespace: str
    env: dict[str, str]
    on_locked: OnLocked = GLUE_ON_LOCKED


def parse_glue_args(argv: Sequence[str]) -> GlueArgs:
    """The job, the namespace and the environment from Glue's ``--NAME value`` pairs.

    Raises:
        ConfigError: no ``--geckolake-job``.
    """
    pairs: dict[str, str] = {}
    i = 0
    while i < len(argv):
        name = argv[i]
        if name.startswith("--") and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            pairs[name[2:]] = argv[i + 1]
            i += 2
        else:
            i += 1
    job = pairs.get("geckolake-job")
    if not job:
        raise ConfigError("no job named", hint="give the Glue job the parameter --geckolake-job (run, forecast, ...)")
    env = {k: v for k, v in pairs.items() if k.startswith(ENV_PREFIXES)}
    try:
        wait = float(pairs.get("lock-wait-seconds", GLUE_ON_LOCKED.wait_s))
    except ValueError:
        raise ConfigError("--lock-wait-seconds is not a number", hint="seconds, e.g. 900") from None
    return GlueArgs(job, pairs.get("metrics-namespace", cloudwatch.DEFAULT_NAMESPACE), env, OnLocked(wait))


def run_waiting(
    job: str,
    settings: Any,
    on_locked: OnLocked,
    *,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Any, bool]:
    """The job's result, trying again while the lake is locked; ``(None, True)`` when it skipped.

    Raises:
        LakeLocked: still locked after ``on_locked.wait_s`` (and not ``skip``).
        GeckolakeError: whatever the job's flow raises.
    """
    flow = runner(job)
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
    cloudwatch_client: Any = None,
    sleep: Callable[[float], object] = time.sleep,
) -> Outcome:
    """Run ``job`` with the settings of this process's environment and publish its metrics.

    Raises:
        GeckolakeError: the settings are invalid, the job failed (``JobFailed``), the lake stayed
            locked (``LakeLocked``) or the flow raised.
    """
    started = time.monotonic()
    settings = load_settings()
    ok, skipped, per_run = False, False, {}
    try:
        result, skipped = run_waiting(job, settings, on_locked, sleep=sleep)
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


def glue_main(argv: Sequence[str], environ: MutableMapping[str, str] = os.environ) -> int:
    """A Glue job's script: 0 when the job succeeded, 1 when it failed (one ``error:`` line)."""
    _configure_logging()
    try:
        args = parse_glue_args(argv)
        environ.update(args.env)
        execute(args.job, args.namespace, on_locked=args.on_locked)
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
