"""A/B for one proposed change without touching src/: the SQLite catalog in WAL mode.

    .venv/bin/python -m bench.profiles.catalog_wal [ROUNDS]

W0 (as in ``bench.whole_command``) is run by the same ``geckolake run`` entry point twice per
round, in alternating order: as today, and with an SQLAlchemy ``connect`` hook that sets
``PRAGMA journal_mode=WAL`` and ``synchronous=NORMAL`` on every SQLite connection. Today each
catalog commit costs about 4 ``fdatasync`` calls (W0: 63 commits, 252 syncs, 0.38 s inside them,
by ``strace -f -T``); in WAL mode a commit appends to the log and syncs at checkpoints.
The first round is a warm-up. Prints median wall and CPU of each and the per-round wall ratio.
"""

from __future__ import annotations

import statistics
import sys
import tempfile

import httpx

from bench.measure import Sample, run_measured
from bench.whole_command import COINS, NOW, geckolake_env
from geckolake.simulator import SimulatorConfig, running_simulator

RUN = "import sys; sys.argv = ['geckolake', 'run']; from geckolake.cli import main; main()"
WAL_HOOK = """
from sqlalchemy import event
from sqlalchemy.engine import Engine

@event.listens_for(Engine, "connect")
def _wal(dbapi_con, _record):
    cur = dbapi_con.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
"""
VARIANTS = {"today": RUN, "wal": WAL_HOOK + RUN}


def main(rounds: int) -> None:
    cfg = SimulatorConfig(port=0, coins=COINS + 500, plan="unlimited", now=NOW, clean=True)
    res: dict[str, list[Sample]] = {name: [] for name in VARIANTS}
    with running_simulator(cfg) as url, tempfile.TemporaryDirectory() as tmp:
        root = url.rsplit("/api/v3", 1)[0]
        for i in range(rounds + 1):
            names = list(VARIANTS) if i % 2 == 0 else list(VARIANTS)[::-1]
            for name in names:
                sample, _ = run_measured([sys.executable, "-c", VARIANTS[name]], geckolake_env(url, f"{tmp}/{name}{i}"))
                httpx.post(root + "/__reset")
                if i > 0:  # round 0 warms the bytecode cache
                    res[name].append(sample)
    for name, xs in res.items():
        wall = statistics.median(x.wall_s for x in xs)
        print(f"{name:>6}: wall {wall:.2f} s  cpu {statistics.median(x.cpu_s for x in xs):.2f} s")
    ratios = [b.wall_s / a.wall_s for a, b in zip(res["today"], res["wal"], strict=True)]
    print(f"wal / today, wall per round: median {statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
