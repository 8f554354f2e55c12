"""HTTP transports for the load generator: the raw asyncio client (default) and aiohttp."""
