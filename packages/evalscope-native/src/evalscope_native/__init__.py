"""evalscope-native: EvalScope's default engine, built-in benchmarks and API/mock models."""

__version__ = "0.1.0"
