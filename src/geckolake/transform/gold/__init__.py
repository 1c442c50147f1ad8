"""Gold SQL models: analysis tables with declared grain and key (one ``.sql`` file per table)."""
