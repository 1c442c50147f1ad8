"""The Risk & correlations page: a sortable risk table, risk against return, a correlation heatmap."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from geckolake.dashboard.ui import Lake, chart, empty, needs, no_lake, read

PERCENT = ("vol_30d", "vol_90d", "return_90d_ann", "max_drawdown_90d", "var_95_1d", "es_95_1d")


def render(lake: Lake) -> None:
    """Draw the Risk & correlations page for ``lake``."""
    st.title("Risk & correlations")
    if no_lake(lake) or not needs(lake, "gold.coin_risk", "geckolake run"):
        return
    table = read(lake, "risk_table", lake.currency)
    st.caption(
        "Latest day, the 100 largest coins; click a column to sort. Volatility and return are annualised "
        "from daily log returns; drawdown, VaR and ES are fractions of the price (docs/metrics.md)."
    )
    st.dataframe(
        table, hide_index=True, height=360,
        column_config={
            **{c: st.column_config.NumberColumn(c, format="percent") for c in PERCENT},
            "market_cap": st.column_config.NumberColumn("market cap", format="compact"),
        },
    )  # fmt: skip
    points = table.dropna(subset=["vol_90d", "return_90d_ann"])
    if points.empty:
        empty("no coin has 90 full days of returns yet: the scatter needs them.")
    else:
        fig = px.scatter(
            points, x="vol_90d", y="return_90d_ann", size="market_cap", hover_name="name", text="coin_id",
            size_max=45, title="Risk against return over 90 days (bubble: market cap)",
        )  # fmt: skip
        fig.update_traces(textposition="top center", textfont_size=9)
        fig.update_xaxes(tickformat=".0%", title="volatility 90 d (annualised)")
        fig.update_yaxes(tickformat=".0%", title="mean log return 90 d (annualised)")
        fig.update_layout(height=480, hovermode="closest")
        chart(fig, "scatter")
    if not needs(lake, "gold.correlations", "geckolake run"):
        return
    window = st.radio("window", (30, 90), format_func=lambda d: f"{d} days", horizontal=True, key="corr_window")
    pairs = read(lake, "correlations", lake.currency, window)
    if pairs.empty:
        empty(f"no {window}-day correlations yet: they need {window} full days of returns.")
        return
    grid = pairs.pivot_table(index="coin_a", columns="coin_b", values="corr")
    held = set(grid.index.union(grid.columns))
    by_cap = [c for c in table.coin_id if c in held]  # largest first, as the risk table
    order = by_cap + sorted(held - set(by_cap))
    grid = grid.reindex(index=order, columns=order)
    for coin in order:
        grid.loc[coin, coin] = 1.0
    fig = px.imshow(
        grid, color_continuous_scale="RdBu_r", zmin=-1, zmax=1, aspect="auto",
        title=f"Correlation of daily log returns, {window} days to {pairs.date.iloc[0]} (UTC), largest coins first",
    )  # fmt: skip
    fig.update_layout(height=620, hovermode="closest")
    fig.update_xaxes(title="")
    fig.update_yaxes(title="")
    chart(fig, "heatmap")
