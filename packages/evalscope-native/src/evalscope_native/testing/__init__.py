"""Test helpers that ship with the native engine (a scripted OpenAI-compatible server)."""
