"""Gold analytics and predictive views over ``gold.coin_daily`` (formulas in ``docs/metrics.md``).

One module per table family: :mod:`risk` (gold.coin_risk), :mod:`market` (gold.market_daily),
:mod:`movers` (gold.top_movers), :mod:`correlations` (gold.correlations), :mod:`categories`
(gold.category_daily), :mod:`forecast` (gold.price_forecasts, gold.forecast_backtests);
:mod:`refresh` recomputes them after a run (incremental) or a replay (full).

Every windowed value is computed from the values of its own window only, in a fixed order, so
recomputing the days a run touched gives bit-for-bit what a full rebuild gives.
"""
