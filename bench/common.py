"""Shared helpers: machine info, the commit measured, and the one JSON shape every result has."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
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
