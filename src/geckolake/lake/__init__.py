"""The lake: Iceberg catalog factory, table definitions, locks and query access."""
