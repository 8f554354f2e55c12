"""HTTP clients every plugin may use: a minimal asyncio HTTP/1.1 client and an aiohttp one.

Why in the core: `evalscope perf` (load generation with kernel timestamps) and the native engine
(evaluation requests) both talk to OpenAI-compatible services, and a request path that imports the
`openai` SDK pays ~1 s before its first request. Both transports deliver an `Exchange` (status,
body or timestamped SSE events, a typed failure) and never raise for HTTP or network failures.
Importing this package imports neither aiohttp nor the SDK.
"""

from __future__ import annotations

from evalscope.http.aiohttp_client import AiohttpClient
from evalscope.http.exchange import Exchange, SSESplitter
from evalscope.http.proxy import proxy_for
from evalscope.http.raw import RawHttpClient

__all__ = ["AiohttpClient", "Exchange", "RawHttpClient", "SSESplitter", "proxy_for"]
