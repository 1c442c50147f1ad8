"""The script of every geckolake Glue job: the job and its settings come as job parameters.

Glue installs the geckolake wheel (``--additional-python-modules``) before running this; the job
itself is ``geckolake.deploy.entry`` (docs/aws.md), the same flows as the CLI.
"""

import sys

from geckolake.deploy.entry import glue_main

raise SystemExit(glue_main(sys.argv[1:]))
