"""Silver SQL models: conformed entities with declared keys (one ``.sql`` file per table)."""
