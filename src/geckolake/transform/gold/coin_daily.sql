-- model: gold.coin_daily
-- grain: one row per coin, currency and UTC day with at least one observation
-- key: coin_id, vs_currency, date
-- partition: month
-- inputs: prices, snapshots
-- merge: recompute
-- Daily OHLC + volume and market cap. prices: silver.price_history rows; snapshots:
-- silver.market_snapshots rows; whole days. A day's close needs the next day's rows: the runner
-- passes them and keeps only the days it asked for (incremental), or passes everything (rebuild).
-- Rule:
--   observations of D = every price_history point (any granularity) and every market snapshot with
--     time in [D 00:00, D+1 00:00), plus the 'daily' point at exactly D+1 00:00 UTC when it exists
--     (CoinGecko's daily point at midnight is the previous day's close);
--   open = price of the first observation, close = price of the last one (so the D+1 00:00 daily
--     point, when present, is the close); at one instant 5m > hourly > daily > snapshot decides;
--   high / low = max / min over all observations;
--   volume / market_cap = value at the last observation carrying one (same tie rule);
--   market_cap_rank = CoinGecko's rank in the day's last market snapshot carrying one (null when the
--     day has no snapshot: daily history points carry no rank);
--   source = 'intraday' when any 5m/hourly point is among them, else 'daily' when a daily point is,
--     else 'snapshot'; observations = their number.
-- return_1d, log_return_1d and quality need the previous day's close: coin_daily_returns.sql adds them.
-- Plan: one aggregate per (coin, currency, day) over that day's own observations, then the next
-- day's midnight daily point is attached with a window (no self-join, no row duplication).
WITH obs AS (
    SELECT
        coin_id, vs_currency, ts, price, market_cap, total_volume AS volume, NULL::BIGINT AS rank,
        granularity AS kind,
        CASE granularity WHEN '5m' THEN 0 WHEN 'hourly' THEN 1 WHEN 'daily' THEN 2 ELSE 3 END AS prio
    FROM prices
    WHERE price IS NOT NULL
    UNION ALL
    SELECT
        coin_id, vs_currency, snapshot_ts AS ts, current_price AS price, market_cap, total_volume AS volume,
        market_cap_rank AS rank, 'snapshot' AS kind, 4 AS prio
    FROM snapshots
    WHERE current_price IS NOT NULL
),
picked AS (
    SELECT
        o.*,
        utc_date(o.ts) AS date,
        epoch_us(o.ts) * 8 + o.prio AS first_key,  -- earliest first; same instant: priority first
        epoch_us(o.ts) * 8 + 7 - o.prio AS last_key  -- latest first; same instant: priority first
    FROM obs o
),
days AS (
    SELECT
        coin_id,
        vs_currency,
        date,
        arg_min(price, first_key) AS open,
        arg_max(price, last_key) AS close,
        max(price) AS high,
        min(price) AS low,
        arg_max(volume, last_key) FILTER (WHERE volume IS NOT NULL) AS volume,
        arg_max(market_cap, last_key) FILTER (WHERE market_cap IS NOT NULL) AS market_cap,
        arg_max(rank, last_key) FILTER (WHERE rank IS NOT NULL) AS market_cap_rank,
        bool_or(kind IN ('5m', 'hourly')) AS has_intraday,
        bool_or(kind = 'daily') AS has_daily,
        count(*) AS observations,
        -- silver keeps daily points only at 00:00 UTC: at most one per day
        arg_min({'price': price, 'volume': volume, 'market_cap': market_cap}, ts) FILTER (WHERE kind = 'daily')
            AS midnight
    FROM picked
    GROUP BY coin_id, vs_currency, date
),
closed AS (
    SELECT
        *,
        CASE WHEN lead(date) OVER w = date + 1 THEN lead(midnight) OVER w END AS next_midnight
    FROM days
    WINDOW w AS (PARTITION BY coin_id, vs_currency ORDER BY date)
)
SELECT
    c.coin_id,
    c.vs_currency,
    c.date,
    c.open,
    greatest(c.high, c.next_midnight.price) AS high,
    least(c.low, c.next_midnight.price) AS low,
    coalesce(c.next_midnight.price, c.close) AS close,
    coalesce(c.next_midnight.volume, c.volume) AS volume,
    coalesce(c.next_midnight.market_cap, c.market_cap) AS market_cap,
    c.market_cap_rank,
    CASE
        WHEN c.has_intraday THEN 'intraday'
        WHEN c.has_daily OR c.next_midnight IS NOT NULL THEN 'daily'
        ELSE 'snapshot'
    END AS source,
    c.observations + CASE WHEN c.next_midnight IS NULL THEN 0 ELSE 1 END AS observations,
    strftime(c.date, '%Y-%m') AS month
FROM closed c
