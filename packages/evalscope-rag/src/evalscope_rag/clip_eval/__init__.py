"""CLIP-benchmark-style zero-shot image-text retrieval (recall@k)."""
