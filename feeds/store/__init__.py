"""The database, the truth: its rows (models), the engine and migrations, and the ingest's writes."""
