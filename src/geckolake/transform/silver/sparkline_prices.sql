-- model: silver.sparkline_prices
-- grain: one row per inferred hourly sparkline point (coin, currency, hour)
-- key: coin_id, vs_currency, ts
-- partition: date
-- inputs: bronze_coins_markets
-- merge: partitions
-- date = UTC date of ts.
-- /coins/markets?sparkline=true gives the last 7 days as n (usually 168) hourly prices without
-- timestamps, oldest first, the last one being the hour of the snapshot. We infer
--     ts_i = date_trunc('hour', last_updated) - (n - 1 - i) hours      (i = 0 .. n-1)
-- Snapshots without last_updated or without a sparkline give no points; a null price gives none
-- either (counted as filtered: TransformReport.filtered, merge.count_filtered). Category pages
-- (membership, category set) are asked without sparklines; any they carry are left out too.
-- The points come from UNNEST ... WITH ORDINALITY (i counts from 1), which every engine we run has in
-- some form (Spark: POSEXPLODE, counted from 0: the transpiler adds the 1).
WITH points AS (
    SELECT
        b.coin_id,
        b.vs_currency,
        b.last_updated,
        array_length(b.sparkline_7d) AS n,
        p.price AS price,
        p.i AS i,
        b._run_id,
        b._fetched_at,
        b._raw_sha256,
        b._raw_path
    FROM bronze_coins_markets b
    CROSS JOIN UNNEST(b.sparkline_7d) WITH ORDINALITY AS p(price, i)
    WHERE b.coin_id IS NOT NULL
      AND b.category IS NULL
      AND b.vs_currency IS NOT NULL
      AND b.last_updated IS NOT NULL
      AND b.sparkline_7d IS NOT NULL
      AND array_length(b.sparkline_7d) > 0
)
SELECT
    coin_id,
    vs_currency,
    utc_hour_floor(last_updated) - to_hours(n - i) AS ts,
    price,
    last_updated AS snapshot_ts,
    utc_date(utc_hour_floor(last_updated) - to_hours(n - i)) AS date,
    _run_id,
    _fetched_at,
    _raw_sha256,
    _raw_path
FROM points
WHERE price IS NOT NULL
