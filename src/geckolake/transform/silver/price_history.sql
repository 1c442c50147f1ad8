-- model: silver.price_history
-- grain: one row per market_chart point (coin, currency, time, granularity)
-- key: coin_id, vs_currency, ts, granularity
-- partition: month
-- inputs: bronze_market_chart
-- merge: partitions
-- month = 'YYYY-MM' of ts.
-- Daily bodies end with CoinGecko's live "now" point, which is not aligned to 00:00 UTC: it is a
-- live price (already captured by market snapshots), not a daily point, so granularity 'daily'
-- keeps only points at exactly 00:00 UTC. Hourly and 5-minute points are all kept.
-- Rows left out are counted (TransformReport.filtered, merge.count_filtered), never dropped silently.
SELECT
    coin_id,
    vs_currency,
    ts,
    granularity,
    price,
    market_cap,
    total_volume,
    utc_month(ts) AS month,
    _run_id,
    _fetched_at,
    _raw_sha256,
    _raw_path
FROM bronze_market_chart
WHERE coin_id IS NOT NULL
  AND vs_currency IS NOT NULL
  AND ts IS NOT NULL
  AND granularity IS NOT NULL
  AND (granularity <> 'daily' OR is_utc_midnight(ts))
