"""The Pipeline health page: runs, phases, API calls and credits, checks and gates, freshness, alerts."""

from __future__ import annotations

import json
import math

import pandas as pd
import plotly.express as px
import streamlit as st

from geckolake.dashboard.ui import TTL_SECONDS, UTC_DAY, UTC_TIME, Lake, chart, empty, no_lake, read
from geckolake.errors import LakeError
from geckolake.flows.read import status
from geckolake.ops.status import Status

STATUS_COLOURS = {
    "succeeded": "#2ca02c", "partial": "#ff7f0e", "gated": "#9467bd", "failed": "#d62728", "interrupted": "#8c564b",
}  # fmt: skip


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _status(_lake: Lake, path: str) -> Status | None:
    try:
        return status(_lake.settings)
    except LakeError:
        return None


def render(lake: Lake) -> None:
    """Draw the Pipeline health page for ``lake``."""
    st.title("Pipeline health")
    if no_lake(lake):
        return
    st_ = _status(lake, str(lake.path))
    if st_ is not None:
        _at_a_glance(st_)
    _gated(lake)
    _runs(lake, st_)
    _checks(lake)
    if st_ is not None:
        _freshness(st_)
    left, right = st.columns(2)
    with left:
        st.subheader("Anomalies")
        _anomalies(lake)
    with right:
        st.subheader("Alerts sent")
        _table(lake, "ops.alerts_sent", "alerts_sent", "no alerts sent (`geckolake alert test` tries the channels).")


def _at_a_glance(st_: Status) -> None:
    a, b, c, d = st.columns(4)
    a.metric("health", "healthy" if st_.healthy else "unhealthy")
    last = max(st_.jobs, key=lambda j: j.started_at or st_.now, default=None)
    b.metric(f"last run ({last.command})" if last else "last run", last.status if last else "none")
    if st_.credits is not None:
        credits = st_.credits
        c.metric(f"API credits {credits.month}", f"{credits.used:,}", help=f"{credits.plan} plan")
        d.metric(
            "monthly budget",
            f"{credits.monthly:,}" if credits.monthly else "unlimited",
            f"{credits.fraction:.2%} used" if credits.fraction is not None else None,
            delta_color="off",
        )
    st.caption(f"as of {st_.now:%Y-%m-%d %H:%M} UTC")


def _gated(lake: Lake) -> None:
    gated = read(lake, "gated_runs") if lake.has("ops.pipeline_runs") else pd.DataFrame()
    if gated.empty:
        return
    for run_id, rows in gated.groupby("run_id", sort=False):
        first = rows.iloc[0]
        st.warning(
            f"Run `{run_id}` ({first.command}, {first.started_at:%Y-%m-%d %H:%M} UTC) was **gated**: "
            f"gold was not published. {first.error or ''}",
            icon=":material/gpp_maybe:",
        )
        with st.expander(f"failing checks and sample rows of {run_id}"):
            for r in rows.dropna(subset=["check_name"]).itertuples():
                st.markdown(f"**{r.table_name}.{r.check_name}** ({r.severity}): {r.failing_rows} rows — {r.detail}")
                sample = json.loads(r.sample_json or "[]")
                if sample:
                    st.dataframe(pd.DataFrame(sample), hide_index=True)


