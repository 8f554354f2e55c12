"""Text embedders (local sentence-transformers, OpenAI-compatible APIs) behind one content-hash cache."""
