"""The Coin page: one coin's candles, cap and rank, returns, forecast fan, backtests, risk, live prices."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from geckolake.dashboard.ui import UTC_DAY, UTC_TIME, Lake, chart, empty, needs, no_lake, read

DEFAULT_COIN = "bitcoin"


def pick_coin(lake: Lake) -> str | None:
    """The coin picker (largest first); ``?coin=<id>`` in the URL preselects one."""
    choices = read(lake, "coins", lake.currency)
    if choices.empty:
        return None
    ids = list(choices.coin_id)
    labels = {r.coin_id: f"{r.name} ({(r.symbol or '').upper()})" for r in choices.itertuples()}
    wanted = st.query_params.get("coin", DEFAULT_COIN)
    picked = st.selectbox(
        "coin", ids, index=ids.index(wanted) if wanted in ids else 0, format_func=labels.__getitem__, key="coin"
    )
    st.query_params["coin"] = picked
    return str(picked)


def render(lake: Lake) -> None:
    """Draw the Coin page for ``lake``."""
    st.title("Coin")
    if no_lake(lake) or not needs(lake, "gold.coin_daily", "geckolake run"):
        return
    coin_id = pick_coin(lake)
    if coin_id is None:
        empty(f"no coin has daily rows in {lake.currency.upper()}: run `geckolake run`.")
        return
    daily = read(lake, "coin_daily", lake.currency, coin_id)
    _candles(daily, lake.currency.upper())
    left, right = st.columns(2)
    with left:
        _cap_and_rank(daily, lake.currency.upper())
    with right:
        fig = px.bar(daily, x="date", y="return_1d", title="Daily return (close to close)")
        fig.update_yaxes(tickformat=".1%", title="return")
        fig.update_xaxes(title=UTC_DAY)
        chart(fig, "returns")
    st.subheader("Forecast")
    _forecast(lake, coin_id, daily)
    st.subheader("Risk")
    _risk(lake, coin_id)
    st.subheader("Live prices")
    if lake.has("silver.live_prices"):
        live = read(lake, "live_prices", lake.currency, coin_id)
        if live.empty:
            empty(f"no live quotes for {coin_id}: `geckolake prices` polls the lake's top coins only.")
        else:
            fig = px.line(live, x="last_updated_at", y="price", title="Live price (/simple/price polls)")
            fig.update_xaxes(title=UTC_TIME)
            chart(fig, "live")
    else:
        empty("no live prices yet: run `geckolake prices` (or the scheduler's prices job).")


def _candles(daily: pd.DataFrame, cur: str) -> None:
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.04)
    fig.add_trace(
        go.Candlestick(
            x=daily.date, open=daily.open, high=daily.high, low=daily.low, close=daily.close, name=f"price ({cur})"
        ),
        1, 1,
    )  # fmt: skip
    fig.add_trace(go.Bar(x=daily.date, y=daily.volume, name=f"volume ({cur})", marker_color="#7f7f7f"), 2, 1)
    fig.update_layout(title="Daily candles and volume", height=520, xaxis_rangeslider_visible=False)
    fig.update_xaxes(title_text=UTC_DAY, row=2, col=1)
    chart(fig, "candles")


def _cap_and_rank(daily: pd.DataFrame, cur: str) -> None:
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=daily.date, y=daily.market_cap, name=f"market cap ({cur})"), secondary_y=False)
    fig.add_trace(
        go.Scatter(x=daily.date, y=daily.market_cap_rank, name="rank", mode="markers+lines"), secondary_y=True
    )
    fig.update_yaxes(title_text="rank", autorange="reversed", secondary_y=True)
    fig.update_layout(title="Market cap and rank (rank only on days with a market snapshot)")
    fig.update_xaxes(title_text=UTC_DAY)
    chart(fig, "cap_rank")


def _forecast(lake: Lake, coin_id: str, daily: pd.DataFrame) -> None:
    if not needs(lake, "gold.price_forecasts", "geckolake forecast"):
        return
    fc = read(lake, "forecast", lake.currency, coin_id)
    if fc.empty:
        empty(
            f"no forecast for {coin_id}: forecasts cover the top coins by market cap with at least 60 days "
            "of closes (run `geckolake forecast`)."
        )
        return
    models = sorted(fc.model.unique())
    model = st.radio(
        "model", models, index=models.index("auto_ets") if "auto_ets" in models else 0, horizontal=True, key="model"
    )
    band = fc[fc.model == model]
    history = daily.tail(90)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=band.target_date, y=band.hi_95, line={"width": 0}, showlegend=False, hoverinfo="skip"))
    fig.add_trace(
        go.Scatter(x=band.target_date, y=band.lo_95, fill="tonexty", line={"width": 0}, name="95 %",
                   fillcolor="rgba(31,119,180,0.15)")
    )  # fmt: skip
    fig.add_trace(go.Scatter(x=band.target_date, y=band.hi_80, line={"width": 0}, showlegend=False, hoverinfo="skip"))
    fig.add_trace(
        go.Scatter(x=band.target_date, y=band.lo_80, fill="tonexty", line={"width": 0}, name="80 %",
                   fillcolor="rgba(31,119,180,0.35)")
    )  # fmt: skip
    fig.add_trace(go.Scatter(x=history.date, y=history.close, name="close", line={"color": "#333"}))
    fig.add_trace(go.Scatter(x=band.target_date, y=band.point, name=f"{model} forecast", line={"dash": "dash"}))
    fig.update_layout(title=f"Forecast from {band.run_date.iloc[0]} (UTC), {model}, with its 80/95 % fan")
    fig.update_xaxes(title=UTC_DAY)
    chart(fig, "forecast")
    scores = read(lake, "backtest_scores", lake.currency, coin_id)
    if scores.empty:
        empty("no backtest scores for this forecast yet.")
    else:
        st.caption("Backtest (rolling origin), averaged over horizons 1–30: MASE < 1 beats the in-sample naive step.")
        st.dataframe(
            scores, hide_index=True,
            column_config={
                "mase": st.column_config.NumberColumn("MASE", format="%.3f"),
                "smape": st.column_config.NumberColumn("sMAPE", format="%.3f"),
                "coverage_80": st.column_config.NumberColumn("coverage 80 %", format="percent"),
                "coverage_95": st.column_config.NumberColumn("coverage 95 %", format="percent"),
                "beats_naive_share": st.column_config.NumberColumn("beats naive (share of horizons)", format="percent"),
            },
        )  # fmt: skip
        by_horizon = read(lake, "backtest_by_horizon", lake.currency, coin_id)
        left, right = st.columns(2)
        with left:
            fig = px.line(
                by_horizon, x="horizon", y="mase", color="model", markers=True, title="Backtest MASE by horizon"
            )
            fig.update_xaxes(title="horizon (days)")
            fig.update_yaxes(title="MASE", rangemode="tozero")
            chart(fig, "mase")
        with right:
            coverage = by_horizon.melt(
                id_vars=["model", "horizon"], value_vars=["coverage_80", "coverage_95"], var_name="band"
            )
            fig = px.line(
                coverage, x="horizon", y="value", color="model", line_dash="band", markers=True,
                title="Backtest coverage by horizon (nominal 80 % / 95 %)",
            )  # fmt: skip
            fig.update_xaxes(title="horizon (days)")
            fig.update_yaxes(tickformat=".0%", title="share of folds inside the band", range=[0, 1.05])
            chart(fig, "coverage")


def _risk(lake: Lake, coin_id: str) -> None:
    if not needs(lake, "gold.coin_risk", "geckolake run"):
        return
    risk = read(lake, "coin_risk", lake.currency, coin_id)
    if risk.dropna(how="all", subset=risk.columns[1:]).empty:
        empty("risk measures need 7 to 365 full days of history; none is full yet for this coin.")
        return
    last = risk.iloc[-1]
    cols = st.columns(5)
    for col, (label, value, fmt) in zip(
        cols,
        [
            ("volatility 90 d (ann.)", last.vol_90d, "{:.1%}"),
            ("max drawdown 90 d", last.max_drawdown_90d, "{:.1%}"),
            ("Sharpe 90 d", last.sharpe_90d, "{:.2f}"),
            ("beta to BTC 90 d", last.beta_btc_90d, "{:.2f}"),
            ("VaR 95 % 1 d", last.var_95_1d, "{:.1%}"),
        ],
        strict=True,
    ):
        col.metric(label, "–" if pd.isna(value) else fmt.format(value))
    tabs = st.tabs(["volatility", "drawdown", "Sharpe", "beta / correlation to BTC", "VaR / ES"])
    panels = [
        (["vol_30d", "vol_90d"], ".0%"),
        (["max_drawdown_90d", "max_drawdown_365d"], ".0%"),
        (["sharpe_90d"], ".2f"),
        (["beta_btc_90d", "corr_btc_90d"], ".2f"),
        (["var_95_1d", "es_95_1d"], ".1%"),
    ]
    for tab, (columns, fmt) in zip(tabs, panels, strict=True):
        with tab:
            fig = px.line(risk, x="date", y=columns)
            fig.update_yaxes(tickformat=fmt, title="")
            fig.update_xaxes(title=UTC_DAY)
            chart(fig, f"risk_{columns[0]}")
