-- model: silver.market_snapshots
-- grain: one row per distinct CoinGecko market snapshot (coin, currency, last_updated)
-- key: coin_id, vs_currency, snapshot_ts
-- partition: date
-- inputs: bronze_coins_markets
-- merge: partitions
-- snapshot_ts = CoinGecko's last_updated, not the fetch time; date = its UTC date.
-- Rows without last_updated have no snapshot time: the parser quarantines them (any left are
-- counted as filtered, merge.count_filtered). Rows of a category's page (category set) are
-- membership, not the ranking: they go to silver.category_members and are counted as filtered here.
SELECT
    coin_id,
    vs_currency,
    last_updated AS snapshot_ts,
    symbol,
    name,
    current_price,
    market_cap,
    market_cap_rank,
    fully_diluted_valuation,
    total_volume,
    high_24h,
    low_24h,
    price_change_24h,
    price_change_percentage_24h,
    market_cap_change_24h,
    market_cap_change_percentage_24h,
    price_change_percentage_1h,
    price_change_percentage_24h_in_currency,
    price_change_percentage_7d,
    price_change_percentage_30d,
    circulating_supply,
    total_supply,
    max_supply,
    ath,
    ath_change_percentage,
    ath_date,
    atl,
    atl_change_percentage,
    atl_date,
    roi_times,
    roi_currency,
    roi_percentage,
    last_updated,
    utc_date(last_updated) AS date,
    _run_id,
    _fetched_at,
    _raw_sha256,
    _raw_path
FROM bronze_coins_markets
WHERE coin_id IS NOT NULL AND vs_currency IS NOT NULL AND last_updated IS NOT NULL AND category IS NULL
