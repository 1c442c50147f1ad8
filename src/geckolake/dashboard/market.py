"""The Market page: totals, dominance, stablecoin share, the index, breadth, movers, categories."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from geckolake.dashboard.ui import UTC_DAY, Lake, chart, needs, no_lake, read

HORIZONS = ("1d", "7d", "30d")


def compact(value: float) -> str:
    """2.51 T, 145.3 B, 12.0 M: a large amount at a glance."""
    for size, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if abs(value) >= size:
            return f"{value / size:,.2f} {unit}"
    return f"{value:,.0f}"


def render(lake: Lake) -> None:
    """Draw the Market page for ``lake``."""
    st.title("Market")
    if no_lake(lake):
        return
    cur = lake.currency.upper()
    if needs(lake, "gold.market_daily", "geckolake run"):
        daily = read(lake, "market_daily", lake.currency)
        last = daily.iloc[-1]
        known = daily.dropna(subset=["total_market_cap"])
        a, b, c, d = st.columns(4)
        if known.empty:
            a.metric(f"market cap of held coins ({cur})", compact(last.covered_market_cap))
            b.metric(f"24 h volume of held coins ({cur})", compact(last.covered_volume))
        else:
            newest = known.iloc[-1]
            a.metric(f"total market cap ({cur}, {newest.date})", compact(newest.total_market_cap))
            b.metric(f"24 h volume ({cur}, {newest.date})", compact(newest.total_volume))
        c.metric("BTC dominance (held coins)", f"{last.btc_dominance:.1%}")
        change = None if pd.isna(last.index_return) else f"{last.index_return:+.2%}"
        d.metric("index level", f"{last.index_level:,.1f}", change)
        st.caption(
            f"Latest day {last.date} (UTC). Totals are CoinGecko's /global figures on the days one was fetched; "
            "the lines are the sums over the coins the lake holds (every day), the base of the shares below."
        )
        totals = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
        totals.add_trace(
            go.Scatter(x=daily.date, y=daily.covered_market_cap, name=f"market cap, held coins ({cur})"), 1, 1
        )
        totals.add_trace(go.Bar(x=daily.date, y=daily.covered_volume, name=f"volume, held coins ({cur})"), 2, 1)
        if not known.empty:
            totals.add_trace(
                go.Scatter(x=known.date, y=known.total_market_cap, mode="markers", name="market cap, /global total"),
                1, 1,
            )  # fmt: skip
            totals.add_trace(
                go.Scatter(x=known.date, y=known.total_volume, mode="markers", name="volume, /global total"), 2, 1
            )
        totals.update_layout(title="Market cap and volume", height=420)
        totals.update_xaxes(title_text=UTC_DAY, row=2, col=1)
        chart(totals, "totals")

        left, right = st.columns(2)
        with left:
            shares = daily.melt(
                id_vars="date", value_vars=["btc_dominance", "eth_dominance", "stablecoin_share"], var_name="share"
            )
            fig = px.line(shares, x="date", y="value", color="share", title="BTC/ETH dominance and stablecoin share")
            fig.update_yaxes(tickformat=".0%", title="share of the held coins' market cap")
            fig.update_xaxes(title=UTC_DAY)
            chart(fig, "dominance")
        with right:
            fig = px.line(daily, x="date", y="index_level", title="Cap-weighted index (top coins, 100 = first day)")
            fig.update_xaxes(title=UTC_DAY)
            chart(fig, "index")
        breadth = go.Figure(
            [
                go.Bar(x=daily.date, y=daily.advancers, name="advancers", marker_color="#2ca02c"),
                go.Bar(x=daily.date, y=-daily.decliners, name="decliners", marker_color="#d62728"),
            ]
        )
        breadth.update_layout(title="Advancers / decliners (coins up / down that day)", barmode="relative", height=300)
        breadth.update_xaxes(title=UTC_DAY)
        chart(breadth, "breadth")

    left, right = st.columns(2)
    with left:
        st.subheader("Top movers")
        if needs(lake, "gold.top_movers", "geckolake run"):
            horizon = st.radio("horizon", HORIZONS, index=1, horizontal=True, key="movers_horizon")
            movers = read(lake, "top_movers", lake.currency, horizon)
            if movers.empty:
                st.info(f"no {horizon} movers yet: the lake needs {horizon} of history.")
            else:
                movers = movers.sort_values("period_return")
                fig = px.bar(
                    movers, x="period_return", y="name", orientation="h", color="direction", facet_col="direction",
                    color_discrete_map={"top": "#2ca02c", "bottom": "#d62728"}, facet_col_spacing=0.3,
                    category_orders={"direction": ["top", "bottom"]},
                    title=f"Best and worst {horizon} returns, top-50 coins, {movers.date.iloc[0]} (UTC)",
                )  # fmt: skip
                fig.update_xaxes(tickformat=".0%", title=f"{horizon} return")
                fig.update_yaxes(title="", matches=None, showticklabels=True)
                fig.update_layout(showlegend=False)
                fig.update_layout(height=520, hovermode="closest")
                chart(fig, "movers")
    with right:
        st.subheader("Categories")
        if needs(lake, "gold.category_daily", "geckolake run"):
            cats = read(lake, "categories").sort_values("market_cap")
            fig = px.bar(
                cats, x="market_cap", y="name", orientation="h", color="return_1d",
                color_continuous_scale="RdYlGn", color_continuous_midpoint=0,
                title=f"Largest categories (USD), {cats.date.iloc[0]} (UTC)",
                labels={"market_cap": "market cap (USD)", "return_1d": "24 h return"},
            )  # fmt: skip
            fig.update_coloraxes(colorbar_tickformat=".1%")
            fig.update_yaxes(title="")
            fig.update_layout(height=520, hovermode="closest")
            chart(fig, "categories")
