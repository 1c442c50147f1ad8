"""Shared helpers: machine info, the commit measured, and the one JSON shape every result has."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
from functools import cache
from typing import Any


@cache
def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }


@cache
def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def emit(name: str, metric: str, value: float, unit: str, **parameters: Any) -> dict[str, Any]:
    """Print one result as a JSON line and return it."""
    row = {
        "name": name,
        "parameters": parameters,
        "metric": metric,
        "value": round(value, 6) if isinstance(value, float) else value,
        "unit": unit,
        "commit": commit(),
        "machine": machine(),
    }
    print(json.dumps(row), flush=True)
    return row


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def percentile(xs: list[float], q: float) -> float:
    """The q-th percentile (0..100) of ``xs``, linear interpolation between closest ranks."""
    s = sorted(xs)
    if len(s) == 1:
        return s[0]
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


PYCACHE = os.path.join(tempfile.gettempdir(), "geckolake-bench-pycache")


def child_env(**extra: str) -> dict[str, str]:
    """Environment for timed child processes: bytecode caching on, as after any ``pip install``.

    Some shells (this project's CI machine among them) set PYTHONDONTWRITEBYTECODE=1; a virtualenv
    made before ``make setup`` compiled bytecode then has no ``__pycache__`` and every process would
    recompile geckolake and its dependencies (~3 s). Children write and reuse bytecode under a
    temporary PYTHONPYCACHEPREFIX instead (nothing is written into the repository), whatever the
    venv holds; run each command once untimed to warm it.
    GECKOLAKE_* and COINGECKO_* variables of the caller are dropped so only ``extra`` configures.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GECKOLAKE_", "COINGECKO_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    return env | extra
