-- model: gold.coin_daily_returns
-- table: gold.coin_daily
-- grain: one row per coin, currency and UTC day with at least one observation
-- key: coin_id, vs_currency, date
-- partition: month
-- inputs: daily, closes
-- merge: recompute
-- gold.coin_daily, second step (returns and quality), one row per row of `daily`.
-- daily: coin_daily rows from coin_daily.sql, or existing ones, to complete; closes: coin_id,
-- vs_currency, date, close of every row the previous days may be found in (it may include `daily`).
-- Rule (p = the row of the same coin and currency at date - 1, when there is one):
--   return_1d = close / p.close - 1, null when p is missing or p.close <= 0;
--   log_return_1d = ln(close / p.close), null when p is missing or either close <= 0
--     (a dead coin's fall to 0 has return_1d = -1 and no log return);
--   quality = first that applies: 'provisional' (no row at date + 1: nothing observed at or after
--     the closing midnight, so the day may not be over and its close is a live price: the row will
--     change), 'gap' (no row at date - 1: a coin's first day or after a hole), 'zero_price' (close
--     or p.close <= 0), 'single_point' (observations = 1: open = high = low = close come from one
--     point), else 'ok'.
-- A row depends only on its own values and on whether the previous and next days have rows, so
-- completing any set of days gives the same values as completing all of them (`closes` must hold
-- the neighbouring days the lake has).
SELECT
    d.coin_id,
    d.vs_currency,
    d.date,
    d.open,
    d.high,
    d.low,
    d.close,
    d.volume,
    d.market_cap,
    d.market_cap_rank,
    CASE WHEN p.close > 0 THEN d.close / p.close - 1 END AS return_1d,
    CASE WHEN p.close > 0 AND d.close > 0 THEN ln(d.close / p.close) END AS log_return_1d,
    CASE
        WHEN n.date IS NULL THEN 'provisional'
        WHEN p.close IS NULL THEN 'gap'
        WHEN d.close <= 0 OR p.close <= 0 THEN 'zero_price'
        WHEN d.observations = 1 THEN 'single_point'
        ELSE 'ok'
    END AS quality,
    d.source,
    d.observations,
    d.month
FROM daily d
LEFT JOIN (SELECT DISTINCT coin_id, vs_currency, date, close FROM closes) p
    ON p.coin_id = d.coin_id AND p.vs_currency = d.vs_currency AND p.date = d.date - 1
LEFT JOIN (SELECT DISTINCT coin_id, vs_currency, date FROM closes) n
    ON n.coin_id = d.coin_id AND n.vs_currency = d.vs_currency AND n.date = d.date + 1
