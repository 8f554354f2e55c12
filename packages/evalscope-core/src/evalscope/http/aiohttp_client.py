"""The aiohttp transport (`--http-client aiohttp`): proxies from the environment, HTTP/1.1 only.

Slower per request than the raw client and its timestamps are taken when the coroutine resumes, not
when the bytes arrive, so under heavy load TTFT reads a little high (docs/perf.md has figures). Use it
when the service sits behind an HTTP proxy (it honours HTTP(S)_PROXY / NO_PROXY).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from evalscope.http.exchange import Exchange, SSESplitter

__all__ = ["AiohttpClient"]


class AiohttpClient:
    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        *,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = None,
        total_timeout: float | None = None,
    ) -> None:
        self.url = url
        self.headers = headers
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self._session: Any = None

    def _ensure(self) -> Any:
        if self._session is None:
            import aiohttp

            timeout = aiohttp.ClientTimeout(
                total=self.total_timeout, sock_connect=self.connect_timeout, sock_read=self.read_timeout
            )
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=timeout, trust_env=True, auto_decompress=False
            )
        return self._session

    async def request(self, body: bytes, request_id: str = "") -> Exchange:
        import aiohttp

        session = self._ensure()
        headers = {**self.headers, "X-Request-Id": request_id} if request_id else self.headers
        ex = Exchange(time.perf_counter(), request_id)
        try:
            async with session.post(self.url, data=body, headers=headers) as resp:
                ex.status = resp.status
                ex.content_type = resp.headers.get("Content-Type", "")
                ms, after = resp.headers.get("retry-after-ms"), resp.headers.get("Retry-After")
                ex.retry_after = f"{ms}ms" if ms else after
                if resp.status == 200 and "event-stream" in ex.content_type:
                    sse = SSESplitter(ex.events)
                    async for data in resp.content.iter_any():
                        sse.feed(data, time.perf_counter())
                    t = time.perf_counter()
                    sse.close(t)
                else:
                    ex.body = await resp.read()
                    t = time.perf_counter()
                ex.t_end = t
        except asyncio.TimeoutError:
            ex.error = f"timeout (connect {self.connect_timeout}s, read {self.read_timeout}s, total {self.total_timeout}s)"
            ex.failure = "total_timeout"
        except aiohttp.ClientPayloadError as exc:
            ex.error = (
                f"connection closed by the server mid-response ({len(ex.events)} SSE events received): {exc}"
            )
            ex.failure, ex.cause = "disconnected", exc
        except (aiohttp.ClientError, OSError) as exc:
            ex.error = f"{type(exc).__name__}: {exc}"
            connect = isinstance(exc, (aiohttp.ClientConnectorError, OSError))
            ex.failure, ex.cause = ("connect" if connect else "disconnected"), exc
        if ex.error is not None:
            ex.t_end = time.perf_counter()
        return ex

    async def preconnect(self, n: int) -> None:
        """aiohttp opens connections on demand (use --warmup to open them before the clock starts);
        the session, and the import of aiohttp, are at least done now."""
        self._ensure()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
