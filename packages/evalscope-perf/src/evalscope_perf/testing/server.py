"""A fake model behind a real HTTP server, for perf tests and benchmarks.

It streams OpenAI-style SSE (`/v1/chat/completions`, `/v1/completions`) and answers `/v1/embeddings`
with *known* timing: the first token `ttft` seconds after the request arrived, then one token every
`itl` seconds, `tokens` tokens in all (or the request's `max_tokens`). Deadlines are absolute
(arrival + ttft + k*itl), so a late timer never shifts the tokens after it. Faults are injected on
purpose: HTTP 429, HTTP 500, or a stream dropped mid-way (the connection is aborted after
`drop_after` tokens, without the terminating chunk). The `echo_401`, `echo_500` and `echo_stream`
faults answer like a provider that quotes the credentials it received (`Authorization`, `X-Api-Key`,
any header naming a key or token) in its error message: as a 401, a 500, or an error event inside
an HTTP 200 stream; they let tests check that no key reaches perf's files or terminal output.

Why not aiohttp.web: in a benchmark the server shares a small machine with the client it measures, so
it must cost far less per request than the client; a bare `asyncio.Protocol` (uvloop when importable)
with pre-encoded chunks serves tens of thousands of zero-delay streams per second. It is still real
HTTP/1.1 (keep-alive, chunked transfer encoding) on a real socket.

With `record_timings`, each request's arrival and first/last token write times (`time.perf_counter`,
CLOCK_MONOTONIC, shared by every process on Linux; stamped just *before* each write) are kept under
its `X-Request-Id` (or, from clients that send none, its last message / prompt), so a benchmark can
tell the client's measurement error apart from the server's own timer lateness.

Control endpoints: `GET /stats`, `POST /stats/reset`, `POST /config` (JSON: replace the settings),
`GET /v1/models`, `GET /health`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["FakeModelConfig", "FakeModelServer"]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
FAULT_KINDS = ("429", "500", "drop", "echo_401", "echo_500", "echo_stream")


@dataclass
class FakeModelConfig:
    """How the fake model behaves; `POST /config` accepts the same keys."""

    model: str = "fake-model"
    ttft: float = 0.0  # seconds from request arrival to the first token
    ttft_per_active: float = 0.0  # + this per request already in flight: a queue that grows with load
    itl: float = 0.0  # seconds between tokens
    tokens: int | None = None  # tokens per reply; None: the request's max_tokens (16 when absent)
    usage: bool = True  # report `usage` (streams: when the request asks with stream_options)
    token_text: str = " tok"  # the text of every token
    faults: dict[str, float] = field(default_factory=dict)  # {"429": 0.1, "500": 0.05, "drop": 0.05, ...}
    drop_after: int = 2  # tokens sent before a "drop" fault aborts the connection
    seed: int = 0  # which requests get a fault: sha256(seed, arrival number)
    record_timings: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FakeModelConfig:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown fake-model settings: {sorted(unknown)}")
        cfg = cls(**data)
        bad = set(cfg.faults) - set(FAULT_KINDS)
        if bad:
            raise ValueError(f"unknown fault kinds {sorted(bad)}; use {FAULT_KINDS}")
        return cfg


def _head(status: int, content_type: str, length: int | None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\nContent-Type: {content_type}\r\n"
        f"{framing}\r\nConnection: keep-alive\r\n\r\n"
    ).encode()


def _json_response(status: int, obj: Any) -> bytes:
    body = json.dumps(obj).encode()
    return _head(status, "application/json", len(body)) + body


def _sse(obj: Any) -> bytes:
    """One SSE event framed as one HTTP chunk."""
    data = b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n\n"
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class _Templates:
    """Pre-encoded chunks, so a zero-delay stream costs a few byte joins."""

    def __init__(self, cfg: FakeModelConfig, chat: bool) -> None:
        self.created = int(time.time())
        obj = "chat.completion.chunk" if chat else "text_completion"
        base = {"id": "cmpl-fake", "object": obj, "created": self.created, "model": cfg.model}

        def choice(text: str | None, finish: str | None, role: bool = False) -> dict[str, Any]:
            if chat:
                delta: dict[str, Any] = {"role": "assistant", "content": ""} if role else {}
                if text is not None:
                    delta["content"] = text
                return {"index": 0, "delta": delta, "finish_reason": finish}
            return {"index": 0, "text": text or "", "finish_reason": finish}

        self.role = _sse({**base, "choices": [choice(None, None, role=True)]}) if chat else b""
        self.token = _sse({**base, "choices": [choice(cfg.token_text, None)]})
        self.finish = _sse({**base, "choices": [choice("" if not chat else None, "length")]})
        self.base = base
        self.done = _sse(b"[DONE]") + b"0\r\n\r\n"

    def usage(self, prompt_tokens: int, completion_tokens: int) -> bytes:
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        return _sse({**self.base, "choices": [], "usage": usage})


def _prompt_tokens(body: dict[str, Any]) -> int:
    """Whitespace words of the prompt: a stand-in for a tokenizer, stable and cheap."""
    if "messages" in body:
        text = " ".join(str(m.get("content", "")) for m in body["messages"] if isinstance(m, dict))
    else:
        raw = body.get("prompt", body.get("input", ""))
        text = " ".join(map(str, raw)) if isinstance(raw, list) else str(raw)
    return len(text.split())


def _echo_credentials(headers: dict[str, str]) -> str:
    """An error message quoting the credentials received, as some providers' 401s do."""
    quoted = [
        f"{name}: {value}"
        for name, value in headers.items()
        if name in ("authorization", "cookie") or "key" in name or "token" in name
    ]
    return "Incorrect API key provided. Received " + ("; ".join(quoted) or "no credentials")


