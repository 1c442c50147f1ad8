"""`make aws-validate`, linters: checkov on the Terraform module, actionlint and zizmor on the workflows.

They live in their own environment (`.venv-aws-tools`, made by `make aws-validate`), not in .venv.
Without it these tests skip, saying so; `make aws-validate` sets GECKOLAKE_AWS_TOOLS_REQUIRED=1 so that a
missing tool fails there instead.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from tests.integration.aws.support import MODULE, ROOT

TOOLS = ROOT / ".venv-aws-tools"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
REQUIRED = os.environ.get("GECKOLAKE_AWS_TOOLS_REQUIRED") == "1"


def _tool(path: Path) -> Path:
    if not path.exists():
        message = f"{path.relative_to(ROOT)} is not installed: make aws-validate installs the linters"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return path


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GH_", "GITHUB_TOKEN"))}
    return subprocess.run([str(a) for a in args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_checkov_finds_nothing_in_the_module() -> None:
    checkov = _tool(TOOLS / "bin" / "checkov")
    proc = _run(checkov, "--config-file", MODULE / ".checkov.yaml", "-d", MODULE)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    assert WORKFLOWS
    actionlint = _tool(TOOLS / "bin" / "actionlint")
    proc = _run(actionlint, *WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing_in_the_workflows() -> None:
    zizmor = _tool(TOOLS / "bin" / "zizmor")
    proc = _run(zizmor, "--offline", "--no-progress", *WORKFLOWS)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
