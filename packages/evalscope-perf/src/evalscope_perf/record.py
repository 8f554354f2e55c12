"""One request's measured timings (`RequestRecord`) and how a raw `Exchange` becomes one.

Definitions follow vLLM's serving benchmark (`vllm bench serve`):

* TTFT — request sent → arrival of the first SSE event that carries generated output;
* ITL — the gaps between consecutive output-carrying events (one per event, as vLLM does: an
  event holding several tokens is one gap);
* E2E latency — request sent → the last byte of the response;
* TPOT — (E2E − TTFT) / (output tokens − 1), for replies of more than one token.

Events that carry no output (the role-only first chunk, the finish chunk, the usage chunk) are
neither the first token nor an ITL point.

Every error text is passed through `evalscope.secrets.redact_message` here, where it is made and
before it is cut to length: a server that quotes the credential it received (`401: invalid key
Bearer sk-...`) must not put it into the rows, the summary, the live view or the terminal, and a
cut made first could leave a prefix of the key that no rule recognises any more.
"""

from __future__ import annotations

import json
from array import array
from dataclasses import dataclass, field
from typing import Any

from evalscope.http.exchange import Exchange
from evalscope.secrets import redact_message

from evalscope_perf.apis.base import ApiFormat, StreamError

__all__ = ["RequestRecord", "finalize"]


@dataclass(slots=True)
class RequestRecord:
    index: int
    request_id: str
    start: float  # time.perf_counter() when the request was sent (CLOCK_MONOTONIC on Linux)
    end: float
    success: bool
    warmup: bool = False
    status: int = 0
    error: str | None = None
    stream: bool = False
    ttft: float | None = None  # seconds; None when not streamed or failed
    itl: array[float] = field(default_factory=lambda: array("d"))  # seconds; 8 bytes a gap, not 32
    n_chunks: int = 0  # output-carrying events
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    token_source: str = ""  # "usage" | "tokenizer" | "chunks" (set when counts are final)
    text: str = ""
    prompt_index: int = 0
    prefix_tokens: int = 0  # multi-turn: tokens of this conversation sent or generated before this turn
    cached_tokens: int | None = None  # usage.prompt_tokens_details.cached_tokens, when the server says

    @property
    def latency(self) -> float:
        return self.end - self.start

    @property
    def tpot(self) -> float | None:
        n = self.completion_tokens
        if not self.success or self.ttft is None or n is None or n <= 1:
            return None
        return (self.latency - self.ttft) / (n - 1)


def _payloads(events: list[tuple[float, bytes]]) -> tuple[list[float], list[bytes], bool]:
    """The `data:` payload of each event, its arrival time, and whether `[DONE]` was seen."""
    times: list[float] = []
    payloads: list[bytes] = []
    done = False
    for t, event in events:
        if event[:6] == b"data: " and b"\n" not in event:  # the common single-line event
            data = event[6:]
        else:
            lines = [ln[5:].lstrip(b" ") for ln in event.split(b"\n") if ln.startswith(b"data:")]
            if not lines:
                continue  # comments (": ping"), `event:`/`id:` only
            data = b"\n".join(lines).strip()
            if not data:
                continue
        if data[:6] == b"[DONE]":
            done = True
            continue
        times.append(t)
        payloads.append(data)
    return times, payloads, done


def _json_loads() -> Any:
    """orjson when installed (~1.7x faster on chunk-sized documents), else the standard library."""
    global _LOADS
    if _LOADS is None:
        try:
            import orjson

            _LOADS = orjson.loads
        except ImportError:
            _LOADS = json.loads
    return _LOADS


_LOADS: Any = None


def _parse_all(payloads: list[bytes]) -> list[Any]:
    """Decode every event with ONE loads call: the per-call overhead dominates for small chunks."""
    try:
        objs: list[Any] = _json_loads()(b"[" + b",".join(payloads) + b"]")
        if len(objs) == len(payloads):
            return objs
    except ValueError:
        pass
    out = []
    for i, p in enumerate(payloads):  # find the culprit for the error message
        try:
            out.append(json.loads(p))
        except ValueError as exc:
            raise StreamError(f"SSE event {i + 1} is not JSON ({exc}): {_excerpt(p)}") from None
    return out


def finalize(ex: Exchange, api: ApiFormat, index: int, prompt_index: int, warmup: bool) -> RequestRecord:
    """Turn what the transport saw into a record; every failure ends up in `error`, never raised."""
    rec = RequestRecord(index, ex.request_id, ex.t_start, ex.t_end or ex.t_start, False, warmup, ex.status)
    rec.prompt_index = prompt_index
    if ex.error is not None:
        error = ex.error if not ex.status or ex.status == 200 else f"HTTP {ex.status}: {ex.error}"
        rec.error = redact_message(error)
        return rec
    if ex.status != 200:
        rec.error = f"HTTP {ex.status}: {_error_message(ex.body)}"
        return rec
    usage: dict[str, Any] | None = None
    try:
        if "event-stream" in ex.content_type:
            rec.stream = True
            times, payloads, done = _payloads(ex.events)
            pieces: list[str] = []
            texts, usage = api.read_stream(_parse_all(payloads))
            last = 0.0
            itl = rec.itl
            for t, text in zip(times, texts, strict=True):
                if text is None:
                    continue
                pieces.append(text)
                if last:
                    itl.append(t - last)
                else:
                    rec.ttft = t - ex.t_start
                last = t
            rec.n_chunks = len(pieces)
            rec.text = "".join(pieces)
            if api.generates and rec.ttft is None:
                raise StreamError(
                    "the stream ended without any generated output" + ("" if done else " or [DONE]")
                )
        else:
            obj = json.loads(ex.body) if ex.body else {}
            if not isinstance(obj, dict):
                raise StreamError(f"response body is not a JSON object: {_excerpt(ex.body)}")
            rec.text, usage = api.response(obj)
    except (StreamError, ValueError) as exc:
        rec.error = redact_message(str(exc))
        return rec
    rec.success = True
    if usage:
        p, c = usage.get("prompt_tokens"), usage.get("completion_tokens")
        rec.prompt_tokens = p if isinstance(p, int) else None
        rec.completion_tokens = c if isinstance(c, int) else None
        details = usage.get("prompt_tokens_details")
        if isinstance(details, dict) and isinstance(details.get("cached_tokens"), int):
            rec.cached_tokens = details["cached_tokens"]
        if not api.generates and rec.completion_tokens is None:
            rec.completion_tokens = 0
        if rec.completion_tokens is not None:
            rec.token_source = "usage"
    return rec


def _error_message(body: bytes) -> str:
    """The server's own message from an error body, credentials masked, at most 300 characters."""
    text = body.decode("utf-8", "replace").strip()
    try:
        obj = json.loads(text)
    except ValueError:
        return redact_message(text)[:300] or "(empty body)"
    if isinstance(obj, dict):
        err = obj.get("error", obj.get("detail", obj.get("message")))
        if isinstance(err, dict):
            err = err.get("message", err)
        if err is not None:
            return redact_message(str(err))[:300]
    return redact_message(text)[:300]


def _excerpt(data: bytes) -> str:
    """The start of a payload for an error message: masked first, then cut."""
    return repr(redact_message(data.decode("utf-8", "replace"))[:120])
