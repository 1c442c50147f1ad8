"""The web dashboard (``geckolake dashboard``): Streamlit pages over one lake, read-only.

``server.serve`` starts Streamlit on ``app.py``; each page (``market``, ``coin``, ``risk``,
``health``) draws Plotly charts from the bounded reads in ``data`` (cached in ``ui``). Streamlit
and Plotly are the ``dashboard`` extra, imported only here.
"""
