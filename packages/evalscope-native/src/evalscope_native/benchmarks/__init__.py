"""Built-in benchmarks: each a spec in `catalog.py` plus a small adapter module."""
