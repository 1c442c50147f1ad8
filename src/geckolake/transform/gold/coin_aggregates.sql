-- model: gold.coin_aggregates (the reference design's table, without its duplicate bug)
-- grain: one row per coin, currency and UTC day with at least one market snapshot
-- key: coin_id, vs_currency, date
-- partition: month ('YYYY-MM' of date)
-- input: snapshots (silver.market_snapshots rows of whole days; the runner keeps the days it asked for)
-- silver.market_snapshots is unique by (coin_id, vs_currency, snapshot_ts), so records_count counts
-- distinct CoinGecko snapshots, never copies of one. Aggregates run over lists ordered by
-- snapshot_ts so that floating-point sums do not depend on thread scheduling.
WITH s AS (
    SELECT *, utc_date(snapshot_ts) AS date FROM snapshots
)
SELECT
    coin_id,
    vs_currency,
    date,
    list_last(list(symbol ORDER BY snapshot_ts) FILTER (WHERE symbol IS NOT NULL)) AS symbol,
    list_last(list(name ORDER BY snapshot_ts) FILTER (WHERE name IS NOT NULL)) AS name,
    list_avg(list(current_price ORDER BY snapshot_ts)) AS avg_price,
    min(current_price) AS min_price,
    max(current_price) AS max_price,
    count(*) AS records_count,
    min(snapshot_ts) AS first_snapshot_ts,
    max(snapshot_ts) AS last_snapshot_ts,
    strftime(date, '%Y-%m') AS month
FROM s
GROUP BY coin_id, vs_currency, date
