-- model: silver.coins
-- grain: one row per coin ever seen in /coins/markets or /coins/list
-- key: coin_id
-- partition: none
-- inputs: bronze_coins_markets, bronze_coins_list, existing
-- merge: model
-- `existing` holds the current silver.coins rows; the model merges them itself (small dimension
-- rewritten whole).
-- Every column is a "latest wins" pick over the union of new rows and the existing row, so the merge
-- is associative: applying batches one by one equals one rebuild over all of bronze.
--   symbol, name, lineage: /coins/markets beats /coins/list; then latest fetch, then raw sha256.
--   image, market_cap_rank, rank_ts: from the latest market snapshot (rank_ts = its last_updated).
--   platforms: from the latest /coins/list row (_platforms_fetched_at keeps its fetch time).
--   first_seen, last_seen: earliest / latest market snapshot time (CoinGecko's last_updated);
--   null for coins only listed.
-- Rows of a category's page (category set: membership, silver.category_members) are left out, so
-- the ranks and snapshot times stay those of the ranking pages.
-- Portable: the three branches list the same columns in the same order (no UNION BY NAME), and each
-- pick is a window + filter (no QUALIFY); ties end on the values themselves (no row hash).
WITH candidates AS (
    SELECT
        coin_id, symbol, name, image,
        market_cap_rank,
        last_updated AS rank_ts,
        CAST(NULL AS MAP(VARCHAR, VARCHAR)) AS platforms,
        CAST(NULL AS TIMESTAMPTZ) AS platforms_ts,
        'markets' AS name_source,
        last_updated AS first_seen,
        last_updated AS last_seen,
        _run_id, _fetched_at, _raw_sha256, _raw_path
    FROM bronze_coins_markets
    WHERE coin_id IS NOT NULL AND category IS NULL
    UNION ALL
    SELECT
        coin_id, symbol, name,
        CAST(NULL AS VARCHAR) AS image,
        CAST(NULL AS BIGINT) AS market_cap_rank,
        CAST(NULL AS TIMESTAMPTZ) AS rank_ts,
        platforms,
        _fetched_at AS platforms_ts,
        'list' AS name_source,
        CAST(NULL AS TIMESTAMPTZ) AS first_seen,
        CAST(NULL AS TIMESTAMPTZ) AS last_seen,
        _run_id, _fetched_at, _raw_sha256, _raw_path
    FROM bronze_coins_list
    WHERE coin_id IS NOT NULL
    UNION ALL
    SELECT
        coin_id, symbol, name, image, market_cap_rank, rank_ts, platforms,
        _platforms_fetched_at AS platforms_ts,
        name_source, first_seen, last_seen,
        _run_id, _fetched_at, _raw_sha256, _raw_path
    FROM existing
),
ident AS (
    SELECT coin_id, symbol, name, name_source, _run_id, _fetched_at, _raw_sha256, _raw_path
    FROM (
        SELECT
            *,
            row_number() OVER (
                PARTITION BY coin_id
                ORDER BY (name_source = 'markets') DESC, _fetched_at DESC NULLS LAST, _raw_sha256 DESC NULLS LAST,
                         _raw_path DESC NULLS LAST, symbol DESC NULLS LAST, name DESC NULLS LAST
            ) AS pick
        FROM candidates
    ) AS c
    WHERE pick = 1
),
ranked AS (
    SELECT coin_id, image, market_cap_rank, rank_ts
    FROM (
        SELECT
            *,
            row_number() OVER (
                PARTITION BY coin_id
                ORDER BY rank_ts DESC, _fetched_at DESC NULLS LAST, _raw_sha256 DESC NULLS LAST,
                         market_cap_rank DESC NULLS LAST, image DESC NULLS LAST
            ) AS pick
        FROM candidates
        WHERE rank_ts IS NOT NULL
    ) AS c
    WHERE pick = 1
),
listed AS (
    SELECT coin_id, platforms, platforms_ts
    FROM (
        SELECT
            *,
            -- a map is not orderable on every engine: its keys, then its values, are
            row_number() OVER (
                PARTITION BY coin_id
                ORDER BY platforms_ts DESC, _raw_sha256 DESC NULLS LAST, _raw_path DESC NULLS LAST,
                         map_keys(platforms) DESC NULLS LAST, map_values(platforms) DESC NULLS LAST
            ) AS pick
        FROM candidates
        WHERE platforms_ts IS NOT NULL
    ) AS c
    WHERE pick = 1
),
seen AS (
    SELECT coin_id, min(first_seen) AS first_seen, max(last_seen) AS last_seen
    FROM candidates
    GROUP BY coin_id
)
SELECT
    i.coin_id, i.symbol, i.name, r.image, r.market_cap_rank, r.rank_ts, l.platforms, i.name_source,
    s.first_seen, s.last_seen, l.platforms_ts AS _platforms_fetched_at,
    i._run_id, i._fetched_at, i._raw_sha256, i._raw_path
FROM ident i
JOIN seen s USING (coin_id)
LEFT JOIN ranked r USING (coin_id)
LEFT JOIN listed l USING (coin_id)
