"""Collections on the native engine: member loading for the samplers, the `collection` command,
and the data_collection report (the benchmark itself is `benchmarks/data_collection.py`)."""
