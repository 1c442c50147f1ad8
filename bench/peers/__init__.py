"""The tools a user would pick instead of geckolake, each installed into its own virtualenv.

A peer is a pinned requirement list plus a script (in this folder) that its own interpreter runs;
the script imports only the peer and the standard library. ``ensure(peer)`` creates
``bench/.peers/<name>/`` on first use (gitignored) and installs the requirements there, never into
the project's ``.venv``: a peer's dependencies (dlt pins its own versions of duckdb, pyarrow, ...)
must neither change nor be changed by ours. It uses the project's uv when ``make setup`` made one
(seconds, from uv's cache), else ``python -m venv`` and pip. Bytecode is compiled at install, as
``make setup`` does for ours, so neither side pays compilation in a timed run.

Airbyte's ``source-coingecko-coins`` is not installed: its call count alone rules it out, see
``airbyte_calls``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS_DIR = HERE.parent / ".peers"
UV = HERE.parents[1] / ".venv-tools" / "bin" / "uv"


@dataclass(frozen=True)
class Peer:
    name: str
    requirements: tuple[str, ...]
    script: str  # file name in this folder

    @property
    def venv(self) -> Path:
        return PEERS_DIR / self.name

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def script_path(self) -> Path:
        return HERE / self.script


# dlt with its DuckDB destination and Parquet loader files (pyarrow): dlt's documented fast path.
# Its default (INSERT statements) was 3-4 x slower on W0 here (40 s vs 12 s, see docs/benchmarks.md).
DLT = Peer("dlt", ("dlt[duckdb,parquet]==1.31.0",), "dlt_rest_api.py")
PEERS = {p.name: p for p in (DLT,)}


def _installed(peer: Peer) -> bool:
    marker = peer.venv / "requirements.txt"
    return peer.python.exists() and marker.exists() and marker.read_text() == "\n".join(peer.requirements)


def ensure(peer: Peer, base_python: str | None = None) -> Path:
    """Create the peer's virtualenv and install its pinned requirements, unless already done.

    Returns the peer's interpreter. ``base_python`` defaults to the interpreter the project's venv
    was made from, so both sides run the same CPython.

    Raises:
        subprocess.CalledProcessError: the venv could not be made or the install failed.
    """
    if _installed(peer):
        return peer.python
    base = str(base_python or getattr(sys, "_base_executable", sys.executable))
    if peer.venv.exists():
        shutil.rmtree(peer.venv)
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    if UV.exists():
        subprocess.run([str(UV), "venv", "-q", "--python", base, str(peer.venv)], check=True)
        subprocess.run(
            [str(UV), "pip", "install", "-q", "--compile-bytecode", "--python", str(peer.python), *peer.requirements],
            check=True,
        )
    else:
        subprocess.run([base, "-m", "venv", str(peer.venv)], check=True)
        subprocess.run(
            [str(peer.python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *peer.requirements],
            check=True,
        )
        subprocess.run([str(peer.python), "-m", "compileall", "-q", str(peer.venv / "lib")], check=False)
    (peer.venv / "requirements.txt").write_text("\n".join(peer.requirements))
    return peer.python


def airbyte_calls(history_coins: int, history_days: int, markets_pages: int) -> dict[str, int]:
    """The calls Airbyte's ``source-coingecko-coins`` would need for W0's history (arithmetic only).

    That connector syncs one configured coin per connection, with two streams: ``market_chart``
    (``/coins/{id}/market_chart?days=N``, one call) and ``history`` (``/coins/{id}/history?date=``,
    one call per day between start and end date). It has no markets stream, so W0's markets pages
    cannot be fetched at all, and 100 coins need 100 connections.
    """
    history = history_coins * history_days
    return {
        "history_stream_calls": history,
        "market_chart_stream_calls": history_coins,
        "connections": history_coins,
        "w0_calls": markets_pages + history_coins,
    }