def _prompt_key(body: dict[str, Any]) -> str:
    """Timings key of a request without X-Request-Id (another client): its last message or prompt."""
    messages = body.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        return str(messages[-1].get("content", ""))
    return str(body.get("prompt", ""))


class FakeModelServer:
    """The server's state: settings, counters and (optionally) per-request timings."""

    def __init__(self, config: FakeModelConfig) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.configure(config)
        self.reset()

    def configure(self, config: FakeModelConfig) -> None:
        self.cfg = config
        self.templates = {True: _Templates(config, True), False: _Templates(config, False)}

    def reset(self) -> None:
        self.arrivals = 0
        self.active = 0
        self.counts: dict[str, int] = {"requests": 0, "ok": 0, "streams": 0, **dict.fromkeys(FAULT_KINDS, 0)}
        self.timings: dict[str, list[float]] = {}
        self.first_arrival: float | None = None
        self.last_done: float | None = None

    def stats(self) -> dict[str, Any]:
        return {
            **self.counts,
            "first_arrival": self.first_arrival,
            "last_done": self.last_done,
            "config": asdict(self.cfg),
            "timings": self.timings if self.cfg.record_timings else {},
        }

    def fault_for(self, n: int) -> str | None:
        """Deterministic per arrival number, so a test can predict the failures."""
        if not self.cfg.faults:
            return None
        u = int.from_bytes(hashlib.sha256(f"{self.cfg.seed}:{n}".encode()).digest()[:8], "big") / 2**64
        acc = 0.0
        for kind in FAULT_KINDS:
            acc += float(self.cfg.faults.get(kind, 0.0))
            if u < acc:
                return kind
        return None


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection; requests are answered one at a time."""

    def __init__(self, server: FakeModelServer) -> None:
        self.server = server
        self.buf = bytearray()
        self.transport: Any = None  # uvloop's TCPTransport is not an asyncio.Transport subclass
        self.busy = False
        self.timers: list[asyncio.TimerHandle] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        for t in self.timers:
            t.cancel()
        if self.busy:  # the client went away mid-stream
            self.server.active -= 1
            self.busy = False
        self.transport = None

    def data_received(self, data: bytes) -> None:
        arrived = time.perf_counter()
        self.buf += data
        while not self.busy and self.transport is not None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buf) < end + 4 + length:
                return
            body = bytes(self.buf[end + 4 : end + 4 + length])
            del self.buf[: end + 4 + length]
            method, path = (head[0].split(" ") + ["", ""])[:2]
            self.handle(method, path, headers, body, arrived)

    def write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes, arrived: float) -> None:
        srv = self.server
        route = path.split("?")[0].removeprefix("/v1")
        if method == "GET" and route == "/stats":
            return self.write(_json_response(200, srv.stats()))
        if method == "GET" and route in ("/health", "/models"):
            models = {"object": "list", "data": [{"id": srv.cfg.model, "object": "model"}]}
            return self.write(_json_response(200, models if route == "/models" else {"status": "ok"}))
        if method == "POST" and route == "/stats/reset":
            srv.reset()
            return self.write(_json_response(200, {"ok": True}))
        if method == "POST" and route == "/config":
            try:
                srv.configure(FakeModelConfig.from_dict(json.loads(body or b"{}")))
            except (ValueError, TypeError) as exc:
                return self.write(_json_response(400, {"error": {"message": str(exc)}}))
            return self.write(_json_response(200, asdict(srv.cfg)))
        if method != "POST" or route not in ("/chat/completions", "/completions", "/embeddings"):
            return self.write(_json_response(404, {"error": {"message": f"no route {method} {path}"}}))
        try:
            req = json.loads(body)
        except ValueError:
            return self.write(_json_response(400, {"error": {"message": "body is not JSON"}}))
        srv.counts["requests"] += 1
        srv.arrivals += 1
        if srv.first_arrival is None:
            srv.first_arrival = arrived
        fault = srv.fault_for(srv.arrivals)
        if fault in ("429", "500"):
            srv.counts[fault] += 1
            msg = "rate limited" if fault == "429" else "injected server error"
            return self.write(_json_response(int(fault), {"error": {"message": msg, "code": int(fault)}}))
        if fault in ("echo_401", "echo_500") or (fault == "echo_stream" and not req.get("stream")):
            srv.counts[fault] += 1
            status = 401 if fault == "echo_401" else 500
            error = {"message": _echo_credentials(headers), "type": "invalid_request_error", "code": status}
            return self.write(_json_response(status, {"error": error}))
        if fault == "echo_stream":  # HTTP 200, then the error as the stream's only event
            srv.counts[fault] += 1
            event = _sse({"error": {"message": _echo_credentials(headers), "code": 401}})
            return self.write(_head(200, "text/event-stream", None) + event + _sse(b"[DONE]") + b"0\r\n\r\n")
        rid = headers.get("x-request-id") or _prompt_key(req) or str(srv.arrivals)
        if route == "/embeddings":
            return self.embeddings(req, arrived)
        n = srv.cfg.tokens if srv.cfg.tokens is not None else int(req.get("max_tokens") or 16)
        if req.get("stream"):
            srv.counts["streams"] += 1
            self.stream(route == "/chat/completions", req, max(n, 1), arrived, rid, fault == "drop")
        else:
            self.complete(route == "/chat/completions", req, max(n, 1), arrived, rid)

    def embeddings(self, req: dict[str, Any], arrived: float) -> None:
        inputs = req.get("input", "")
        items = inputs if isinstance(inputs, list) else [inputs]
        data = [{"object": "embedding", "index": i, "embedding": [0.125] * 8} for i in range(len(items))]
        usage = {"prompt_tokens": _prompt_tokens(req), "total_tokens": _prompt_tokens(req)}
        payload: dict[str, Any] = {"object": "list", "data": data, "model": self.server.cfg.model}
        if self.server.cfg.usage:
            payload["usage"] = usage
        self.later(arrived + self.server.cfg.ttft, lambda: self.finish_plain(_json_response(200, payload)))

    def complete(self, chat: bool, req: dict[str, Any], n: int, arrived: float, rid: str) -> None:
        cfg = self.server.cfg
        text = cfg.token_text * n
        choice: dict[str, Any] = (
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "length"}
            if chat
            else {"index": 0, "text": text, "finish_reason": "length"}
        )
        kind = "chat.completion" if chat else "text_completion"
        payload: dict[str, Any] = {"id": "cmpl-fake", "object": kind, "model": cfg.model}
        payload["choices"] = [choice]
        if cfg.usage:
            p = _prompt_tokens(req)
            payload["usage"] = {"prompt_tokens": p, "completion_tokens": n, "total_tokens": p + n}
        self.later(
            arrived + cfg.ttft + (n - 1) * cfg.itl, lambda: self.finish_plain(_json_response(200, payload))
        )

    def finish_plain(self, data: bytes) -> None:
        self.timers.clear()
        self.write(data)
        self.server.counts["ok"] += 1
        self.server.last_done = time.perf_counter()

    def stream(self, chat: bool, req: dict[str, Any], n: int, arrived: float, rid: str, drop: bool) -> None:
        srv, cfg, tpl = self.server, self.server.cfg, self.server.templates[chat]
        want_usage = cfg.usage and bool((req.get("stream_options") or {}).get("include_usage"))
        tail = tpl.finish + (tpl.usage(_prompt_tokens(req), n) if want_usage else b"") + tpl.done
        self.write(_head(200, "text/event-stream", None))
        record = srv.timings.setdefault(rid, [arrived, 0.0, 0.0]) if cfg.record_timings else None
        last = min(n, cfg.drop_after) if drop else n
        ttft = cfg.ttft + cfg.ttft_per_active * srv.active
        srv.active += 1

        def send(k: int) -> None:  # token k (1-based) is due now
            data = tpl.role + tpl.token if k == 1 else tpl.token
            if k == last:
                data += b"" if drop else tail
            now = time.perf_counter()  # stamped before the write: the bytes cannot arrive earlier
            self.write(data)
            if record is not None:
                record[1 if k == 1 else 2] = now
                if k == 1 and last == 1:
                    record[2] = now
            if k == last:
                srv.last_done = now
                srv.active -= 1
                if drop:
                    srv.counts["drop"] += 1
                    if self.transport is not None:
                        self.transport.abort()
                else:
                    srv.counts["ok"] += 1
                    self.busy = False
                    self.timers.clear()

        self.busy = True
        if ttft <= 0 and cfg.itl <= 0:  # zero delay: one write, no timers
            data = tpl.role + tpl.token * last + (b"" if drop else tail)
            now = time.perf_counter()
            if record is not None:
                record[1] = record[2] = now
            self.write(data)
            srv.last_done = now
            srv.active -= 1
            self.busy = False
            if drop:
                srv.counts["drop"] += 1
                if self.transport is not None:
                    self.transport.abort()
            else:
                srv.counts["ok"] += 1
            return
        for k in range(1, last + 1):
            self.later(arrived + ttft + (k - 1) * cfg.itl, send, k)

    def later(self, due_perf: float, fn: Any, *args: Any) -> None:
        """Run `fn` at an absolute `time.perf_counter()` deadline (converted to the loop's clock)."""
        loop = self.server.loop
        assert loop is not None
        when = loop.time() + (due_perf - time.perf_counter())
        self.timers.append(loop.call_at(when, fn, *args))


async def serve(config: FakeModelConfig, host: str, port: int, ready: Any = None) -> None:
    """Serve until cancelled; `ready(port)` is called once the socket listens."""
    loop = asyncio.get_running_loop()
    state = FakeModelServer(config)
    state.loop = loop
    srv = await loop.create_server(lambda: _Connection(state), host, port, backlog=4096)
    if ready is not None:
        ready(srv.sockets[0].getsockname()[1])
    async with srv:
        await srv.serve_forever()


def main(argv: list[str] | None = None) -> int:
    """`python -m evalscope_perf.testing.server --port 0 --config '{"ttft": 0.05}'` prints LISTENING host:port."""
    import argparse
    import os
    import signal
    import sys

    parser = argparse.ArgumentParser(description="A fake streaming model on a real HTTP server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8877)
    parser.add_argument("--config", default="{}", help="JSON object or a path to a JSON file")
    args = parser.parse_args(argv)
    raw = args.config if args.config.lstrip().startswith("{") else open(args.config, encoding="utf-8").read()
    config = FakeModelConfig.from_dict(json.loads(raw))

    def ready(port: int) -> None:
        print(f"LISTENING {args.host}:{port}", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    try:
        import uvloop

        uvloop.run(serve(config, args.host, args.port, ready))
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        asyncio.run(serve(config, args.host, args.port, ready))
    except KeyboardInterrupt:
        pass
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
