-- model: silver.categories
-- grain: one row per category per UTC day (latest fetch of the day wins)
-- key: category_id, snapshot_date
-- partition: none
-- inputs: bronze_categories
-- merge: whole
-- snapshot_date: UTC date of CoinGecko's updated_at, or of the fetch when absent.
SELECT
    category_id,
    utc_date(coalesce(updated_at, _fetched_at)) AS snapshot_date,
    name,
    market_cap,
    market_cap_change_24h,
    volume_24h,
    content,
    top_3_coins_id,
    top_3_coins,
    position,
    updated_at,
    _run_id,
    _fetched_at,
    _raw_sha256,
    _raw_path
FROM bronze_categories
WHERE category_id IS NOT NULL AND coalesce(updated_at, _fetched_at) IS NOT NULL
