-- model: silver.live_prices
-- grain: one row per distinct /simple/price point (coin, currency, CoinGecko's last_updated_at)
-- key: coin_id, vs_currency, last_updated_at
-- partition: date
-- inputs: bronze_simple_price
-- merge: partitions
-- job: prices
-- Merged by the prices poll (transform/live_prices.py), not by a run's batches; a replay rebuilds it
-- from all of bronze like the rest of silver. Every distinct price point CoinGecko published is kept,
-- and per key the latest fetch wins. A row without last_updated_at has no key: it stays in bronze and
-- is counted as filtered.
SELECT
    coin_id,
    vs_currency,
    last_updated_at,
    price,
    market_cap,
    vol_24h,
    change_24h,
    utc_date(last_updated_at) AS date,
    _run_id,
    _fetched_at,
    _raw_sha256,
    _raw_path
FROM bronze_simple_price
WHERE coin_id IS NOT NULL AND vs_currency IS NOT NULL AND last_updated_at IS NOT NULL
