"""The script of every geckolake Glue job: the job and its settings come as job parameters.

Glue installs the geckolake wheel (``--additional-python-modules``) before running this; the job
itself is ``geckolake.deploy.entry``, geckolake's one Glue entry point (docs/aws.md; ``--engine spark``
computes silver and gold on the job's Spark, docs/spark.md), the same flows as the CLI. Only a
failure exits (non-zero): some Glue versions report even ``sys.exit(0)`` as an error.
"""

import sys

from geckolake.deploy.entry import glue_main

code = glue_main(sys.argv[1:])
if code:
    raise SystemExit(code)
