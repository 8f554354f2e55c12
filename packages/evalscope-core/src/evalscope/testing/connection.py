"""A bare HTTP/1.1 server on an `asyncio.Protocol`: keep-alive, pipelining, chunked request bodies.

Why not a web framework: in a benchmark the server shares a small machine with the client it
measures, so it must cost far less per request than the client. A protocol object per connection
(uvloop when importable) parses requests from its buffer and hands each to the application, one at
a time; the application answers at once or later (`later`: a timer on an absolute
`time.perf_counter()` deadline; `call_in_thread`: a blocking Python function on a worker thread)
and calls `finish` when the response is complete, which lets the next buffered request through.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from evalscope.testing.wire import error_payload, json_response

__all__ = ["Application", "Connection", "Request", "loop_factory", "serve"]

_MAX_HEAD = 1 << 16


@dataclass
class Request:
    method: str
    target: str
    path: str  # without the query string, a trailing "/" or a leading "/v1"
    query: str
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    arrived: float  # time.perf_counter() when its bytes were read
    keep_alive: bool


class Application(Protocol):
    loop: asyncio.AbstractEventLoop | None
    connections: set[Connection]

    def handle(self, request: Request, conn: Connection) -> None: ...

    def connection_lost(self, conn: Connection) -> None: ...


class Connection(asyncio.Protocol):
    """One client connection; requests are answered in order, one at a time."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.buf = bytearray()
        self.transport: Any = None  # uvloop's TCPTransport is not an asyncio.Transport subclass
        self.busy = False
        self.streaming = False  # a stream is being written (the app's count of active streams)
        self.timers: list[asyncio.TimerHandle] = []
        self._dispatching = False
        self._continued = False
        self._keep_alive = True
        self._arrived = 0.0

    # -- asyncio.Protocol ----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.app.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()
        self.transport = None
        self.app.connections.discard(self)
        self.app.connection_lost(self)

    def data_received(self, data: bytes) -> None:
        self._arrived = time.perf_counter()
        self.buf += data
        self._next()

    # -- for the application -------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self.transport is not None

    def write(self, data: bytes) -> None:
        if self.transport is not None and data:
            self.transport.write(data)

    def finish(self, data: bytes = b"") -> None:
        """Write the end of the current response; the next request may then be read."""
        self.write(data)
        self.busy = False
        self.timers.clear()
        if not self._keep_alive:
            if self.transport is not None:
                self.transport.close()
            return
        if not self._dispatching:
            self._next()

    def abort(self) -> None:
        """Drop the connection at once, without another byte (a fault, or the server's shutdown)."""
        if self.transport is not None:
            self.transport.abort()

    def later(self, due: float, fn: Callable[..., None], *args: Any) -> None:
        """Run `fn(*args)` at `due` (a `time.perf_counter()` value; at once when past), unless the
        client goes away first."""
        loop = self.app.loop
        assert loop is not None
        delay = due - time.perf_counter()
        if delay <= 0:
            fn(*args)
            return
        self.timers.append(loop.call_at(loop.time() + delay, fn, *args))

    def call_in_thread(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        done: Callable[[bool, Any], None],
        lock: threading.Lock | None = None,
    ) -> None:
        """Call a blocking `fn(*args)` on a daemon thread, then `done(ok, result or exception)` on the loop.

        A daemon thread per call (as `ThreadingHTTPServer` does per request): a function that blocks
        on purpose delays only its own request, and never keeps the interpreter from exiting.
        """
        loop = self.app.loop
        assert loop is not None

        def work() -> None:
            try:
                if lock is None:
                    outcome: tuple[bool, Any] = (True, fn(*args))
                else:
                    with lock:
                        outcome = (True, fn(*args))
            except Exception as exc:  # handed to the loop: the app turns it into an HTTP error
                outcome = (False, exc)
            try:
                loop.call_soon_threadsafe(self._resume, done, outcome)
            except RuntimeError:  # the loop is closed: the server stopped meanwhile
                pass

        threading.Thread(target=work, name="scripted-responder", daemon=True).start()

    def _resume(self, done: Callable[[bool, Any], None], outcome: tuple[bool, Any]) -> None:
        if self.transport is not None:  # else the client gave up while the function ran
            done(*outcome)

    # -- parsing ---------------------------------------------------------------------------------------

    def _next(self) -> None:
        self._dispatching = True
        try:
            while not self.busy and self.transport is not None:
                request = self._parse()
                if request is None:
                    return
                self.busy = True
                self._keep_alive = request.keep_alive
                try:
                    self.app.handle(request, self)
                except Exception:  # a bug in a handler must not kill the server: answer 500
                    traceback.print_exc()
                    if self.busy and self.transport is not None:
                        self.finish(
                            json_response(500, error_payload("scripted server error", "server_error"))
                        )
        finally:
            self._dispatching = False

    def _parse(self) -> Request | None:
        buf = self.buf
        while buf[:2] == b"\r\n":  # tolerate blank lines between pipelined requests
            del buf[:2]
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > _MAX_HEAD:
                self._reject("request head too large")
            return None
        lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            self._reject("bad request line")
            return None
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        start = end + 4
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parsed = _chunked_body(buf, start)
            if parsed is None:
                self._expect_continue(headers)
                return None
            body, stop = parsed
        else:
            try:
                length = int(headers.get("content-length", "0") or "0")
            except ValueError:
                self._reject("bad Content-Length")
                return None
            if len(buf) < start + length:
                self._expect_continue(headers)
                return None
            body, stop = bytes(buf[start : start + length]), start + length
        del buf[:stop]
        self._continued = False
        conn = headers.get("connection", "").lower()
        keep = conn != "close" and (version == "HTTP/1.1" or conn == "keep-alive")
        path, _, query = target.partition("?")
        path = path.rstrip("/")
        if path == "/v1" or path.startswith("/v1/"):
            path = path[3:]
        return Request(method, target, path, query, headers, body, self._arrived, keep)

    def _expect_continue(self, headers: Mapping[str, str]) -> None:
        if headers.get("expect", "").lower() == "100-continue" and not self._continued:
            self._continued = True  # else curl & co. wait a second before sending the body
            self.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _reject(self, message: str) -> None:
        self.write(json_response(400, error_payload(message), keep_alive=False))
        if self.transport is not None:
            self.transport.close()


def _chunked_body(buf: bytearray, pos: int) -> tuple[bytes, int] | None:
    """The decoded body and where it ends, or None while it is incomplete."""
    chunks: list[bytes] = []
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buf[pos:eol]).split(b";")[0].strip() or b"0", 16)
        pos = eol + 2
        if size == 0:
            while True:  # trailers, up to an empty line
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                blank, pos = eol == pos, eol + 2
                if blank:
                    return b"".join(chunks), pos
        if len(buf) < pos + size + 2:
            return None
        chunks.append(bytes(buf[pos : pos + size]))
        pos += size + 2


async def serve(
    app: Application,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Serve until `stop` is set (never, if None); `on_ready` gets the bound port once listening."""
    loop = asyncio.get_running_loop()
    app.loop = loop
    server = await loop.create_server(lambda: Connection(app), host, port, backlog=4096)
    if on_ready is not None:
        on_ready(server.sockets[0].getsockname()[1])
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        server.close()
        for conn in list(app.connections):  # stalled replies would otherwise hold shutdown back
            conn.abort()
        await asyncio.sleep(0)  # let the aborted transports report connection_lost


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's event loop when importable (a faster server), else asyncio's."""
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return asyncio.new_event_loop
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory
