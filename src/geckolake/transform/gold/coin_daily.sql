-- model: gold.coin_daily (daily OHLC + volume and market cap)
-- grain: one row per coin, currency and UTC day D with at least one observation in [D, D+1)
-- key: coin_id, vs_currency, date
-- partition: month ('YYYY-MM' of date)
-- inputs: prices (silver.price_history rows), snapshots (silver.market_snapshots rows), both covering
--         the days to compute and the day after; groups (coin_id, vs_currency, date: days to compute)
-- Rule:
--   observations of D = every price_history point (any granularity) and every market snapshot with
--     time in [D 00:00, D+1 00:00), plus the 'daily' point at exactly D+1 00:00 UTC when it exists
--     (CoinGecko's daily point at midnight is the previous day's close);
--   several observations at one instant: 5m > hourly > daily > snapshot;
--   open = price of the first observation, close = price of the last one (so the D+1 00:00 daily
--     point, when present, is the close), high/low = max/min over all observations;
--   volume / market_cap = value at the last observation carrying one;
--   source = 'intraday' when any 5m/hourly point is among them, else 'daily' when a daily point is,
--     else 'snapshot'; observations = their number.
WITH obs AS (
    SELECT
        coin_id, vs_currency, ts, price, market_cap, total_volume AS volume, granularity AS kind,
        CASE granularity WHEN '5m' THEN 0 WHEN 'hourly' THEN 1 WHEN 'daily' THEN 2 ELSE 3 END AS prio
    FROM prices
    WHERE price IS NOT NULL
    UNION ALL
    SELECT
        coin_id, vs_currency, snapshot_ts AS ts, current_price AS price, market_cap, total_volume AS volume,
        'snapshot' AS kind, 4 AS prio
    FROM snapshots
    WHERE current_price IS NOT NULL
),
assigned AS (
    SELECT *, CAST(ts AS DATE) AS date, false AS carried FROM obs
    UNION ALL
    SELECT *, CAST(ts AS DATE) - 1 AS date, true AS carried
    FROM obs
    WHERE kind = 'daily' AND ts = date_trunc('day', ts)
),
picked AS (
    SELECT a.*
    FROM assigned a
    SEMI JOIN groups g ON a.coin_id = g.coin_id AND a.vs_currency = g.vs_currency AND a.date = g.date
    QUALIFY row_number() OVER (PARTITION BY a.coin_id, a.vs_currency, a.date, a.ts ORDER BY a.prio) = 1
)
SELECT
    coin_id,
    vs_currency,
    date,
    arg_min(price, ts) AS open,
    max(price) AS high,
    min(price) AS low,
    arg_max(price, ts) AS close,
    arg_max(volume, ts) FILTER (WHERE volume IS NOT NULL) AS volume,
    arg_max(market_cap, ts) FILTER (WHERE market_cap IS NOT NULL) AS market_cap,
    CASE
        WHEN bool_or(kind IN ('5m', 'hourly')) THEN 'intraday'
        WHEN bool_or(kind = 'daily') THEN 'daily'
        ELSE 'snapshot'
    END AS source,
    count(*) AS observations,
    strftime(date, '%Y-%m') AS month
FROM picked
GROUP BY coin_id, vs_currency, date
HAVING bool_or(NOT carried)
