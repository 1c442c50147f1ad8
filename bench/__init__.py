"""geckolake benchmarks: each module prints one JSON object per result (see docs/benchmarks.md)."""
