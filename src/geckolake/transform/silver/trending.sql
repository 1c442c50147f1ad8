-- model: silver.trending
-- grain: one trending list per UTC hour (the latest fetch of the hour), one row per item
-- key: snapshot_ts, item_type, item_id
-- partition: none
-- inputs: bronze_trending, existing
-- merge: model
-- snapshot_ts = fetch time truncated to the hour; `existing` holds the current silver.trending rows.
-- /search/trending carries no time of its own. A list is a whole: within an hour the latest fetch
-- (then the greatest raw sha256) replaces the earlier list entirely, so items never mix.
-- Portable: the winning fetch of an hour is found with windows (latest _fetched_at, then greatest
-- _raw_sha256) rather than a max over a tuple, and ties within a list end on the values themselves.
WITH candidates AS (
    SELECT
        date_trunc('hour', _fetched_at) AS snapshot_ts,
        item_type, item_id, name, symbol, market_cap_rank, score, position, price_btc, price_usd,
        market_cap_usd, total_volume_usd, price_change_percentage_24h_usd, coins_count, floor_price,
        _run_id, _fetched_at, _raw_sha256, _raw_path
    FROM bronze_trending
    WHERE item_type IS NOT NULL AND item_id IS NOT NULL AND _fetched_at IS NOT NULL
    UNION ALL
    SELECT
        snapshot_ts, item_type, item_id, name, symbol, market_cap_rank, score, position, price_btc, price_usd,
        market_cap_usd, total_volume_usd, price_change_percentage_24h_usd, coins_count, floor_price,
        _run_id, _fetched_at, _raw_sha256, _raw_path
    FROM existing
),
latest_fetch AS (
    SELECT c.*, max(_fetched_at) OVER (PARTITION BY snapshot_ts) AS hour_fetched_at
    FROM candidates c
),
latest_list AS (
    SELECT f.*, max(_raw_sha256) OVER (PARTITION BY snapshot_ts) AS hour_sha256
    FROM latest_fetch f
    WHERE _fetched_at = hour_fetched_at
),
picked AS (
    SELECT
        l.*,
        row_number() OVER (
            PARTITION BY snapshot_ts, item_type, item_id
            ORDER BY position NULLS LAST, _raw_path DESC NULLS LAST, name DESC NULLS LAST, symbol DESC NULLS LAST,
                     market_cap_rank DESC NULLS LAST, score DESC NULLS LAST, price_btc DESC NULLS LAST,
                     price_usd DESC NULLS LAST, market_cap_usd DESC NULLS LAST, total_volume_usd DESC NULLS LAST,
                     price_change_percentage_24h_usd DESC NULLS LAST, coins_count DESC NULLS LAST,
                     floor_price DESC NULLS LAST, _run_id DESC NULLS LAST
        ) AS pick
    FROM latest_list l
    WHERE _raw_sha256 IS NOT DISTINCT FROM hour_sha256
)
SELECT
    snapshot_ts, item_type, item_id, name, symbol, market_cap_rank, score, position, price_btc, price_usd,
        market_cap_usd, total_volume_usd, price_change_percentage_24h_usd, coins_count, floor_price,
        _run_id, _fetched_at, _raw_sha256, _raw_path
FROM picked
WHERE pick = 1
