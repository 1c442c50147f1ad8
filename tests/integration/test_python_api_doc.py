"""docs/python-api.md runs as written: its code blocks, in order, in one namespace (a notebook)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "python-api.md"


def test_the_notebook_session_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    for var in [v for v in os.environ if v.startswith(("GECKOLAKE_", "COINGECKO_"))]:
        monkeypatch.delenv(var)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), namespace)
    out = capsys.readouterr().out
    assert "calls" in out and "query failed" in out
    assert (tmp_path / "notebook-lake" / "catalog.db").is_file()
