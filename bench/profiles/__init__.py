"""Profiling helpers behind the "where the time goes" notes in docs/benchmarks.md (not benchmarks)."""
