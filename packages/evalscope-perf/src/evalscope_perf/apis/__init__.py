"""API formats: how prompts become request bodies and replies become tokens (`--api`)."""
