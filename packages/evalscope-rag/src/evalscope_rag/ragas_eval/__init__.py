"""RAGAS metrics per sample with a judge behind an OpenAI-compatible API."""
