"""The optimizer's HTTP API (aiohttp)."""
