"""Model families of the native engine: OpenAI-compatible services and the mock model."""