def _runs(lake: Lake, st_: Status | None) -> None:
    st.subheader("Runs")
    if not lake.has("ops.pipeline_runs"):
        empty("no runs recorded yet: run `geckolake run` (or `geckolake demo`).")
        return
    runs = read(lake, "pipeline_runs")
    fig = px.scatter(
        runs, x="started_at", y="seconds", color="status", symbol="command", color_discrete_map=STATUS_COLOURS,
        hover_data=["run_id", "api_calls", "rate_limited", "error"], title="Runs: start time, duration and status",
    )  # fmt: skip
    fig.update_traces(marker_size=11)
    fig.update_xaxes(title=UTC_TIME)
    fig.update_yaxes(title="duration (s)", rangemode="tozero")
    fig.update_layout(hovermode="closest")
    chart(fig, "runs")
    left, right = st.columns(2)
    with left:
        per_day = (
            runs.assign(day=runs.started_at.dt.strftime("%Y-%m-%d"))
            .groupby("day", as_index=False)[["api_calls", "retries", "rate_limited"]]
            .sum()
            .melt(id_vars="day", var_name="kind", value_name="count")
        )
        fig = px.bar(per_day, x="day", y="count", color="kind", barmode="group",
                     title="API calls, retries and 429s per day")  # fmt: skip
        fig.update_xaxes(title=UTC_DAY, type="category")
        chart(fig, "calls")
    with right:
        if lake.has("ops.task_runs"):
            tasks = read(lake, "task_runs")
            fig = px.bar(tasks, x="run_id", y="seconds", color="task", title="Phases of each run (ops.task_runs)",
                         hover_data=["api_calls", "rows_out", "status"])  # fmt: skip
            fig.update_yaxes(title="seconds")
            fig.update_xaxes(title="run")
            fig.update_layout(hovermode="closest")
            chart(fig, "phases")
        else:
            empty("no phases recorded yet (`ops.task_runs` fills with each run).")
    with st.expander("latest runs"):
        st.dataframe(runs.head(50), hide_index=True)
    if lake.has("ops.raw_manifest"):
        _credits(read(lake, "credits_per_month"), st_.credits.monthly if st_ and st_.credits else None)


def _credits(per_month: pd.DataFrame, budget: int | None) -> None:
    fig = px.bar(per_month, x="month", y="credits", title="API credits per month (UTC) vs the monthly budget")
    if budget:
        fig.add_hline(y=budget, line_dash="dash", line_color="#d62728", annotation_text=f"budget {budget:,}")
        if budget > 20 * per_month.credits.max():  # a linear axis would flatten the bars to nothing
            fig.update_yaxes(type="log", range=[0, math.log10(budget) + 0.2])
    fig.update_xaxes(title="month (UTC)", type="category")
    fig.update_yaxes(title="credits (calls answered)", rangemode="tozero")
    chart(fig, "credits")


def _checks(lake: Lake) -> None:
    st.subheader("Data quality")
    if not lake.has("ops.dq_results"):
        empty("no check results yet: run `geckolake check`.")
        return
    results = read(lake, "check_results")
    failing = results[~results.passed]
    when = results.checked_at.iloc[0]
    if failing.empty:
        st.success(f"all {len(results)} checks passed at {when:%Y-%m-%d %H:%M} UTC.", icon=":material/check:")
    else:
        st.error(
            f"{len(failing)} of {len(results)} checks failed at {when:%Y-%m-%d %H:%M} UTC.", icon=":material/close:"
        )
    st.dataframe(results, hide_index=True, height=260)


def _freshness(st_: Status) -> None:
    st.subheader("Freshness vs SLA")
    rows = pd.DataFrame(
        [
            {"table": f.table, "latest (UTC)": str(f.latest or "–"), "age (min)": f.age_minutes,
             "SLA (min)": f.sla_minutes, "severity": f.severity, "ok": f.ok}
            for f in st_.freshness
        ]
    )  # fmt: skip
    if rows.empty:
        empty("no freshness rules apply yet.")
    else:
        st.dataframe(rows, hide_index=True)


def _anomalies(lake: Lake) -> None:
    if not lake.has("ops.anomalies"):
        empty("no market anomalies detected (runs look for them after commits).")
        return
    found = read(lake, "anomalies")
    fig = px.scatter(
        found, x="detected_at", y="score", color="kind", hover_data=["coin_id", "value", "expected", "detail"],
        title="Anomalies: when, how unusual (score), which kind",
    )  # fmt: skip
    fig.update_xaxes(title=UTC_TIME)
    fig.update_layout(hovermode="closest")
    chart(fig, "anomalies")
    st.dataframe(found, hide_index=True, height=240)


def _table(lake: Lake, table: str, reader: str, when_empty: str) -> None:
    if not lake.has(table):
        empty(when_empty)
        return
    st.dataframe(read(lake, reader), hide_index=True, height=240)
