"""Benchmark families added the way a third party would add them: each family keeps its specs,
adapters and scorers in its own folder and reaches the engine only through the hooks (the native
plugin lists each family's specs) and the core's contracts — nothing in the engine knows them."""
