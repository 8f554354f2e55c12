"""Requests/s of the `openai` SDK's async client with different HTTP transports, engine left out.

Why it exists: the native engine sends every request through `openai.AsyncOpenAI`, so the HTTP
transport under the SDK bounds samples/s against a fast server. This script sends N small chat
completions at a fixed concurrency to a zero-latency scripted server with each candidate transport
(the numbers behind the choice in `evalscope_native/models/openai_api.py`):

    .venv/bin/python benchmarks/bench_http_clients.py            # 2,000 requests, 64 at a time
    .venv/bin/python benchmarks/bench_http_clients.py --n 4000 --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _common import Figure, table

Send = Callable[[int], Awaitable[str]]


def _httpx() -> Any:
    """The httpx flavour the installed SDK is built on (`httpx2` for openai 3.x, `httpx` before)."""
    try:
        import httpx2

        return httpx2
    except ImportError:
        import httpx

        return httpx


def _messages(i: int) -> Any:
    return [{"role": "user", "content": f"Question {i}: what is {i} + 1?"}]


def _sdk_sender(clients: list[Any]) -> Send:
    rr = itertools.cycle(clients)

    async def send(i: int) -> str:
        resp = await next(rr).chat.completions.create(model="scripted", messages=_messages(i))
        return resp.choices[0].message.content or ""

    return send


async def _variant(name: str, base_url: str, concurrency: int) -> tuple[Send, Callable[[], Awaitable[None]]]:
    """(send, close) for one transport."""
    import openai

    httpx = _httpx()
    timeout = httpx.Timeout(60.0, connect=30.0)

    def sdk(http_client: Any | None) -> Any:
        return openai.AsyncOpenAI(
            base_url=base_url, api_key="EMPTY", max_retries=0, timeout=timeout, http_client=http_client
        )

    if name == "aiohttp (no SDK, reference)":
        import aiohttp

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency * 2))

        async def send_raw(i: int) -> str:
            body = {"model": "scripted", "messages": _messages(i)}
            async with session.post(f"{base_url}/chat/completions", json=body) as resp:
                data = await resp.json()
            return str(data["choices"][0]["message"]["content"])

        return send_raw, session.close
    if name == "aiohttp (openai.DefaultAioHttpClient)":
        clients = [sdk(openai.DefaultAioHttpClient(timeout=timeout))]
    elif name == "httpx, SDK default pool":
        clients = [sdk(None)]
    elif name.startswith("httpx, pool"):
        size = {"httpx, pool 2x concurrency": concurrency * 2, "httpx, pool = concurrency": concurrency}[name]
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        clients = [sdk(httpx.AsyncClient(limits=limits, timeout=timeout))]
    elif name.startswith("httpx, 4 clients"):
        per = max(concurrency // 4, 1)
        limits = httpx.Limits(max_connections=per * 2, max_keepalive_connections=per * 2)
        clients = [sdk(httpx.AsyncClient(limits=limits, timeout=timeout)) for _ in range(4)]
    else:
        raise ValueError(name)

    async def close() -> None:
        for c in clients:
            await c.close()

    return _sdk_sender(clients), close


VARIANTS = [
    "httpx, pool 2x concurrency",
    "httpx, SDK default pool",
    "httpx, pool = concurrency",
    "httpx, 4 clients round-robin",
    "aiohttp (openai.DefaultAioHttpClient)",
    "aiohttp (no SDK, reference)",
]


async def _drive(send: Send, n: int, concurrency: int, offset: int) -> float:
    counter = itertools.count()

    async def worker() -> None:
        while (i := next(counter)) < n:
            await send(offset + i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def _measure(name: str, base_url: str, n: int, concurrency: int, repeat: int) -> list[float]:
    send, close = await _variant(name, base_url, concurrency)
    try:
        await _drive(send, concurrency * 2, concurrency, 0)  # warm-up: imports, connections
        return [n / await _drive(send, n, concurrency, (r + 1) * n) for r in range(repeat)]
    finally:
        await close()


def measure(
    n: int = 2000, concurrency: int = 64, repeat: int = 3, only: list[str] | None = None
) -> list[Figure]:
    from evalscope.testing import ScriptedServer

    variants = [v for v in VARIANTS if not only or any(o in v for o in only)]
    figures = []
    rows = []
    with ScriptedServer({"model": "scripted", "default_reply": "The answer is 42."}) as srv:
        for name in variants:
            try:
                rates = asyncio.run(_measure(name, srv.base_url, n, concurrency, repeat))
            except ImportError as exc:
                rows.append([name, f"skipped ({exc.name} not installed)", "", ""])
                continue
            median = statistics.median(rates)
            rows.append([name, f"{median:.0f}", f"{max(rates):.0f}", ", ".join(f"{r:.0f}" for r in rates)])
            figures.append(Figure("http clients", f"req/s: {name}", median, "req/s"))
    print(f"\nopenai SDK requests/s, {n} requests at concurrency {concurrency}, zero-latency server")
    print(table(["transport", "median req/s", "best", "all runs"], rows))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="requests per measurement")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3, help="measurements per transport (median shown)")
    parser.add_argument("--only", action="append", help="run only the variants containing this text")
    args = parser.parse_args(argv)
    measure(args.n, args.concurrency, args.repeat, args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
