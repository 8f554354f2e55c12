"""A scripted OpenAI-compatible HTTP server: "a fake model" that answers from a table.

Tests and speed benchmarks need an endpoint that is deterministic, free and fast enough that the
*client* is what gets measured, so this is a bare HTTP/1.1 server on `asyncio.start_server` (keep-alive,
no threads, no web framework, uvloop when importable) that serves thousands of small requests/s per core.

Endpoints (each also without the `/v1` prefix): `POST /v1/chat/completions` (with `stream` and `n`),
`POST /v1/completions`, `GET /v1/models`, `GET /stats`, `POST /stats/reset` (`?attempts=1` also forgets
the per-key fault attempts, which otherwise persist for the server's lifetime). Besides the counters,
`/stats` gives `first_request_at` and `last_reply_at`: the wall clock (`time.time()`) when the first
completion request since the last reset arrived and when the last completion reply was written (after
`delay_s`, in the socket's buffer), or null; a benchmark splits a client's wall time with them.

Request KEY: the text of the last `user` message (list contents: text parts joined with "\\n"), or the
completion prompt (a list of prompts: joined with "\\n"; each prompt is still answered on its own).

Matching rule: the reply is that of the FIRST entry, in table order, whose `contains` is a substring of
the key; if none matches, `default_reply`. A linear scan costs ~1,500 substring searches per request, so
an index gives the same answer cheaply: an entry of length L >= 2K-1 is filed under one K-character
window ("gram") per residue class of its start offset modulo K -- the window least shared with other
entries, so a boilerplate few-shot prefix common to every entry never becomes an anchor. Any occurrence of
the entry in the key then fully contains one key window starting at a multiple of K, so scanning only
those len(key)/K windows finds every candidate, which is verified with `str.startswith`. Tiers K = 16, 8,
4, 2 take entries by length; shorter ones (and "") are checked linearly.

Faults are decided per request KEY, not per attempt, by `fault_for` from sha256(str(seed) + key), so a
test can predict them. A faulted key fails on its first `attempts` requests, then answers normally;
`always_fail` substrings give HTTP 500 forever. "drop" aborts the TCP connection without a byte;
"stall" sleeps `stall_s` before answering (the client's timeout should fire first).

Misconfigured services, for the tests of what a user meets when the URL or key is wrong:
`api_key` makes every route require `Authorization: Bearer <api_key>` and answer 401 otherwise,
ECHOING the header it got ("Incorrect API key provided: Bearer sk-..."), as real providers do.
`misbehave` breaks the protocol after `misbehave_after` good completions: "html" (a 200 web page on
every route), "truncated_json" (a 200 JSON body cut in half), "empty_choices" (`choices: []`),
"null_content" (`message.content: null`), "echo_key_500" (a 500 whose message echoes the header).
`strict_model` answers 404 "The model `x` does not exist." for any other model name, as vLLM does.
`judge` (a mapping) makes the server a scripted *judge*: chat requests are answered by the rules of
`testing/judge_rules.py` from the whole conversation, not from the table.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["ServerConfig", "fault_for", "serve", "ScriptedServer", "main"]

FAULT_KINDS = ("500", "429", "drop", "stall")
MISBEHAVIOURS = ("html", "truncated_json", "empty_choices", "null_content", "echo_key_500")
_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Welcome</title></head><body>A web app, not an API.</body></html>"
)
_REASONING = "Let me think."
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Server Error",
}


@dataclass
class ServerConfig:
    """The answer table and fault plan; mirrors the JSON file accepted by `--config`."""

    model: str = "scripted"
    default_reply: str = "I don't know."
    entries: list[dict[str, str]] = field(default_factory=list)
    delay_s: float = 0.0
    faults: dict[str, Any] = field(default_factory=dict)
    reasoning: bool = False
    api_key: str | None = None
    misbehave: str | None = None
    misbehave_after: int = 0
    strict_model: bool = False
    judge: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServerConfig:
        """Validate eagerly: a typo in a test's table should fail at startup, not as a wrong reply."""
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        entries = [dict(e) for e in data.get("entries", [])]
        for e in entries:
            if not isinstance(e.get("contains"), str) or not isinstance(e.get("reply"), str):
                raise ValueError(f"each entry needs string 'contains' and 'reply': {e!r}")
        faults = dict(data.get("faults") or {})
        bad = set(faults.get("rate") or {}) - set(FAULT_KINDS)
        if bad:
            raise ValueError(f"unknown fault kinds {sorted(bad)}; expected {FAULT_KINDS}")
        misbehave = data.get("misbehave")
        if misbehave is not None and misbehave not in MISBEHAVIOURS:
            raise ValueError(f"unknown misbehave {misbehave!r}; expected one of {MISBEHAVIOURS}")
        return cls(
            api_key=data.get("api_key"),
            misbehave=misbehave,
            misbehave_after=int(data.get("misbehave_after", 0)),
            strict_model=bool(data.get("strict_model", False)),
            judge=dict(data.get("judge") or {}),
            model=str(data.get("model", "scripted")),
            default_reply=str(data.get("default_reply", "I don't know.")),
            entries=entries,
            delay_s=float(data.get("delay_s", 0.0)),
            faults=faults,
            reasoning=bool(data.get("reasoning", False)),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fault_for(key: str, faults: Mapping[str, Any]) -> str | None:
    """The injected fault for a request key ("500", "429", "drop", "stall") or None.

    Pure and hash-based so tests can compute the same decision: u = first 8 bytes of
    sha256(str(seed) + key) as a fraction of 2**64, compared with the cumulative rates in the order
    500, 429, drop, stall. `always_fail` and `attempts` are applied by the server, not here.
    """
    rates = faults.get("rate") or {}
    if not rates:
        return None
    digest = hashlib.sha256(f"{faults.get('seed', 0)}{key}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2.0**64
    edge = 0.0
    for kind in FAULT_KINDS:
        edge += float(rates.get(kind, 0.0))
        if u < edge:
            return kind
    return None


class _Matcher:
    """First-entry-wins substring matching via a strided gram index (see the module docstring)."""

    _TIERS = (16, 8, 4, 2)  # gram length K (= stride); an entry needs length >= 2K-1 for tier K

    def __init__(self, patterns: Sequence[str]) -> None:
        self._patterns = list(patterns)
        self._linear: list[int] = []
        by_tier: dict[int, list[int]] = {k: [] for k in self._TIERS}
        for idx, pat in enumerate(self._patterns):
            tier = next((k for k in self._TIERS if len(pat) >= 2 * k - 1), None)
            (self._linear if tier is None else by_tier[tier]).append(idx)
        self._tiers: list[tuple[int, int, dict[str, list[tuple[int, int]]]]] = []
        for k, members in by_tier.items():
            if members:
                self._tiers.append((k, members[0], self._build(k, members)))
        self._cache: dict[str, int | None] = {}

    def _build(self, k: int, members: list[int]) -> dict[str, list[tuple[int, int]]]:
        freq: dict[str, int] = {}
        for idx in members:
            pat = self._patterns[idx]
            for gram in {pat[o : o + k] for o in range(len(pat) - k + 1)}:
                freq[gram] = freq.get(gram, 0) + 1
        index: dict[str, list[tuple[int, int]]] = {}
        for idx in members:
            pat = self._patterns[idx]
            for residue in range(k):
                # Any offset with this residue works; the rarest gram keeps candidate lists short.
                offset = min(range(residue, len(pat) - k + 1, k), key=lambda o: freq[pat[o : o + k]])
                index.setdefault(pat[offset : offset + k], []).append((idx, offset))
        return index

    def match(self, key: str) -> int | None:
        cached = self._cache.get(key, -1)
        if cached != -1:
            return cached
        best = len(self._patterns)
        for idx in self._linear:  # ascending, so the first hit is the earliest linear entry
            if self._patterns[idx] in key:
                best = idx
                break
        pats = self._patterns
        for k, first, index in self._tiers:
            if first >= best:
                continue
            get = index.get
            for pos in range(0, len(key) - k + 1, k):
                hits = get(key[pos : pos + k])
                if hits:
                    for idx, offset in hits:
                        start = pos - offset
                        if idx < best and start >= 0 and key.startswith(pats[idx], start):
                            best = idx
        result = best if best < len(pats) else None
        if len(self._cache) > 100_000:  # bound memory in long benchmark runs
            self._cache.clear()
        self._cache[key] = result
        return result


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _words(text: str) -> int:
    return len(text.split())


def _pieces(text: str) -> list[str]:
    """Split a reply into per-word stream deltas whose concatenation is exactly the reply."""
    parts = re.findall(r"\s*\S+", text)
    tail = text[len("".join(parts)) :]
    if tail:
        parts = parts[:-1] + [parts[-1] + tail] if parts else [tail]
    return parts


def _error_body(message: str, kind: str, code: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "code": code}}).encode()


