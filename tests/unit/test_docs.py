"""Docs stay true: every CLI command has help and appears in the README."""

from __future__ import annotations

from pathlib import Path

import typer.main

from geckolake.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> dict[str, str]:
    group = typer.main.get_group(app)
    out: dict[str, str] = {}
    for name, cmd in group.commands.items():
        sub = getattr(cmd, "commands", None)
        if sub:
            out.update({f"{name} {s}": c.help or "" for s, c in sub.items()})
        else:
            out[name] = cmd.help or ""
    return out


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = _commands()
    assert {"run", "plan", "replay", "tables", "sql", "runs", "demo", "simulator"} <= set(commands)
    for name, help_text in commands.items():
        assert help_text.strip(), f"`geckolake {name}` has no help"
        assert f"`geckolake {name}" in readme, f"`geckolake {name}` is missing from README.md"


def test_docs_named_in_the_readme_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    for doc in ("architecture", "configuration", "planner", "tables", "metrics", "operations", "bronze",
                "simulator", "benchmarks"):  # fmt: skip
        assert f"docs/{doc}.md" in readme
        assert (ROOT / "docs" / f"{doc}.md").is_file()


def test_the_public_api_is_importable_and_documented() -> None:
    import geckolake

    page = (ROOT / "docs" / "python-api.md").read_text()
    for name in geckolake.__all__:
        assert getattr(geckolake, name) is not None
        assert f"`{name}" in page, f"geckolake.{name} is not in docs/python-api.md"
    assert set(geckolake.__all__) == {*geckolake._EXPORTS, "__version__"}
    assert sorted(dir(geckolake)) == sorted(geckolake.__all__)


def test_the_version_is_the_packages() -> None:
    import tomllib

    from geckolake import __version__

    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == __version__


def test_every_flow_is_loadable_by_name() -> None:
    import geckolake.flows as flows

    assert set(flows.__all__) == set(flows._WHERE)
    for name in flows.__all__:
        assert callable(getattr(flows, name)), name
