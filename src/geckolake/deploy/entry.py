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
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from geckolake.api.redaction import install as install_redaction
from geckolake.config import load_settings
from geckolake.deploy import cloudwatch
from geckolake.deploy.jobs import Outcome, outcome, runner
from geckolake.errors import ConfigError, GeckolakeError

logger = logging.getLogger(__name__)

ENV_PREFIXES = ("GECKOLAKE_", "COINGECKO_", "AWS_")


@dataclass(frozen=True)
class GlueArgs:
    job: str
    namespace: str
    env: dict[str, str]


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
    return GlueArgs(job, pairs.get("metrics-namespace", cloudwatch.DEFAULT_NAMESPACE), env)


def execute(job: str, namespace: str, *, cloudwatch_client: Any = None) -> Outcome:
    """Run ``job`` with the settings of this process's environment and publish its metrics.

    Raises:
        GeckolakeError: the settings are invalid, the job failed (``JobFailed``) or its flow raised.
    """
    started = time.monotonic()
    settings = load_settings()
    ok, per_run = False, {}
    try:
        result = runner(job)(settings)
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
        data = cloudwatch.metric_data(job, ok, time.monotonic() - started, per_run, gauges)
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
        execute(args.job, args.namespace)
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
