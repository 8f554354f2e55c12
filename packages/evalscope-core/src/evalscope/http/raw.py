"""A minimal HTTP/1.1 client: the default transport of `evalscope perf`.

Why our own: a stress-test client must cost far less per request than the server it measures, and
its timestamps must be taken when the bytes arrive, not when a coroutine gets round to them. Over
plain TCP on Linux each read carries the kernel's receive time (`stamped_socket.py`), so a client
busy elsewhere (or descheduled) still records when a token really arrived; elsewhere (https)
`data_received` stamps `time.perf_counter()` before doing anything else. The parser does little
more than split chunked framing and SSE events. `benchmarks/bench_perf.py` measures it against aiohttp
and httpx (docs/perf.md has the figures).

It speaks only what an OpenAI-compatible server needs: `POST` with a JSON body, keep-alive, bodies
framed by Content-Length, chunked encoding or connection close; TLS through `ssl`. No proxies, no
redirects, no HTTP/2: use `--http-client aiohttp` for a proxy.
"""

from __future__ import annotations

import asyncio
import socket
import ssl as _ssl
import time
from typing import Any
from urllib.parse import urlsplit

from evalscope.http.exchange import Exchange, SSESplitter
from evalscope.http.stamped_socket import KERNEL_STAMPS, StampedSocketTransport
from evalscope.http.stamped_socket import enable as stamps_enabled

__all__ = ["RawHttpClient"]

_HEAD, _LENGTH, _CHUNKED, _TRAILER, _UNTIL_CLOSE, _DONE = range(6)


