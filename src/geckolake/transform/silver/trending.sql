-- model: silver.trending (stage + merge; small table rewritten whole)
-- grain: one trending list per UTC hour, one row per item of that list
-- key: snapshot_ts, item_type, item_id   (snapshot_ts = fetch time truncated to the hour)
-- partition: none
-- inputs: bronze_trending (new rows), existing (current silver.trending rows)
-- /search/trending carries no time of its own. A list is a whole: within an hour the latest fetch
-- (then the greatest raw sha256) replaces the earlier list entirely, so items never mix.
WITH candidates AS (
    SELECT
        date_trunc('hour', _fetched_at) AS snapshot_ts,
        item_type, item_id, name, symbol, market_cap_rank, score, position, price_btc, price_usd,
        market_cap_usd, total_volume_usd, price_change_percentage_24h_usd, coins_count, floor_price,
        _run_id, _fetched_at, _raw_sha256, _raw_path
    FROM bronze_trending
    WHERE item_type IS NOT NULL AND item_id IS NOT NULL AND _fetched_at IS NOT NULL
    UNION ALL BY NAME
    SELECT * FROM existing
),
winner AS (
    SELECT snapshot_ts, max((_fetched_at, _raw_sha256)) AS fetch
    FROM candidates
    GROUP BY snapshot_ts
)
SELECT c.*
FROM candidates c
JOIN winner w ON c.snapshot_ts = w.snapshot_ts AND (c._fetched_at, c._raw_sha256) = w.fetch
QUALIFY row_number() OVER (
    PARTITION BY c.snapshot_ts, c.item_type, c.item_id
    ORDER BY c.position NULLS LAST, c._raw_path DESC, hash(c) DESC
) = 1
