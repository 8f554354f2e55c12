"""Dataset sources: local folders/files (jsonl, json, csv, parquet) and the HF/ModelScope hubs."""
