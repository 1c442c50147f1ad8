"""geckolake: CoinGecko to an analysis-ready Iceberg lakehouse."""

__version__ = "0.1.0"