class _Conn(asyncio.Protocol):
    """One keep-alive connection; at most one request in flight."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.ex: Exchange | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.state = _DONE
        self.buf = b""
        self.left = 0  # bytes left in the current chunk / Content-Length body
        self.sse: SSESplitter | None = None
        self.body: list[bytes] = []
        self.keep_alive = True
        self.closed = False
        self.last_rx = 0.0

    # --- asyncio callbacks ------------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.ex is None or self.state == _DONE:
            return
        if self.state == _UNTIL_CLOSE:
            self._finish(time.perf_counter())
            return
        n = len(self.ex.events)
        why = f"connection closed by the server mid-response ({n} SSE events received)"
        self._fail(f"{why}: {exc}" if exc else why, "disconnected", exc)

    def data_received(self, data: bytes) -> None:
        self.feed(data, time.perf_counter())  # first: the arrival time of these bytes

    def feed(self, data: bytes, t: float) -> None:
        """Parse `data`, which arrived at `t` (kernel stamp from `StampedSocketTransport`, or now)."""
        self.last_rx = t
        if self.ex is None:  # bytes nobody asked for: the connection is not reusable
            self.transport.close()
            return
        if self.buf:
            data = self.buf + data
            self.buf = b""
        if self.state == _HEAD:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buf = data
                return
            self._parse_head(data[:end], t)
            data = data[end + 4 :]
        if self.state == _CHUNKED or self.state == _TRAILER:
            if data:
                self._chunked(data, t)
        elif self.state == _LENGTH:
            take = data[: self.left]
            self.left -= len(take)
            self._deliver(take, t)
            if self.left == 0:
                self._finish(t)
        elif self.state == _UNTIL_CLOSE:
            self._deliver(data, t)

    # --- parsing ---------------------------------------------------------------------------------

    def _parse_head(self, head: bytes, t: float) -> None:
        ex = self.ex
        assert ex is not None
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        ex.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        length: int | None = None
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-type":
                ex.content_type = value.strip()
            elif name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif name == "retry-after-ms":
                ex.retry_after = value.strip() + "ms"
            elif name == "retry-after" and ex.retry_after is None:
                ex.retry_after = value.strip()
            elif name == "connection":
                self.keep_alive = "close" not in value.lower()
        if parts[0] == "HTTP/1.0":
            self.keep_alive = False
        if ex.status == 200 and "event-stream" in ex.content_type:
            self.sse = SSESplitter(ex.events)
        if chunked:
            self.state, self.left = _CHUNKED, -1
        elif length is not None:
            self.state, self.left = _LENGTH, length
            if length == 0:
                self._finish(t)
        else:
            self.state, self.keep_alive = _UNTIL_CLOSE, False

    def _chunked(self, data: bytes, t: float) -> None:
        """De-chunk `data`; `self.left` is the state: > 0 bytes of chunk data still to come, -1 a
        size line is next, -2 the CRLF after chunk data is next. Tight on purpose: it runs once per
        read and loops once per chunk (one SSE event per chunk from vLLM and SGLang)."""
        pos, n, left, pieces = 0, len(data), self.left, []
        if self.state == _TRAILER:
            self._trailer(data, 0, t)
            return
        while pos < n:
            if left > 0:  # chunk data, usually all of it in this read
                end = pos + left
                if end > n:
                    pieces.append(data[pos:])
                    left -= n - pos
                    pos = n
                    break
                pieces.append(data[pos:end])
                if end + 2 <= n:
                    pos, left = end + 2, -1
                else:
                    pos, left = end, -2
            elif left == -1:  # a chunk-size line
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    self.buf = data[pos:]
                    break
                line = data[pos:eol]
                size = int(line.split(b";", 1)[0] if b";" in line else line, 16)
                pos = eol + 2
                if size == 0:
                    self.left = -1
                    if pieces:
                        self._deliver(b"".join(pieces), t)
                    self.state = _TRAILER
                    self._trailer(data, pos, t)
                    return
                left = size
            else:  # -2: the CRLF that ends chunk data
                if n - pos < 2:
                    self.buf = data[pos:]
                    break
                pos, left = pos + 2, -1
        self.left = left
        if pieces:
            self._deliver(pieces[0] if len(pieces) == 1 else b"".join(pieces), t)

    def _trailer(self, data: bytes, pos: int, t: float) -> None:
        """After the last (0-size) chunk: optional trailer lines, then an empty line."""
        if data.startswith(b"\r\n", pos):
            self._finish(t)
            return
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            self.buf = data[pos:]
            return
        self._finish(t)

    def _deliver(self, data: bytes, t: float) -> None:
        if not data:
            return
        if self.sse is not None:
            self.sse.feed(data, t)
        else:
            self.body.append(data)

    # --- completion ------------------------------------------------------------------------------

    def start(self, ex: Exchange, payload: bytes) -> asyncio.Future[None]:
        self.ex, self.state, self.buf, self.sse, self.body = ex, _HEAD, b"", None, []
        self.last_rx = time.perf_counter()
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return self.waiter

    def _finish(self, t: float) -> None:
        ex = self.ex
        self.state = _DONE
        if ex is None:
            return
        if self.sse is not None:
            self.sse.close(t)
        if self.body:
            ex.body = b"".join(self.body)
        ex.t_end = t
        self._wake()

    def _fail(self, error: str, failure: str, cause: BaseException | None = None) -> None:
        ex = self.ex
        self.state, self.keep_alive = _DONE, False
        if ex is not None and ex.error is None:
            ex.error, ex.failure, ex.cause = error, failure, cause
            ex.t_end = time.perf_counter()
            if self.body:
                ex.body = b"".join(self.body)
        self._wake()

    def _wake(self) -> None:
        waiter, self.waiter, self.ex = self.waiter, None, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def abort(self, error: str, failure: str) -> None:
        """Give up on the request in flight (timeouts, cancellation) and drop the connection."""
        self._fail(error, failure)
        if self.transport is not None:
            self.transport.abort()


class RawHttpClient:
    """POST pre-serialised JSON bodies to one URL over a pool of keep-alive connections."""

    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        *,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = None,
        total_timeout: float | None = None,
        kernel_stamps: bool = True,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl: _ssl.SSLContext | None = _ssl.create_default_context() if parts.scheme == "https" else None
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = parts.netloc.rsplit("@", 1)[-1]
        fixed = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._head = f"POST {path} HTTP/1.1\r\nHost: {host_header}\r\n{fixed}".encode("latin-1")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self.kernel_stamps = kernel_stamps and KERNEL_STAMPS
        self._addr: tuple[int, Any] | None = None
        self._idle: list[_Conn] = []
        self._busy: set[_Conn] = set()
        self._watchdog: asyncio.Task[None] | None = None

    async def _connect(self) -> _Conn:
        loop = asyncio.get_running_loop()
        if self.ssl is not None or not self.kernel_stamps:
            coro = loop.create_connection(_Conn, self.host, self.port, ssl=self.ssl)
            _, conn = await asyncio.wait_for(coro, self.connect_timeout)
            return conn
        return await asyncio.wait_for(self._connect_stamped(loop), self.connect_timeout)

    async def _connect_stamped(self, loop: asyncio.AbstractEventLoop) -> _Conn:
        """Plain TCP read by `StampedSocketTransport`: token times are the kernel's receive times."""
        if self._addr is None:
            infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
            self._addr = (infos[0][0], infos[0][4])
        family, addr = self._addr
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, addr)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            stamps_enabled(sock)
        except BaseException:
            sock.close()
            raise
        conn = _Conn()
        StampedSocketTransport(loop, sock, conn)
        return conn

    async def request(self, body: bytes, request_id: str = "") -> Exchange:
        """Send one request; never raises for HTTP or network failures (they land in `Exchange.error`)."""
        if self._watchdog is None and (self.read_timeout or self.total_timeout):
            self._watchdog = asyncio.get_running_loop().create_task(self._watch())
        rid = f"X-Request-Id: {request_id}\r\n".encode() if request_id else b""
        payload = b"%sContent-Length: %d\r\n%s\r\n%s" % (self._head, len(body), rid, body)
        for _attempt in range(2):
            conn = None
            while self._idle:
                candidate = self._idle.pop()
                if not candidate.closed:
                    conn = candidate
                    break
            reused = conn is not None
            ex = Exchange(time.perf_counter(), request_id)
            if conn is None:
                try:
                    conn = await self._connect()
                except asyncio.TimeoutError:
                    ex.error = f"connect timeout after {self.connect_timeout}s to {self.host}:{self.port}"
                    ex.failure = "connect_timeout"
                except OSError as exc:
                    ex.error = f"cannot connect to {self.host}:{self.port}: {exc.strerror or exc}"
                    ex.failure, ex.cause = "connect", exc
                if conn is None:
                    ex.t_end = time.perf_counter()
                    return ex
            self._busy.add(conn)
            ex.t_start = time.perf_counter()  # the clock starts when the request is written
            try:
                await conn.start(ex, payload)
            except asyncio.CancelledError:
                conn.abort("cancelled", "cancelled")
                raise
            finally:
                self._busy.discard(conn)
            if conn.keep_alive and not conn.closed and ex.error is None:
                self._idle.append(conn)
            elif not conn.closed:
                conn.transport.close()
            # An idle keep-alive connection the server closed just as we wrote: nothing reached it,
            # so the request is sent again on a fresh connection (as browsers and aiohttp do).
            if not (reused and ex.error is not None and ex.status == 0 and not ex.events):
                return ex
        return ex

    async def preconnect(self, n: int) -> None:
        """Open up to `n` idle connections before the clock starts, so the first wave of a run
        measures the server, not TCP (and TLS) handshakes queued behind each other in the client."""
        missing = n - len(self._idle)
        sem = asyncio.Semaphore(64)

        async def one() -> None:
            async with sem:
                try:
                    self._idle.append(await self._connect())
                except (OSError, asyncio.TimeoutError):
                    pass  # the request itself will report the failure

        await asyncio.gather(*(one() for _ in range(max(0, missing))))

    async def _watch(self) -> None:
        """Abort requests that went silent (read timeout) or ran too long (total timeout)."""
        limits = [x for x in (self.read_timeout, self.total_timeout) if x]
        tick = max(0.05, min(1.0, min(limits) / 4))
        while True:
            await asyncio.sleep(tick)
            now = time.perf_counter()
            for conn in list(self._busy):
                ex = conn.ex
                if ex is None:
                    continue
                if self.read_timeout and now - conn.last_rx > self.read_timeout:
                    conn.abort(f"read timeout: no data for {self.read_timeout}s", "read_timeout")
                elif self.total_timeout and now - ex.t_start > self.total_timeout:
                    conn.abort(
                        f"total timeout: request took longer than {self.total_timeout}s", "total_timeout"
                    )

    async def aclose(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        for conn in self._idle + list(self._busy):
            if conn.transport is not None and not conn.closed:
                conn.transport.close()
        self._idle.clear()
