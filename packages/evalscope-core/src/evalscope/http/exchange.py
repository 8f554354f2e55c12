"""What one HTTP request produced, as the transport saw it, before any JSON is parsed.

The transports (the raw asyncio client and the aiohttp one) only split the body into SSE events and
stamp each with the `time.perf_counter()` of the read that delivered its last byte. Parsing JSON,
deciding which events carry tokens and counting them happen after the response is complete
(`evalscope_perf.record.finalize`), so that work never delays the timestamp of another stream.
"""

from __future__ import annotations

__all__ = ["Exchange", "SSESplitter"]


class Exchange:
    """Status, headers we need, timestamped SSE events (or the plain body) and timing of one request."""

    __slots__ = (
        "status",
        "content_type",
        "events",
        "body",
        "t_start",
        "t_end",
        "error",
        "failure",
        "cause",
        "retry_after",
        "request_id",
    )

    def __init__(self, t_start: float, request_id: str = "") -> None:
        self.status = 0
        self.content_type = ""
        self.events: list[tuple[float, bytes]] = []  # (arrival time, raw SSE event without the blank line)
        self.body = b""  # the body when it is not an event stream (JSON, or an error message)
        self.t_start = t_start
        self.t_end = 0.0
        self.error: str | None = None  # transport-level failure: refused, reset, dropped stream, timeout
        # The same failure, typed, for callers that classify it: "connect" (with `cause`, the OSError:
        # refused, DNS, TLS), "connect_timeout", "read_timeout", "total_timeout", "disconnected",
        # "cancelled".
        self.failure: str | None = None
        self.cause: BaseException | None = None
        self.retry_after: str | None = None  # `retry-after-ms` (as "<n>ms") or `Retry-After`, when sent
        self.request_id = request_id


class SSESplitter:
    """Cut a byte stream into SSE events at blank lines; each event keeps its arrival time."""

    __slots__ = ("events", "_rest")

    def __init__(self, events: list[tuple[float, bytes]]) -> None:
        self.events = events
        self._rest = b""

    def feed(self, data: bytes, t: float) -> None:
        if self._rest:
            data = self._rest + data
        if b"\r" in data:  # the spec allows CRLF line ends (a lone CR at the end waits for its LF)
            data = data.replace(b"\r\n", b"\n")
        parts = data.split(b"\n\n")
        self._rest = parts.pop()
        for part in parts:
            if part:
                self.events.append((t, part))

    def close(self, t: float) -> None:
        """End of body: a last event without its blank line still counts (some servers omit it)."""
        rest = self._rest.strip(b"\n")
        if rest:
            self.events.append((t, rest))
        self._rest = b""
