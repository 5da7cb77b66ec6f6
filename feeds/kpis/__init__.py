"""The figures (docs/kpis.md): pure figures from facts, loading them for a period and an area, the
caches the KPI job keeps (`python -m feeds.kpis.board`), the running tally of cell visits."""
