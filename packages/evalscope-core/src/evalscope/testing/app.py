"""The scripted model: routes, counters, faults, replies -- what the server answers, and when.

Model routes (each also under `/v1`): `POST /chat/completions` (with `stream`, `n`,
`stream_options.include_usage`), `POST /completions`, `POST /responses` (OpenAI's Responses API, its
shapes in `responses_api.py`), `POST /embeddings`, `POST /rerank` (or `/reranks`). Testing routes
(no API key needed): `GET /models`, `GET /health`, `GET /stats`, `POST /stats/reset` (`?attempts=1`
also forgets which faulted keys already failed), `POST /config` (replace the settings: a JSON
`ServerConfig`; counters and attempts start again).

`/stats` holds the counters (`requests`, `ok`, `streams`, `faults` by kind, `routes` with
`requests`/`ok`/`faults`/`inputs` each, `by_key`: requests per key) and the clocks a benchmark splits
a client's time with: `first_request_at`/`last_reply_at` (wall clock, `time.time()`) and
`first_request_perf`/`last_reply_perf` (`time.perf_counter()`, CLOCK_MONOTONIC, shared by every
process on Linux) -- when the first model request since the last reset arrived and when the last
reply was written -- and, with `record_timings`, `timings`: per request `[arrived, first token
written, last token written]` (perf_counter, stamped just *before* each write, so the bytes cannot
arrive earlier) under its `X-Request-Id` header, else its key.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from evalscope.testing.config import ServerConfig
from evalscope.testing.connection import Connection, Request
from evalscope.testing.faults import FAULT_KINDS, FaultState, echo_credentials
from evalscope.testing.replies import ReplyTable, content_text, last_user_text, split_tokens, word_count
from evalscope.testing.responders import ReplyError, hash_embedding, load_factory
from evalscope.testing.responses_api import ResponsesEncoder, input_messages, response_object
from evalscope.testing.wire import (
    SSEEncoder,
    error_payload,
    http_head,
    json_response,
    stream_head,
    wire_tool_calls,
)

__all__ = ["ScriptedApp"]

_ROUTES = {
    "/chat/completions": "chat",
    "/completions": "completions",
    "/responses": "responses",
    "/embeddings": "embeddings",
    "/rerank": "rerank",
    "/reranks": "rerank",
}
_GENERATING = ("chat", "completions", "responses")  # routes that stream tokens
_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Welcome</title></head><body>A web app, not an API.</body></html>"
)
_REASONING = "Let me think."


@dataclass
class _Job:
    """One model request on its way through delay, fault, responder and (timed) writing."""

    request: Request
    conn: Connection
    route: str
    body: dict[str, Any]
    key: str
    arrival: int  # the server's arrival number, from 1
    route_no: int  # its route's request number, from 1
    ready: float  # perf_counter time the reply's timing starts from: arrival, + delay_s, + a stall
    fault: str | None = None


class ScriptedApp:
    """The server's state. Built from a `ServerConfig` plus optional Python responders."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        chat: Callable[..., str] | None = None,
        embed: Callable[..., Any] | None = None,
        rerank: Callable[..., Any] | None = None,
    ) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.connections: set[Connection] = set()
        self._callables = {"chat": chat, "embeddings": embed, "rerank": rerank}
        # embed and rerank functions usually wrap one model instance: called one at a time
        self._locks = {"embeddings": threading.Lock(), "rerank": threading.Lock()}
        self._ids = itertools.count(1)
        self.active = 0  # streams in flight
        self.waiting: deque[tuple[Connection, Callable[[], None]]] = (
            deque()
        )  # streams queued for a slot (`max_active`)
        self.configure(config)

    def configure(self, config: ServerConfig) -> None:
        responders = {route: load_factory(spec) for route, spec in config.responders.items()}
        responders.update({route: fn for route, fn in self._callables.items() if fn is not None})
        self.config = config
        self.responders: dict[str, Callable[..., Any]] = responders
        self.table = ReplyTable(config.entries, config.default_reply)
        self.fault_state = FaultState(config.faults)
        self.arrivals = 0
        self.reset_stats()

    def reset_stats(self) -> None:
        self.requests = 0
        self.ok = 0
        self.streams = 0
        self.fault_counts = dict.fromkeys(FAULT_KINDS, 0)
        self.routes = {
            r: {"requests": 0, "ok": 0, "faults": 0, "inputs": 0} for r in dict.fromkeys(_ROUTES.values())
        }
        self.by_key: dict[str, int] = {}
        self.timings: dict[str, list[float]] = {}
        self.first_request_at: float | None = None
        self.first_request_perf: float | None = None
        self.last_reply_at: float | None = None
        self.last_reply_perf: float | None = None

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "ok": self.ok,
            "streams": self.streams,
            "faults": dict(self.fault_counts),
            "routes": {r: dict(c) for r, c in self.routes.items()},
            "by_key": dict(self.by_key),
            "first_request_at": self.first_request_at,
            "last_reply_at": self.last_reply_at,
            "first_request_perf": self.first_request_perf,
            "last_reply_perf": self.last_reply_perf,
            "timings": {k: list(v) for k, v in self.timings.items()},
        }

    # -- routing ---------------------------------------------------------------------------------------

    def connection_lost(self, conn: Connection) -> None:
        if conn.streaming:  # the client went away mid-stream
            conn.streaming = False
            self.active -= 1
            self._release()

    def _release(self) -> None:
        """A slot freed: start the oldest queued stream (`max_active`)."""
        while self.waiting and self.active < self.config.max_active:
            conn, start = self.waiting.popleft()
            if conn.alive:  # a client that went away while queued takes no slot
                start()

    def handle(self, req: Request, conn: Connection) -> None:
        cfg, keep = self.config, req.keep_alive
        testing = req.path.startswith("/stats") or req.path in ("/config", "/health")
        if cfg.misbehave == "html" and self.ok >= cfg.misbehave_after and not testing:
            page = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(_HTML_PAGE)))]
            conn.finish(http_head(200, page, keep) + _HTML_PAGE)
            return
        auth = req.headers.get("authorization", "")
        if cfg.api_key is not None and auth != f"Bearer {cfg.api_key}" and not testing:
            msg = (
                f"Incorrect API key provided: {auth or '(none)'}. "
                "You can find your API key at https://example.invalid."
            )
            conn.finish(json_response(401, error_payload(msg, code="invalid_api_key"), keep))
            return
        route = _ROUTES.get(req.path)
        if req.method == "POST" and route is not None:
            self._model_request(req, conn, route)
        elif req.method == "GET" and req.path == "/models":
            model = {"id": cfg.model, "object": "model", "created": 0, "owned_by": "scripted"}
            conn.finish(json_response(200, {"object": "list", "data": [model]}, keep))
        elif req.method == "GET" and req.path == "/health":
            conn.finish(json_response(200, {"status": "ok"}, keep))
        elif req.method == "GET" and req.path == "/stats":
            conn.finish(json_response(200, self.stats(), keep))
        elif req.method == "POST" and req.path == "/stats/reset":
            self.reset_stats()
            if "attempts=1" in req.query or "attempts=true" in req.query:
                self.fault_state.attempts.clear()
            conn.finish(json_response(200, self.stats(), keep))
        elif req.method == "POST" and req.path == "/config":
            try:
                self.configure(ServerConfig.from_dict(json.loads(req.body or b"{}")))
            except Exception as exc:  # a bad setting, or a responder factory that fails to import
                conn.finish(json_response(400, error_payload(f"{type(exc).__name__}: {exc}", code=400), keep))
                return
            conn.finish(json_response(200, self.config.to_dict(), keep))
        else:
            msg = f"Unknown route: {req.method} {req.target}"
            conn.finish(json_response(404, error_payload(msg, code="not_found"), keep))

    # -- model requests: arrival, delay, fault -------------------------------------------------------

    def _model_request(self, req: Request, conn: Connection, route: str) -> None:
        cfg = self.config
        if route not in self.responders and (
            route == "rerank" or (route == "embeddings" and cfg.embedding_dim <= 0)
        ):
            conn.finish(
                json_response(404, error_payload(f"this server serves no {route}", code=404), req.keep_alive)
            )
            return
        self.requests += 1
        counts = self.routes[route]
        counts["requests"] += 1
        if self.first_request_at is None:
            self.first_request_at, self.first_request_perf = time.time(), req.arrived
        try:
            body = json.loads(req.body)
            if not isinstance(body, dict):
                raise ValueError("request body must be a JSON object")
        except ValueError as exc:
            self._error(conn, req, 400, f"invalid JSON: {exc}", "invalid_request_error")
            return
        if cfg.strict_model and body.get("model") != cfg.model:
            self._error(conn, req, 404, f"The model `{body.get('model')}` does not exist.", "NotFoundError")
            return
        key = _request_key(route, body)
        self.by_key[key] = self.by_key.get(key, 0) + 1
        self.arrivals += 1
        job = _Job(req, conn, route, body, key, self.arrivals, counts["requests"], req.arrived)
        if cfg.delay_s > 0:
            job.ready = req.arrived + cfg.delay_s
            conn.later(job.ready, self._after_delay, job)
        else:
            self._after_delay(job)

    def _after_delay(self, job: _Job) -> None:
        cfg, conn, req = self.config, job.conn, job.request
        fault = job.fault = self.fault_state.decide(job.key, job.arrival, job.route_no)
        if fault is None:
            self._produce(job)
            return
        self.fault_counts[fault] += 1
        self.routes[job.route]["faults"] += 1
        stream = self._streamed(job)
        if fault == "drop" and not (stream and cfg.faults.drop_after > 0):
            self._stamp()
            conn.abort()
        elif fault == "500":
            self._error(conn, req, 500, "injected server error", "server_error")
        elif fault == "429":
            retry = [("Retry-After", str(cfg.faults.retry_after_s))]
            self._error(conn, req, 429, "rate limited", "rate_limit_error", retry)
        elif fault in ("echo_401", "echo_500") or (fault == "echo_stream" and not stream):
            status = 401 if fault == "echo_401" else 500
            self._error(conn, req, status, echo_credentials(req.headers), "invalid_request_error")
        elif fault == "echo_stream":  # HTTP 200, then the error as the stream's only event
            error = error_payload(echo_credentials(req.headers), code=401)["error"]
            self._stamp()
            conn.finish(stream_head(req.keep_alive) + SSEEncoder.error_event(error) + SSEEncoder.done())
        elif fault == "stall":
            job.ready = time.perf_counter() + cfg.faults.stall_s
            conn.later(job.ready, self._produce, job)
        else:  # "drop" mid-stream: the stream writer aborts after drop_after tokens
            self._produce(job)

    def _error(
        self,
        conn: Connection,
        req: Request,
        status: int,
        message: str,
        kind: str,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self._stamp()
        conn.finish(json_response(status, error_payload(message, kind, status), req.keep_alive, headers))

    def _stamp(self) -> None:
        self.last_reply_at, self.last_reply_perf = time.time(), time.perf_counter()

    @staticmethod
    def _streamed(job: _Job) -> bool:
        return job.route in _GENERATING and bool(job.body.get("stream"))

    # -- replies -------------------------------------------------------------------------------------

    def _produce(self, job: _Job) -> None:
        cfg, body = self.config, job.body
        if cfg.misbehave == "echo_key_500" and self.ok >= cfg.misbehave_after and job.route in _GENERATING:
            auth = job.request.headers.get("authorization", "")
            self._error(
                job.conn, job.request, 500, f"Upstream auth failed for header {auth!r}", "server_error"
            )
            return
        if job.route == "embeddings":
            self._embeddings(job)
            return
        if job.route == "rerank":
            self._rerank(job)
            return
        responses = job.route == "responses"
        n = 1 if responses else max(1, int(body.get("n") or 1))
        if cfg.tokens is not None:
            limit = body.get("max_output_tokens" if responses else "max_tokens")
            count = cfg.tokens if isinstance(cfg.tokens, int) else int(limit or 16)
            self._complete(job, [[cfg.token_text] * max(count, 1)] * n, "length")
        elif job.route in ("chat", "responses") and "chat" in self.responders:
            messages = _messages(job.route, body)

            def done(ok: bool, value: Any) -> None:
                if ok and isinstance(value, str):
                    self._complete(job, [split_tokens(value)] * n, "stop")
                elif responses and ok and isinstance(value, dict):
                    self._responder_failed(job, TypeError("the scripted /responses route serves text only"))
                elif ok and isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
                    # a function-calling reply: {"content": optional text, "tool_calls": [...]}
                    text = split_tokens(str(value.get("content") or ""))
                    self._complete(job, [text] * n, "tool_calls", wire_tool_calls(value["tool_calls"]))
                else:
                    self._responder_failed(
                        job, value if not ok else TypeError(f"a chat responder returned {value!r}")
                    )

            job.conn.call_in_thread(self.responders["chat"], (messages, body), done)
        else:
            texts = [self.table.reply(p) for p in _prompts(job.route, body) for _ in range(n)]
            self._complete(job, [split_tokens(t) for t in texts], "stop")

    def _responder_failed(self, job: _Job, exc: BaseException) -> None:
        if isinstance(exc, ReplyError):
            self._error(job.conn, job.request, exc.status, str(exc), "invalid_request_error")
            return
        traceback.print_exception(exc)
        message = f"the responder failed: {type(exc).__name__}: {exc}"
        self._error(job.conn, job.request, 500, message, "server_error")

    def _complete(
        self, job: _Job, choices: list[list[str]], finish: str, tool_calls: list[dict[str, Any]] | None = None
    ) -> None:
        cfg, body, chat = self.config, job.body, job.route == "chat"
        if job.route in ("chat", "responses"):
            messages = _messages(job.route, body)
            prompt_tokens = sum(word_count(content_text(m.get("content"))) for m in messages)
        else:
            prompt_tokens = sum(word_count(p) for p in _prompts("completions", body))
        completion_tokens = sum(len(p) for p in choices)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        self.routes[job.route]["inputs"] += len(choices)
        model = str(body.get("model") or cfg.model)
        if job.route == "responses":
            self._respond(job, choices[0], usage, model)
            return
        ident = f"{'chatcmpl' if chat else 'cmpl'}-{next(self._ids):08x}"
        if self._streamed(job):
            self._stream(
                job,
                SSEEncoder(chat=chat, id=ident, model=model, created=int(time.time())),
                choices,
                finish,
                usage,
                tool_calls,
            )
            return
        broken = cfg.misbehave if self.ok >= cfg.misbehave_after else None
        base = {"id": ident, "created": int(time.time()), "model": model}
        items: list[dict[str, Any]] = []
        for i, pieces in enumerate(choices):
            text = "".join(pieces)
            if chat:
                message: dict[str, Any] = {
                    "role": "assistant",
                    "content": None if broken == "null_content" else text,
                }
                if cfg.reasoning:
                    message["reasoning_content"] = _REASONING
                if tool_calls:
                    message["tool_calls"] = tool_calls
                    message["content"] = message["content"] or None
                items.append({"index": i, "message": message, "finish_reason": finish, "logprobs": None})
            else:
                items.append({"index": i, "text": text, "finish_reason": finish, "logprobs": None})
        payload = {**base, "object": "chat.completion" if chat else "text_completion", "choices": items}
        if cfg.usage:
            payload["usage"] = usage
        if broken == "empty_choices":
            payload["choices"] = []
        raw = json.dumps(payload).encode()
        if broken == "truncated_json":
            raw = raw[: len(raw) // 2]
        steps = max((len(p) for p in choices), default=1)
        due = job.ready + cfg.ttft + max(steps - 1, 0) * cfg.itl  # when the last token would be written
        job.conn.later(due, self._write_whole, job, json_response(200, raw, job.request.keep_alive))

    def _respond(self, job: _Job, pieces: list[str], usage: dict[str, int], model: str) -> None:
        """A `/responses` reply: the same timing as a chat reply, in the Responses API's shapes."""
        cfg, ident, created = self.config, f"{next(self._ids):08x}", int(time.time())
        if self._streamed(job):
            reported = usage if cfg.usage else None
            enc = ResponsesEncoder(id=ident, model=model, created=created, pieces=pieces, usage=reported)
            self._stream(job, enc, [pieces], "stop", usage)
            return
        broken = cfg.misbehave if self.ok >= cfg.misbehave_after else None
        text = None if broken == "null_content" else "".join(pieces)
        payload = response_object(
            ident, model, created, text, usage if cfg.usage else None, output=broken != "empty_choices"
        )
        raw = json.dumps(payload).encode()
        if broken == "truncated_json":
            raw = raw[: len(raw) // 2]
        due = job.ready + cfg.ttft + max(len(pieces) - 1, 0) * cfg.itl  # when the last token would be written
        job.conn.later(due, self._write_whole, job, json_response(200, raw, job.request.keep_alive))

    def _write_whole(self, job: _Job, data: bytes) -> None:
        now = time.perf_counter()
        if self.config.record_timings:
            self.timings[_timing_key(job)] = [job.request.arrived, now, now]
        self.ok += 1
        self.routes[job.route]["ok"] += 1
        self._stamp()
        job.conn.finish(data)

    def _stream(
        self,
        job: _Job,
        enc: SSEEncoder | ResponsesEncoder,
        choices: list[list[str]],
        finish: str,
        usage: dict[str, int],
        tool_calls: list[dict[str, Any]] | None = None,
    ) -> None:
        cfg, conn = self.config, job.conn
        if cfg.max_active > 0 and self.active >= cfg.max_active:  # a full server: wait for a slot
            self.waiting.append((conn, lambda: self._stream(job, enc, choices, finish, usage, tool_calls)))
            return
        if cfg.max_active > 0 and job.ready < time.perf_counter():
            job.ready = time.perf_counter()  # dequeued: its timing starts when it got the slot
        opts = job.body.get("stream_options")
        with_usage = cfg.usage and isinstance(opts, dict) and bool(opts.get("include_usage"))
        drop = job.fault == "drop"
        steps = max(1, max((len(p) for p in choices), default=0))
        last = min(steps, cfg.faults.drop_after) if drop else steps
        calls = b"".join(enc.tool_calls(tool_calls, i) for i in range(len(choices))) if tool_calls else b""
        tail = (
            b""
            if drop
            else calls
            + enc.finish(finish, len(choices))
            + (enc.usage(usage) if with_usage else b"")
            + enc.done()
        )
        role = enc.role(len(choices), _REASONING if cfg.reasoning else None)
        record = None
        if cfg.record_timings:
            record = self.timings[_timing_key(job)] = [job.request.arrived, 0.0, 0.0]
        ttft = cfg.ttft + cfg.ttft_per_active * self.active
        self.active += 1
        self.streams += 1
        conn.streaming = True

        def event(k: int) -> bytes:  # step k (from 0): role first, a token per choice, the tail last
            data = role if k == 0 else b""
            if len(choices) == 1:
                if k < len(choices[0]):
                    data += enc.delta(choices[0][k])
            else:
                pieces = [(i, p[k]) for i, p in enumerate(choices) if k < len(p)]
                if pieces:
                    data += enc.deltas(pieces)
            return data + tail if k == last - 1 else data

        def send(k: int) -> None:
            data = event(k)
            now = time.perf_counter()  # stamped before the write: the bytes cannot arrive earlier
            conn.write(data)
            if record is not None:
                record[1 if k == 0 else 2] = now
                if k == 0:
                    record[2] = now
            if k == last - 1:
                self._stream_end(job, drop)

        conn.write(stream_head(job.request.keep_alive))
        if ttft <= 0 and cfg.itl <= 0:  # zero delay: one write, no timers
            data = b"".join(event(k) for k in range(last))
            if record is not None:
                record[1] = record[2] = time.perf_counter()
            conn.write(data)
            self._stream_end(job, drop)
            return
        for k in range(last):
            conn.later(job.ready + ttft + k * cfg.itl, send, k)

    def _stream_end(self, job: _Job, drop: bool) -> None:
        if job.conn.streaming:
            job.conn.streaming = False
            self.active -= 1
            self._release()
        self._stamp()
        if drop:
            job.conn.abort()
            return
        self.ok += 1
        self.routes[job.route]["ok"] += 1
        job.conn.finish()

    # -- embeddings and rerank -----------------------------------------------------------------------

    def _embeddings(self, job: _Job) -> None:
        raw = job.body.get("input")
        texts = [raw] if isinstance(raw, str) else raw
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            self._error(
                job.conn,
                job.request,
                400,
                "input must be a string or a list of strings",
                "invalid_request_error",
            )
            return
        fn = self.responders.get("embeddings")
        if fn is None:
            self._embedded(job, texts, [hash_embedding(t, self.config.embedding_dim) for t in texts])
            return

        def done(ok: bool, value: Any) -> None:
            if ok:
                self._embedded(job, texts, value)
            else:
                self._responder_failed(job, value)

        job.conn.call_in_thread(fn, (texts,), done, self._locks["embeddings"])

    def _embedded(self, job: _Job, texts: list[str], vectors: Sequence[Sequence[float]]) -> None:
        data = [
            {"object": "embedding", "index": i, "embedding": [float(x) for x in v]}
            for i, v in enumerate(vectors)
        ]
        payload: dict[str, Any] = {
            "object": "list",
            "data": data,
            "model": job.body.get("model") or self.config.model,
        }
        if self.config.usage:
            tokens = sum(word_count(t) for t in texts)
            payload["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
        self.routes["embeddings"]["inputs"] += len(texts)
        response = json_response(200, payload, job.request.keep_alive)
        job.conn.later(job.ready + self.config.ttft, self._write_whole, job, response)

    def _rerank(self, job: _Job) -> None:
        query, docs = job.body.get("query"), job.body.get("documents")
        if (
            not isinstance(query, str)
            or not isinstance(docs, list)
            or not all(isinstance(d, str) for d in docs)
        ):
            message = "query must be a string and documents a list of strings"
            self._error(job.conn, job.request, 400, message, "invalid_request_error")
            return

        def done(ok: bool, value: Any) -> None:
            if not ok:
                self._responder_failed(job, value)
                return
            scores = [float(x) for x in value]  # fewer scores than documents: a malformed reply, on purpose
            self.routes["rerank"]["inputs"] += len(scores)
            results = sorted(
                ({"index": i, "relevance_score": s} for i, s in enumerate(scores)),
                key=lambda r: -float(r["relevance_score"]),  # services answer best first, like top_n
            )
            payload = {
                "id": f"rerank-{job.route_no}",
                "model": job.body.get("model") or self.config.model,
                "results": results,
            }
            response = json_response(200, payload, job.request.keep_alive)
            job.conn.later(job.ready + self.config.ttft, self._write_whole, job, response)

        job.conn.call_in_thread(self.responders["rerank"], (query, docs), done, self._locks["rerank"])


def _messages(route: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """A chat's messages; a `/responses` request's `instructions` and `input` as chat messages."""
    if route == "responses":
        return input_messages(body)
    return [m for m in body.get("messages") or [] if isinstance(m, dict)]


def _prompts(route: str, body: dict[str, Any]) -> list[str]:
    """What a request asks: the last user message of a chat (or a response's input); a completion's prompt(s)."""
    if route in ("chat", "responses"):
        return [last_user_text(_messages(route, body))]
    raw = body.get("prompt", "")
    return [p if isinstance(p, str) else str(p) for p in (raw if isinstance(raw, list) else [raw])]


def _request_key(route: str, body: dict[str, Any]) -> str:
    if route == "embeddings":
        raw = body.get("input", "")
        return "\n".join(map(str, raw)) if isinstance(raw, list) else str(raw)
    if route == "rerank":
        return str(body.get("query", ""))
    return "\n".join(_prompts(route, body))


def _timing_key(job: _Job) -> str:
    return job.request.headers.get("x-request-id") or job.key or str(job.arrival)
