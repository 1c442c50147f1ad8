-- model: silver.global_market
-- grain: one row per /global snapshot (CoinGecko's updated_at)
-- key: updated_at
-- partition: none
-- inputs: bronze_global_market
-- merge: whole
SELECT
    updated_at,
    active_cryptocurrencies,
    upcoming_icos,
    ongoing_icos,
    ended_icos,
    markets,
    total_market_cap['usd'] AS total_market_cap_usd,
    total_volume['usd'] AS total_volume_usd,
    market_cap_percentage['btc'] AS btc_dominance,
    market_cap_percentage['eth'] AS eth_dominance,
    market_cap_change_percentage_24h_usd,
    volume_change_percentage_24h_usd,
    total_market_cap,
    total_volume,
    market_cap_percentage,
    _run_id,
    _fetched_at,
    _raw_sha256,
    _raw_path
FROM bronze_global_market
WHERE updated_at IS NOT NULL
