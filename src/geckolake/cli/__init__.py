"""The ``geckolake`` command line: ``options`` (shared options → Settings), ``commands``, ``render``."""

from __future__ import annotations

from geckolake.cli.commands import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
