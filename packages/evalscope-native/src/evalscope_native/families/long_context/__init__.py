"""Long-context benchmarks: needle_haystack (docs/benchmarks/long-context.md)."""
