"""Options every command shares, and :func:`command`: one decorator that turns them into ``Settings``.

Typer has no option groups, so :func:`command` extends a command's signature with the global
options (``--lake``, ``--config``, ``--log-level``, ``--log-format``; also accepted before the
subcommand) and the settings options it names, resolves them once into a ``Settings`` (flags > env
> file > defaults) and passes that as the command's ``settings`` argument.
"""

from __future__ import annotations

import functools
import inspect
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperOption

if TYPE_CHECKING:
    from geckolake.config import Settings

F = TypeVar("F", bound=Callable[..., Any])

# A string, not a Path: Path("s3://bucket/lake") would collapse the "//" into a local folder "s3:".
LakeOpt = Annotated[
    str | None,
    typer.Option("--lake", help="lake folder or s3://bucket/prefix [env GECKOLAKE_LAKE; default ./lake]"),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="settings file [env GECKOLAKE_CONFIG; default ./geckolake.toml]")
]
LogOpt = Annotated[str | None, typer.Option("--log-level", help="debug|info|warning|error [warning]")]
LogFormatOpt = Annotated[str | None, typer.Option("--log-format", help="text|json (one JSON object per line) [text]")]

# Settings a command may expose as flags, by Settings field name.
SETTING_OPTIONS: dict[str, Any] = {
    "plan": Annotated[str | None, typer.Option("--plan", help="public|demo|analyst|lite|pro|enterprise")],
    "coins": Annotated[int | None, typer.Option("--coins", help="markets depth: top N coins [250]")],
    "history_coins": Annotated[
        int | None, typer.Option("--history-coins", help="daily history for the top K coins [10]")
    ],
    "history_days": Annotated[int | None, typer.Option("--history-days", help="daily history depth in days [365]")],
    "hourly_days": Annotated[int | None, typer.Option("--hourly-days", help="hourly history depth, 0 = none [0]")],
    "vs_currency": Annotated[str | None, typer.Option("--vs-currency", help="quote currency [usd]")],
    "rate_per_min": Annotated[
        float | None, typer.Option("--rate-per-min", help="override the plan's calls per minute")
    ],
    "as_of": Annotated[
        datetime | None,
        typer.Option("--as-of", help="pretend now is this UTC instant (for a simulator started with --now)"),
    ],
    "engine": Annotated[
        str | None,
        typer.Option(
            "--engine",
            envvar="GECKOLAKE_ENGINE",
            show_envvar=False,
            help="where silver and gold are computed: duckdb|spark [env GECKOLAKE_ENGINE; [transform] engine; duckdb]",
        ),
    ],
}
# Flags that set a field of a settings section: flag -> (section, field).
SECTION_OPTIONS: dict[str, tuple[str, str]] = {"engine": ("transform", "engine")}
# What to fetch: the options `run` and `plan` share.
SCOPE = ("plan", "coins", "history_coins", "history_days", "hourly_days", "vs_currency", "rate_per_min", "as_of")
GLOBAL = {"lake": LakeOpt, "config": ConfigOpt, "log_level": LogOpt, "log_format": LogFormatOpt}


@dataclass
class Globals:
    """The global options given before the subcommand (``geckolake --lake x run``)."""

    lake: str | None = None
    config: Path | None = None
    log_level: str | None = None
    log_format: str | None = None


def command(*, settings: Sequence[str] = (), log_level: str = "warning") -> Callable[[F], F]:
    """Give the decorated command the global options and the ``settings`` options it names.

    The command receives ``settings: Settings`` first; our errors become one ``error:`` line.
    ``log_level`` is the command's default level.
    """

    def decorate(fn: F) -> F:
        # `Settings` is only a type-checking import in the command's module: evaluate the other annotations
        own = [
            p.replace(annotation=eval(p.annotation, fn.__globals__) if isinstance(p.annotation, str) else p.annotation)
            for p in inspect.signature(fn).parameters.values()
            if p.name != "settings"
        ]
        added = {**GLOBAL, **{name: SETTING_OPTIONS[name] for name in settings}}
        keyword = inspect.Parameter.KEYWORD_ONLY
        extra = [inspect.Parameter(n, keyword, default=None, annotation=a) for n, a in added.items()]
        extra.append(inspect.Parameter("ctx", keyword, annotation=typer.Context))  # Typer passes it

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            options = {name: kwargs.pop(name) for name in added}
            given = given_globals(kwargs.pop("ctx"))
            lake, config = options.pop("lake") or given.lake, options.pop("config") or given.config
            setup_logging(
                options.pop("log_level") or given.log_level or log_level,
                options.pop("log_format") or given.log_format or "text",
            )
            return fn(_settings(config, lake=lake, **options), *args, **kwargs)

        wrapper.__signature__ = inspect.Signature([*own, *extra])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in [*own, *extra]}
        return friendly_errors(wrapper)  # type: ignore[return-value]

    return decorate


def given_globals(ctx: typer.Context) -> Globals:
    """The global options given before the subcommand (none: all unset)."""
    return ctx.find_object(Globals) or Globals()


def _settings(config: Path | None, **flags: Any) -> Settings:
    from geckolake.config import load_settings

    for flag, (section, field) in SECTION_OPTIONS.items():
        value = flags.pop(flag, None)
        if value is not None:  # merged field by field with the section from the file and env
            flags[section] = {**flags.get(section, {}), field: value}
    return load_settings(config, **flags)


def setup_logging(level: str, fmt: str = "text") -> None:
    """Configure the root logger once, for the whole process.

    Raises:
        ConfigError: an unknown ``--log-format``.
    """
    from geckolake.errors import ConfigError

    if fmt not in ("text", "json"):
        raise ConfigError(f"unknown --log-format {fmt!r}", hint="use text or json")
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    if fmt == "json":
        from geckolake.ops.logs import JsonFormatter

        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())


def friendly_errors(fn: F) -> F:
    """Turn our errors into one readable ``error:`` line and exit code 1 (no traceback); Ctrl-C is 130."""
    from geckolake.cli.render import console

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from geckolake.errors import GeckolakeError, disk_full

        try:
            return fn(*args, **kwargs)
        except GeckolakeError as e:
            console(stderr=True).print(f"[bold red]error:[/] {e}", markup=True, emoji=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            console(stderr=True).print("interrupted: what had arrived is committed; run again to finish")
            raise typer.Exit(130) from None
        except Exception as e:  # a full disk surfaces from PyArrow, SQLite or the OS, each its own way
            ctx = kwargs.get("ctx")
            full = disk_full(e, kwargs.get("lake") or (given_globals(ctx).lake if ctx is not None else None))
            if full is None:
                raise
            console(stderr=True).print(f"[bold red]error:[/] {full}", markup=True, emoji=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _flag_type(self: TyperOption, ctx: Any) -> str | None:
    return None if self.is_flag else _typer_display_type(self, ctx)


# Typer 0.29 labels every flag `<bool>` in rich help (`--dry-run <bool>`), as if it took a value.
_typer_display_type = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]
