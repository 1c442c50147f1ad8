"""Price forecasts on log prices (naive random walk, statsforecast AutoETS/AutoTheta) and their
rolling-origin backtests: :mod:`models`, :mod:`backtest`, :mod:`run`."""
