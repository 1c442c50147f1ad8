-- model: silver.sparkline_prices (stage: bronze rows -> silver candidates; merged latest-fetch-wins by key)
-- grain: one row per inferred hourly sparkline point
-- key: coin_id, vs_currency, ts
-- partition: date (UTC date of ts)
-- input: bronze_coins_markets
-- /coins/markets?sparkline=true gives the last 7 days as n (usually 168) hourly prices without
-- timestamps, oldest first, the last one being the hour of the snapshot. We infer
--     ts_i = date_trunc('hour', last_updated) - (n - 1 - i) hours      (i = 0 .. n-1)
-- Snapshots without last_updated or without a sparkline give no points; a null price gives none
-- either (counted as filtered: TransformReport.filtered, merge.count_filtered). Category pages
-- (membership, category set) are asked without sparklines; any they carry are left out too.
WITH points AS (
    SELECT
        coin_id,
        vs_currency,
        last_updated,
        len(sparkline_7d) AS n,
        unnest(sparkline_7d) AS price,
        generate_subscripts(sparkline_7d, 1) AS i,
        _run_id,
        _fetched_at,
        _raw_sha256,
        _raw_path
    FROM bronze_coins_markets
    WHERE coin_id IS NOT NULL
      AND category IS NULL
      AND vs_currency IS NOT NULL
      AND last_updated IS NOT NULL
      AND sparkline_7d IS NOT NULL
      AND len(sparkline_7d) > 0
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
