"""Serve the dashboard: Streamlit on ``app.py`` in a child process, bound to one host and port.

Streamlit is started as ``python -m streamlit run`` (its supported entry) with usage statistics,
browser opening and file watching off; the lake and settings reach the script as the same
``GECKOLAKE_*`` variables every command reads. The child stops with us (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.error import URLError
from urllib.request import urlopen

from geckolake.errors import ConfigError, TerminalError
from geckolake.lake.location import lake_spec

if TYPE_CHECKING:
    from geckolake.config import Settings

APP = Path(__file__).with_name("app.py")
START_TIMEOUT_S = 60.0


def streamlit_command(host: str, port: int) -> list[str]:
    """The command line that serves the dashboard on ``host:port``, offline and headless."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--server.fileWatcherType", "none", "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false", "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal", "--client.showErrorDetails", "false",
        "--theme.base", "light",
    ]  # fmt: skip


def _check_installed() -> None:
    for module in ("streamlit", "plotly"):
        if importlib.util.find_spec(module) is None:
            raise ConfigError(
                f"the dashboard needs {module}, which is not installed",
                hint="pip install 'geckolake[dashboard]' (or `make setup` in a clone)",
            )


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {e.strerror or e}", hint="pick another --port or --host"
            ) from e


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise TerminalError(
                f"the dashboard server exited with code {proc.returncode} while starting",
                hint="its error is printed above; `make setup` reinstalls Streamlit",
            )
        try:
            with urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (URLError, OSError):
            pass
        time.sleep(0.2)
    raise TerminalError(f"the dashboard did not answer on {url} within {timeout:.0f} s", hint="try again")


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8501,
    config: Path | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> int:
    """Serve the dashboard over ``settings.lake`` until SIGTERM (0), Ctrl-C (130) or the server's own exit (its code).

    ``on_ready`` receives the URL once the server answers.

    Raises:
        ConfigError: Streamlit or Plotly is not installed, or the port is taken.
        TerminalError: the server stopped or did not answer while starting.
    """
    _check_installed()
    _check_port(host, port)
    env = {
        **os.environ,
        "GECKOLAKE_LAKE": lake_spec(settings).location,
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    if config is not None:
        env["GECKOLAKE_CONFIG"] = str(Path(config).resolve())
    proc = subprocess.Popen(streamlit_command(host, port), env=env, stdout=subprocess.DEVNULL)
    stopped: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopped.append(signum)
        proc.terminate()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{port}"
        _wait_healthy(proc, url, START_TIMEOUT_S)
        if on_ready is not None:
            on_ready(url)
        code = proc.wait()
        return 0 if stopped else code
    except KeyboardInterrupt:
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
