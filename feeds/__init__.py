"""Feeds: the message vocabulary, the bus, the ingest pipeline, the store and the live state."""
