"""The ingest: decode → validate → filter → persist → apply to the live state → push, and what it refuses
(dead letters). `python -m feeds.ingest` runs it."""
