"""One child process measured as a whole, and the medians and pair ratios of several rounds.

``run_measured`` waits for the child with ``os.wait4``, whose resource usage is that child's alone
(plus any of its own children it waited for): CPU user and system seconds and its peak resident
memory. The bench process itself (and the simulator thread inside it) is not counted, unlike
``RUSAGE_CHILDREN``, which would add up every earlier child. A child's own children that it never
waits for (PySpark's JVM) are not in that usage: a sampler reads the process tree from ``/proc``
every 50 ms and reports the tree's peak memory (the sum over its processes) and the CPU its
descendants had used when last seen, separately.

The summaries are plain functions of numbers so that tests can check them without running anything.
"""

from __future__ import annotations

import glob
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

FIELDS = ("wall_s", "cpu_user_s", "cpu_sys_s", "peak_rss_mib")


@dataclass(frozen=True)
class Sample:
    """One process's cost: wall time, CPU time, peak memory, and the API calls it made."""

    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    peak_rss_mib: float
    calls: int = 0
    tree_peak_rss_mib: float = 0.0  # the whole process tree, sampled (0: not sampled)
    descendants_cpu_s: float = 0.0  # CPU of the child's descendants when last sampled

    @property
    def cpu_s(self) -> float:
        """User + system CPU, the descendants it never waited for included (a JVM): on a shared machine
        steadier than wall time (waiting for a core is not in it)."""
        return self.cpu_user_s + self.cpu_sys_s + self.descendants_cpu_s

    def as_dict(self) -> dict[str, float | int]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


class ChildFailed(RuntimeError):
    """A measured command exited non-zero; carries the tail of its output."""


def run_measured(cmd: Sequence[str], env: Mapping[str, str], cwd: str | None = None) -> tuple[Sample, str]:
    """Run ``cmd`` to completion; return its cost (``calls`` left 0 for the caller) and its stdout.

    Raises:
        ChildFailed: the command exited with a non-zero status.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        # Output goes to files, not pipes: the child never blocks on a full pipe, and nothing but
        # wait4 reaps it (communicate() would, and its rusage would be lost).
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), env=dict(env), cwd=cwd, stdout=out, stderr=err, text=True)
        tree = _TreeWatch(proc.pid)
        tree.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        tree.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise ChildFailed(f"{cmd[0]} exited with {proc.returncode}:\n{stdout[-2000:]}{stderr[-4000:]}")
    # Linux reports ru_maxrss in KiB.
    own = usage.ru_maxrss / 1024.0
    sample = Sample(wall, usage.ru_utime, usage.ru_stime, own, 0, max(own, tree.peak_mib), tree.descendants_cpu_s)
    return sample, stdout


class _TreeWatch(threading.Thread):
    """Samples a process tree from ``/proc``: the sum of its resident memory, and each descendant's CPU."""

    def __init__(self, root: int, every_s: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.root, self.every_s = root, every_s
        self.peak_mib = 0.0
        self._cpu: dict[int, float] = {}  # descendant pid -> its CPU seconds when last seen
        self._done = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._tick = os.sysconf("SC_CLK_TCK")

    @property
    def descendants_cpu_s(self) -> float:
        return sum(self._cpu.values())

    def stop(self) -> None:
        self._done.set()
        self.join()

    def run(self) -> None:
        while not self._done.wait(self.every_s):
            total = 0
            for pid in self._tree():
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:  # ended between listing and reading
                    continue
                # fields[0] is the state (stat field 3): utime, stime are fields 14, 15; rss (pages) 24
                total += int(fields[21]) * self._page
                if pid != self.root:
                    self._cpu[pid] = (int(fields[11]) + int(fields[12])) / self._tick
            self.peak_mib = max(self.peak_mib, total / 2**20)

    def _tree(self) -> list[int]:
        pids, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            for path in glob.glob(f"/proc/{pid}/task/*/children"):
                try:
                    with open(path) as f:
                        todo += [int(c) for c in f.read().split()]
                except OSError:
                    continue
        return pids


def spread(xs: Sequence[float]) -> dict[str, float]:
    """Median, minimum and maximum of ``xs``."""
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def summarise(samples: Sequence[Sample]) -> dict[str, dict[str, float]]:
    """Per field of ``FIELDS`` (and calls): the median, min and max over the rounds."""
    out = {f: spread([getattr(s, f) for s in samples]) for f in (*FIELDS, "tree_peak_rss_mib", "descendants_cpu_s")}
    out["calls"] = spread([float(s.calls) for s in samples])
    return out


def pair_ratios(rounds: Sequence[Mapping[str, Sample]], a: str, b: str, field: str = "wall_s") -> dict[str, float]:
    """How ``a`` compares with ``b`` on ``field``: the ratio in each round, summarised.

    The median of the per-round ratios is the headline: both commands of a round ran back to back,
    so a load swing on a shared machine hits both alike and largely cancels out, which a ratio of
    two medians taken over different rounds does not do. The ratio of the medians is given too.
    """
    per_round = [getattr(r[a], field) / getattr(r[b], field) for r in rounds]
    medians = statistics.median(getattr(r[a], field) for r in rounds) / statistics.median(
        getattr(r[b], field) for r in rounds
    )
    return {**spread(per_round), "ratio_of_medians": medians, "rounds": float(len(per_round))}


def order_for_round(names: Sequence[str], i: int) -> list[str]:
    """A B C D in even rounds, D C B A in odd ones: each command runs as often early as late."""
    return list(names) if i % 2 == 0 else list(reversed(names))


def as_row(summary: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
    """A summary flattened for a JSON line: ``wall_s_median``, ``wall_s_min``, ..."""
    return {f"{f}_{k}": round(v, 4) for f, stats in summary.items() for k, v in stats.items()}
