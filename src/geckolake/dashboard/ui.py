"""What every page shares: the lake being read, cached reads, empty states, UTC labels."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from geckolake.config import load_settings
from geckolake.dashboard import data

if TYPE_CHECKING:
    import pandas as pd

    from geckolake.config import Settings

# Reads are cached this long: a page answers from memory while a run commits, and shows its
# commits within half a minute.
TTL_SECONDS = 30
UTC_DAY = "date (UTC)"
UTC_TIME = "time (UTC)"


@dataclass(frozen=True)
class Lake:
    """The lake the dashboard reads and what it holds (row count per table)."""

    settings: Settings
    filled: dict[str, int]

    @property
    def path(self) -> str:
        return self.settings.lake

    @property
    def currency(self) -> str:
        return self.settings.vs_currency

    def has(self, table: str) -> bool:
        return self.filled.get(table, 0) > 0


@st.cache_resource(show_spinner=False)
def _settings(config: str | None) -> Settings:
    return load_settings(Path(config) if config else None)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _filled(_resolved: Settings, lake: str) -> dict[str, int]:
    return data.filled_tables(_resolved)


def current_lake() -> Lake:
    """The lake named by the settings (``GECKOLAKE_LAKE``, ``GECKOLAKE_CONFIG``: the command sets them)."""
    settings = _settings(os.environ.get("GECKOLAKE_CONFIG") or None)
    return Lake(settings, _filled(settings, str(settings.lake)))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=256)
def _read(name: str, lake: str, args: tuple[Any, ...]) -> pd.DataFrame:
    reader = getattr(data, name)
    return reader(_settings(os.environ.get("GECKOLAKE_CONFIG") or None), *args)  # type: ignore[no-any-return]


def read(lake: Lake, name: str, *args: Any) -> pd.DataFrame:
    """``data.<name>(lake, *args)``, cached for :data:`TTL_SECONDS` per lake and arguments."""
    return _read(name, str(lake.path), args)


def empty(message: str) -> None:
    """An empty state: what is missing and the command that fills it."""
    st.info(message, icon=":material/info:")


def needs(lake: Lake, table: str, command: str) -> bool:
    """True when ``table`` has rows; otherwise show which command fills it."""
    if lake.has(table):
        return True
    empty(f"`{table}` is empty: run `{command}` to fill it.")
    return False


def no_lake(lake: Lake) -> bool:
    """True (after saying how to make one) when there is no lake, or an empty one, at the path."""
    if lake.filled and any(lake.filled.values()):
        return False
    st.warning(
        f"No data in the lake at `{lake.path}` yet. Fill it with `geckolake --lake {lake.path} run` "
        f"(CoinGecko) or `geckolake demo --lake {lake.path}` (offline, simulated), then reload this page.",
        icon=":material/warning:",
    )
    return True


def chart(fig: Any, key: str) -> None:
    """An interactive Plotly chart, full width, in the dashboard's style."""
    fig.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10}, hovermode="x unified", legend_title_text="")
    st.plotly_chart(fig, key=key, width="stretch")
