-- model: gold.coin_aggregates
-- grain: one row per coin, currency and UTC day with at least one market snapshot
-- key: coin_id, vs_currency, date
-- partition: month
-- inputs: snapshots
-- merge: recompute
-- The reference design's table, without its duplicate bug. `snapshots`: silver.market_snapshots rows
-- of whole days; the runner keeps the days it asked for.
-- silver.market_snapshots is unique by (coin_id, vs_currency, snapshot_ts), so records_count counts
-- distinct CoinGecko snapshots, never copies of one. The average adds the prices in snapshot_ts order
-- (ordered_avg) so that the floating-point sum depends neither on thread scheduling nor on the engine;
-- symbol and name are those of the day's last snapshot carrying one (snapshot_ts is unique per group).
WITH s AS (
    SELECT coin_id, vs_currency, snapshot_ts, symbol, name, current_price, utc_date(snapshot_ts) AS date
    FROM snapshots
)
SELECT
    coin_id,
    vs_currency,
    date,
    arg_max(symbol, snapshot_ts) FILTER (WHERE symbol IS NOT NULL) AS symbol,
    arg_max(name, snapshot_ts) FILTER (WHERE name IS NOT NULL) AS name,
    ordered_avg(current_price, snapshot_ts) AS avg_price,
    min(current_price) AS min_price,
    max(current_price) AS max_price,
    count(*) AS records_count,
    min(snapshot_ts) AS first_snapshot_ts,
    max(snapshot_ts) AS last_snapshot_ts,
    strftime(date, '%Y-%m') AS month
FROM s
GROUP BY coin_id, vs_currency, date
