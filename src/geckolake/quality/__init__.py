"""Data quality: checks declared per table, the runner, the publication gate, market anomalies.

checks.py     check kinds (audits as queries that return bad rows)
suite.py      the checks declared per table (CHECKS, key checks from the table definitions)
runner.py     run checks on a lake, write ops.dq_results
gate.py       keep gold at its last good snapshot when silver fails error-level checks
anomalies.py  market anomalies (k·σ jumps, stale prices, volume spikes, cap ≠ price × supply)
"""
