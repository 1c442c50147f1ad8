"""The Streamlit script ``geckolake dashboard`` serves: four pages over one lake, read-only.

Run by Streamlit (``streamlit run app.py``), not imported by the package; the lake and settings
come from ``GECKOLAKE_LAKE`` / ``GECKOLAKE_CONFIG`` like every command's.
"""

from __future__ import annotations

import streamlit as st

from geckolake.dashboard import coin, health, market, risk
from geckolake.dashboard.ui import current_lake


def main() -> None:
    st.set_page_config(page_title="geckolake", page_icon=":material/monitoring:", layout="wide")
    lake = current_lake()
    pages = [
        st.Page(lambda: market.render(lake), title="Market", url_path="market", default=True,
                icon=":material/show_chart:"),
        st.Page(lambda: coin.render(lake), title="Coin", url_path="coin", icon=":material/currency_bitcoin:"),
        st.Page(lambda: risk.render(lake), title="Risk & correlations", url_path="risk",
                icon=":material/scatter_plot:"),
        st.Page(lambda: health.render(lake), title="Pipeline health", url_path="health",
                icon=":material/monitor_heart:"),
    ]  # fmt: skip
    st.sidebar.caption(f"lake `{lake.path}` · {lake.currency.upper()} · times in UTC · read-only")
    st.navigation(pages).run()


main()
