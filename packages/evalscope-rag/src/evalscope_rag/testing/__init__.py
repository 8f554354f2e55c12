"""Real local servers and fixtures for tests and demos (nothing here is imported by a run)."""
