-- model: silver.category_members
-- grain: one row per category, member coin and UTC day of a /coins/markets?category= fetch
-- key: category_id, coin_id, snapshot_date
-- partition: none
-- inputs: bronze_coins_markets
-- merge: whole
-- Only rows of a category's page (category set). snapshot_date: UTC date of the page's latest
-- last_updated, CoinGecko's own time like silver.categories' date; of the fetch when the page has none.
-- rank_in_category = (page - 1) * 250 + position + 1: the member's place by market cap within the
-- category (pages of 250, the planner's page size).
SELECT
    category AS category_id,
    coin_id,
    utc_date(coalesce(max(last_updated) OVER (PARTITION BY _raw_sha256, _raw_path), _fetched_at)) AS snapshot_date,
    CAST((coalesce(page, 1) - 1) * 250 + position + 1 AS INTEGER) AS rank_in_category,
    vs_currency,
    market_cap,
    market_cap_rank,
    last_updated,
    _run_id,
    _fetched_at,
    _raw_sha256,
    _raw_path
FROM bronze_coins_markets
WHERE category IS NOT NULL AND coin_id IS NOT NULL AND _fetched_at IS NOT NULL
