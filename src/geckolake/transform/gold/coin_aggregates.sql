-- model: gold.coin_aggregates (the reference design's table, without its duplicate bug)
-- grain: one row per coin, currency and UTC day with at least one market snapshot
-- key: coin_id, vs_currency, date
-- partition: month ('YYYY-MM' of date)
-- inputs: snapshots (silver.market_snapshots rows covering the days to compute),
--         groups (coin_id, vs_currency, date: the days to compute)
-- silver.market_snapshots is unique by (coin_id, vs_currency, snapshot_ts), so records_count counts
-- distinct CoinGecko snapshots, never copies of one. Aggregates run over lists ordered by
-- snapshot_ts so that floating-point sums do not depend on thread scheduling.
WITH s AS (
    SELECT s.*, utc_date(s.snapshot_ts) AS date
    FROM snapshots s
    SEMI JOIN groups g
        ON s.coin_id = g.coin_id AND s.vs_currency = g.vs_currency AND utc_date(s.snapshot_ts) = g.date
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
