"""CoinGecko API access: plans, endpoint request shapes, the rate-limited client."""