def _head(status: int, headers: Sequence[tuple[str, str]], keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _App:
    """Per-server state: the matcher, the stats, the fault attempt counters and live connections."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.matcher = _Matcher([e["contains"] for e in config.entries])
        self.replies = [e["reply"] for e in config.entries]
        faults = config.faults
        self.max_attempts = int(faults.get("attempts", 1))
        retry = faults.get("retry_after_s", 0.05)
        self.retry_after = retry if isinstance(retry, str) else str(retry)
        self.stall_s = float(faults.get("stall_s", 30.0))
        self.always_fail = [str(s) for s in faults.get("always_fail", [])]
        self.attempts: dict[str, int] = {}
        self.conns: set[asyncio.Task[Any]] = set()
        self._ids = itertools.count(1)
        self.reset_stats()

    def reset_stats(self) -> None:
        self.requests = 0
        self.ok = 0
        self.fault_counts = dict.fromkeys(FAULT_KINDS, 0)
        self.by_key: dict[str, int] = {}
        self.first_request_at: float | None = None
        self.last_reply_at: float | None = None

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "ok": self.ok,
            "faults": dict(self.fault_counts),
            "by_key": dict(self.by_key),
            "first_request_at": self.first_request_at,
            "last_reply_at": self.last_reply_at,
        }

    def _decide_fault(self, key: str) -> str | None:
        if any(s in key for s in self.always_fail):
            return "500"
        kind = fault_for(key, self.config.faults)
        if kind is None:
            return None
        n = self.attempts[key] = self.attempts.get(key, 0) + 1
        return kind if n <= self.max_attempts else None

    def _reply(self, text: str) -> str:
        idx = self.matcher.match(text)
        return self.config.default_reply if idx is None else self.replies[idx]

    # -- HTTP plumbing -------------------------------------------------------------------------------

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.conns.add(task)
        try:
            keep = True
            while keep:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    break
                request_line, _, header_blob = head.lstrip(b"\r\n")[:-4].partition(b"\r\n")
                parts = request_line.decode("latin-1").split(" ")
                if len(parts) != 3:
                    err = _error_body("bad request line", "invalid_request_error", "400")
                    writer.write(self._json(400, err, False))
                    break
                method, target, version = parts
                headers: dict[str, str] = {}
                for line in header_blob.split(b"\r\n"):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                if headers.get("expect", "").lower() == "100-continue":  # else curl & co. wait 1 s
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                conn = headers.get("connection", "").lower()
                keep = conn != "close" and (version == "HTTP/1.1" or conn == "keep-alive")
                try:
                    body = await self._read_body(reader, headers)
                except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                    break
                keep = await self._dispatch(method, target, headers, body, reader, writer, keep)
        except asyncio.CancelledError:  # server shutdown; not re-raised: 3.11's stream callback
            writer.transport.abort()  # would log a spurious traceback for a cancelled handler task
        except OSError:
            pass  # the client went away mid-response (e.g. it timed out during a stream)
        except Exception:
            traceback.print_exc()
        finally:
            if task is not None:
                self.conns.discard(task)
            writer.close()

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
        length = int(headers.get("content-length", "0") or "0")
        return await reader.readexactly(length) if length else b""

    @staticmethod
    def _json(status: int, body: bytes, keep: bool, extra: Sequence[tuple[str, str]] = ()) -> bytes:
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra]
        return _head(status, headers, keep) + body

    async def _dispatch(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        keep: bool,
    ) -> bool:
        """Route one request; returns whether the connection stays open."""
        if self.config.misbehave == "html" and self.ok >= self.config.misbehave_after:
            page = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(_HTML_PAGE)))]
            writer.write(_head(200, page, keep) + _HTML_PAGE)
            return keep
        auth = headers.get("authorization", "")
        testing_route = target.startswith("/stats")  # the test's own counters need no key
        if self.config.api_key is not None and auth != f"Bearer {self.config.api_key}" and not testing_route:
            msg = f"Incorrect API key provided: {auth or '(none)'}. You can find your API key at https://example.invalid."
            writer.write(self._json(401, _error_body(msg, "invalid_request_error", "invalid_api_key"), keep))
            return keep
        path, _, query = target.partition("?")
        path = path.rstrip("/")
        if path.startswith("/v1/") or path == "/v1":
            path = path[3:]
        if method == "POST" and path in ("/chat/completions", "/completions"):
            if self.first_request_at is None:
                self.first_request_at = time.time()
            keep = await self._completion(path == "/chat/completions", body, reader, writer, keep, auth)
            self.last_reply_at = time.time()
            return keep
        if method == "GET" and path == "/models":
            data = {
                "object": "list",
                "data": [{"id": self.config.model, "object": "model", "created": 0, "owned_by": "scripted"}],
            }
            writer.write(self._json(200, json.dumps(data).encode(), keep))
        elif method == "GET" and path == "/stats":
            writer.write(self._json(200, json.dumps(self.stats()).encode(), keep))
        elif method == "POST" and path == "/stats/reset":
            self.reset_stats()
            if "attempts=1" in query or "attempts=true" in query:
                self.attempts.clear()
            writer.write(self._json(200, json.dumps(self.stats()).encode(), keep))
        else:
            msg = f"Unknown route: {method} {target}"
            writer.write(self._json(404, _error_body(msg, "invalid_request_error", "not_found"), keep))
        return keep

    # -- completions ---------------------------------------------------------------------------------

    async def _completion(
        self,
        chat: bool,
        body: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        keep: bool,
        auth: str = "",
    ) -> bool:
        self.requests += 1
        try:
            req = json.loads(body)
            if not isinstance(req, dict):
                raise ValueError("request body must be a JSON object")
        except ValueError as exc:
            err = _error_body(f"invalid JSON: {exc}", "invalid_request_error", "400")
            writer.write(self._json(400, err, keep))
            return keep
        if chat:
            messages = [m for m in req.get("messages") or [] if isinstance(m, dict)]
            users = [m for m in messages if m.get("role") == "user"]
            prompts = [_content_text(users[-1].get("content")) if users else ""]
            prompt_tokens = sum(_words(_content_text(m.get("content"))) for m in messages)
        else:
            raw = req.get("prompt", "")
            prompts = [p if isinstance(p, str) else str(p) for p in (raw if isinstance(raw, list) else [raw])]
            prompt_tokens = sum(_words(p) for p in prompts)
        if self.config.strict_model and req.get("model") != self.config.model:
            msg = f"The model `{req.get('model')}` does not exist."
            writer.write(self._json(404, _error_body(msg, "NotFoundError", "404"), keep))
            return keep
        key = "\n".join(prompts)
        self.by_key[key] = self.by_key.get(key, 0) + 1
        if self.config.delay_s > 0:
            await asyncio.sleep(self.config.delay_s)
        fault = self._decide_fault(key)
        if fault is not None:
            self.fault_counts[fault] += 1
        if fault == "drop":
            writer.transport.abort()
            return False
        if fault == "500":
            err = _error_body("Injected fault: internal server error", "server_error", "injected_500")
            writer.write(self._json(500, err, keep))
            return keep
        if fault == "429":
            err = _error_body("Injected fault: rate limit exceeded", "requests", "rate_limit_exceeded")
            writer.write(self._json(429, err, keep, [("Retry-After", self.retry_after)]))
            return keep
        if fault == "stall":
            await asyncio.sleep(self.stall_s)
        if (fault or self.config.delay_s > 0) and (writer.is_closing() or reader.at_eof()):
            return False  # the client gave up while we slept
        broken = self.config.misbehave if self.ok >= self.config.misbehave_after else None
        if broken == "echo_key_500":
            msg = f"Upstream auth failed for header {auth!r}"
            writer.write(self._json(500, _error_body(msg, "server_error", "upstream"), keep))
            return keep
        n = max(1, int(req.get("n") or 1))
        if chat and self.config.judge:
            from evalscope_native.testing.judge_rules import judge_reply

            replies = [judge_reply(messages, self.config.judge)] * n
        else:
            replies = [self._reply(p) for p in prompts for _ in range(n)]
        completion_tokens = sum(_words(r) for r in replies)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        base = {
            "id": f"{'chatcmpl' if chat else 'cmpl'}-{next(self._ids):08x}",
            "created": int(time.time()),
            "model": req.get("model") or self.config.model,
        }
        self.ok += 1
        if req.get("stream"):
            opts = req.get("stream_options")
            with_usage = isinstance(opts, dict) and bool(opts.get("include_usage"))
            await self._stream(chat, base, replies, usage if with_usage else None, writer, keep)
            return keep
        if chat:
            choices: list[dict[str, Any]] = []
            for i, reply in enumerate(replies):
                content = None if broken == "null_content" else reply
                message: dict[str, Any] = {"role": "assistant", "content": content}
                if self.config.reasoning:
                    message["reasoning_content"] = _REASONING
                choices.append({"index": i, "message": message, "finish_reason": "stop", "logprobs": None})
            payload = {**base, "object": "chat.completion", "choices": choices, "usage": usage}
        else:
            choices = [
                {"index": i, "text": r, "finish_reason": "stop", "logprobs": None}
                for i, r in enumerate(replies)
            ]
            payload = {**base, "object": "text_completion", "choices": choices, "usage": usage}
        if broken == "empty_choices":
            payload["choices"] = []
        raw = json.dumps(payload).encode()
        if broken == "truncated_json":
            raw = raw[: len(raw) // 2]
        writer.write(self._json(200, raw, keep))
        return keep

    async def _stream(
        self,
        chat: bool,
        base: dict[str, Any],
        replies: list[str],
        usage: dict[str, int] | None,
        writer: asyncio.StreamWriter,
        keep: bool,
    ) -> None:
        """SSE over chunked transfer encoding, so the connection can be kept alive afterwards."""
        obj = "chat.completion.chunk" if chat else "text_completion"

        def event(choices: list[dict[str, Any]], **extra: Any) -> bytes:
            data = b"data: %s\n\n" % json.dumps({**base, "object": obj, "choices": choices, **extra}).encode()
            return b"%x\r\n%s\r\n" % (len(data), data)

        def choice(i: int, text: str | None, finish: str | None, **delta: str) -> dict[str, Any]:
            if chat:
                return {
                    "index": i,
                    "delta": delta if text is None else {**delta, "content": text},
                    "finish_reason": finish,
                    "logprobs": None,
                }
            return {"index": i, "text": text or "", "finish_reason": finish, "logprobs": None}

        headers = [
            ("Content-Type", "text/event-stream"),
            ("Cache-Control", "no-cache"),
            ("Transfer-Encoding", "chunked"),
        ]
        writer.write(_head(200, headers, keep))
        if chat:
            extra = {"reasoning_content": _REASONING} if self.config.reasoning else {}
            writer.write(event([choice(i, "", None, role="assistant", **extra) for i in range(len(replies))]))
        pieces = [_pieces(r) for r in replies]
        for w in range(max((len(p) for p in pieces), default=0)):
            writer.write(event([choice(i, p[w], None) for i, p in enumerate(pieces) if w < len(p)]))
            await writer.drain()
        writer.write(event([choice(i, None if chat else "", "stop") for i in range(len(replies))]))
        if usage is not None:
            writer.write(event([], usage=usage))
        data = b"data: [DONE]\n\n"
        writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
        await writer.drain()


async def serve(
    config: ServerConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Serve until `stop` is set (never, if None); `on_ready` gets the bound port once listening."""
    app = _App(config)
    server = await asyncio.start_server(app.handle, host, port, limit=1 << 24, backlog=1024)
    if on_ready is not None:
        on_ready(server.sockets[0].getsockname()[1])
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        server.close()
        for task in list(app.conns):  # stalled handlers would otherwise hold shutdown for stall_s
            task.cancel()
        await asyncio.gather(*app.conns, return_exceptions=True)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return asyncio.new_event_loop
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: print one `LISTENING http://host:port` line, serve until SIGTERM/SIGINT, exit 0."""
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible server (a fake model).")
    parser.add_argument("--config", help="JSON config file (see ServerConfig); default: empty table")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    config = ServerConfig()
    if args.config:
        config = ServerConfig.from_dict(json.loads(Path(args.config).read_text(encoding="utf-8")))

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # Windows: default handlers remain
                pass

        def ready(port: int) -> None:
            print(f"LISTENING http://{args.host}:{port}", flush=True)

        await serve(config, args.host, args.port, stop=stop, on_ready=ready)

    loop = _loop_factory()()
    try:
        loop.run_until_complete(run())
    except KeyboardInterrupt:
        pass
    finally:
        loop.close()
    return 0


class ScriptedServer:
    """Run the server in a subprocess for a test: `with ScriptedServer(cfg) as srv: srv.base_url ...`.

    A subprocess (rather than a thread) keeps the server's event loop and GIL away from the code being
    measured, and proves the CLI works.
    """

    def __init__(self, config: Mapping[str, Any] | ServerConfig, *, startup_timeout_s: float = 30.0) -> None:
        self.config = config if isinstance(config, ServerConfig) else ServerConfig.from_dict(config)
        self.startup_timeout_s = startup_timeout_s
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        # Loopback must never go through an HTTP proxy configured in the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def __enter__(self) -> ScriptedServer:
        self._tmpdir = tempfile.TemporaryDirectory(prefix="scripted-server-")
        cfg_path = Path(self._tmpdir.name, "config.json")
        cfg_path.write_text(json.dumps(self.config.to_dict()), encoding="utf-8")
        stderr_path = Path(self._tmpdir.name, "stderr.log")
        env = dict(os.environ)
        src_root = str(Path(__file__).resolve().parents[2])  # importable even when not pip-installed
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src_root, env.get("PYTHONPATH")) if p)
        cmd = [
            sys.executable,
            "-m",
            "evalscope_native.testing.openai_server",
            "--config",
            str(cfg_path),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ]
        with open(stderr_path, "wb") as stderr:  # a file, not a pipe: a full pipe would block the server
            self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, env=env)
        first_line: list[bytes] = []
        got_line = threading.Event()
        stdout = self._proc.stdout
        assert stdout is not None

        def drain() -> None:  # keep reading so stray output can never block the child
            for i, line in enumerate(iter(stdout.readline, b"")):
                if i == 0:
                    first_line.append(line)
                    got_line.set()
            got_line.set()

        threading.Thread(target=drain, daemon=True).start()
        got_line.wait(self.startup_timeout_s)
        line = first_line[0].decode(errors="replace").strip() if first_line else ""
        if not line.startswith("LISTENING "):
            code = self._proc.poll()
            self._stop()  # the child is gone before its stderr is read, so the log is complete
            err = stderr_path.read_text(encoding="utf-8", errors="replace")
            self._cleanup()
            why = f"exited with code {code}" if code is not None else f"timed out ({self.startup_timeout_s}s)"
            raise RuntimeError(
                f"scripted server never printed LISTENING: {why}; stdout: {line!r}; stderr:\n{err}"
            )
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()
        self._cleanup()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    def _cleanup(self) -> None:
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def _call(self, method: str, path: str) -> dict[str, Any]:
        req = urllib.request.Request(self.url + path, method=method, data=b"" if method == "POST" else None)
        with self._opener.open(req, timeout=30) as resp:
            result: dict[str, Any] = json.loads(resp.read())
        return result

    def stats(self) -> dict[str, Any]:
        """The server's counters: requests, ok, faults by kind, requests by key, first/last times."""
        return self._call("GET", "/stats")

    def reset_stats(self, *, attempts: bool = False) -> None:
        """Zero the counters; with `attempts=True` also forget which faulted keys already failed."""
        self._call("POST", "/stats/reset?attempts=1" if attempts else "/stats/reset")


if __name__ == "__main__":
    sys.exit(main())
