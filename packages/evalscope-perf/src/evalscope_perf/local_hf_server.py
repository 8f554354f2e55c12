"""A small OpenAI-compatible server around a transformers checkpoint: what `--api local` benchmarks.

    python -m evalscope_perf.local_hf_server --model /path/to/checkpoint --port 8877

Routes (each also without `/v1`): `GET /v1/models`, `GET /health`, `POST /v1/chat/completions` and
`POST /v1/completions`, streamed (`"stream": true`, SSE, `stream_options.include_usage`) or not.

* Every token is written the moment `generate` produces it (a streamer that gets each new token id,
  not transformers' word-buffering `TextIteratorStreamer`), so TTFT and ITL are the model's. Text is
  decoded incrementally (a token that ends inside a UTF-8 character waits for the next one); `usage`
  counts the token ids generated.
* One request generates at a time, in arrival order: concurrent requests queue, and their TTFT
  includes the wait. This is a plain `model.generate` server, not a batching engine; `--api
  local_vllm` is the one for throughput.
* Sampling follows the request: `temperature` 0 (or absent) is greedy; `top_p`, `top_k`, `seed`,
  `max_tokens`, `min_tokens` and `stop` (the text is cut before it) apply. Generation stops early
  when the client goes away.

stdlib `http.server` (a thread per connection, HTTP/1.1 keep-alive, chunked streams); torch and
transformers are imported when the model loads, never by `evalscope perf --help`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["CheckpointModel", "Generation", "main"]

_DONE = object()  # the end of one generation on its token queue


class _TokenQueue:
    """What `generate(streamer=...)` calls: `put` with the prompt first, then each new token id."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue()
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        for token in value.reshape(-1).tolist():
            self.queue.put(int(token))

    def end(self) -> None:
        self.queue.put(_DONE)


class _Detokenizer:
    """New text per token: decode a short window of ids and take what it adds to the text before it."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self._prefix = self._read = 0

    def add(self, token: int) -> str:
        self.ids.append(token)
        decode = self.tokenizer.decode
        before = decode(self.ids[self._prefix : self._read], skip_special_tokens=True)
        after = decode(self.ids[self._prefix :], skip_special_tokens=True)
        if len(after) > len(before) and not after.endswith("\ufffd"):  # not inside a UTF-8 character
            self._prefix, self._read = self._read, len(self.ids)
            return after[len(before) :]
        return ""


class CheckpointModel:
    """A causal LM and its tokenizer, loaded once; `stream` yields text pieces as tokens come out."""

    def __init__(self, folder: str, *, attn_implementation: str | None = None) -> None:
        import torch
        import transformers

        self.torch = torch
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
        kwargs: dict[str, Any] = {_dtype_kwarg(transformers.__version__): "auto"}
        if attn_implementation:
            kwargs["attn_implementation"] = attn_implementation
        model: Any = transformers.AutoModelForCausalLM.from_pretrained(folder, **kwargs)
        self.model = model.to(self.device).eval()
        self.stopping, self.criteria = transformers.StoppingCriteria, transformers.StoppingCriteriaList
        self.lock = threading.Lock()  # one generation at a time (see the module docstring)

    def chat_ids(self, messages: list[dict[str, Any]]) -> list[int]:
        """The prompt's token ids: the chat template when the tokenizer has one, else `role: content` lines."""
        tok = self.tokenizer
        flat = [{"role": str(m.get("role") or "user"), "content": _text(m.get("content"))} for m in messages]
        if getattr(tok, "chat_template", None):
            text = tok.apply_chat_template(flat, add_generation_prompt=True, tokenize=False)
            return list(tok(str(text), add_special_tokens=False)["input_ids"])
        return list(tok("".join(f"{m['role']}: {m['content']}\n" for m in flat))["input_ids"])

    def prompt_ids(self, prompt: Any) -> list[int]:
        """A completion's prompt: text (tokenized with the model's special tokens) or token ids as given."""
        if isinstance(prompt, list) and all(isinstance(x, int) for x in prompt):
            return list(prompt)
        if isinstance(prompt, list):
            prompt = "".join(map(str, prompt))
        return list(self.tokenizer(str(prompt))["input_ids"])

    def generate(self, ids: list[int], body: dict[str, Any]) -> Generation:
        """One request's generation; iterate it for the text pieces."""
        return Generation(self, ids, body)


class Generation:
    """Text pieces as the model writes them. `cancel` (the client went away, a stop string was
    written) ends it at the next step; after the last piece, `tokens` and `finish` hold the
    completion's token count and finish reason."""

    def __init__(self, model: CheckpointModel, ids: list[int], body: dict[str, Any]) -> None:
        self.model, self.ids, self.body = model, ids, body
        self.cancel = threading.Event()
        self.tokens, self.finish = 0, "length"

    def __iter__(self) -> Iterator[str]:
        model, body, ids, cancel = self.model, self.body, self.ids, self.cancel
        torch, tok = model.torch, model.tokenizer
        limit = int(body.get("max_tokens") or body.get("max_completion_tokens") or 2048)
        options: dict[str, Any] = {"max_new_tokens": limit}
        if body.get("min_tokens"):
            options["min_new_tokens"] = int(body["min_tokens"])
        temperature = float(body.get("temperature") or 0.0)
        options["do_sample"] = temperature > 0
        if temperature > 0:
            options["temperature"] = temperature
            for key in ("top_p", "top_k"):
                if body.get(key) is not None and body[key] != -1:
                    options[key] = body[key]
        stopping = model.stopping

        class _Cancelled(stopping):  # type: ignore[misc, valid-type]
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full(
                    (input_ids.shape[0],), cancel.is_set(), dtype=torch.bool, device=input_ids.device
                )

        streamer = _TokenQueue()
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        eos = _eos_ids(model.model, tok)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with model.lock, torch.no_grad():
                    if body.get("seed") is not None:
                        torch.manual_seed(int(body["seed"]))
                    inputs = torch.tensor([ids], device=model.device)
                    model.model.generate(
                        input_ids=inputs,
                        attention_mask=torch.ones_like(inputs),
                        streamer=streamer,
                        stopping_criteria=model.criteria([_Cancelled()]),
                        pad_token_id=pad,
                        **options,
                    )
            except BaseException as exc:  # reported to the request, which answers 500
                failure.append(exc)
                streamer.end()

        threading.Thread(target=run, name="generate", daemon=True).start()
        stops = [s for s in _as_list(body.get("stop")) if s]
        detok, text, count, finish = _Detokenizer(tok), "", 0, "length"
        while (token := streamer.queue.get()) is not _DONE:
            if cancel.is_set():
                continue  # drain: generate stops at its next step
            count += 1
            if token in eos:
                finish = "stop"
                continue
            piece = detok.add(token)
            if stops and piece:
                cut = _stop_at(text + piece, stops)
                if cut is not None:
                    piece, finish = cut[len(text) :], "stop"
                    cancel.set()
            text += piece
            if piece:
                yield piece
        if failure:
            raise RuntimeError(f"generation failed: {type(failure[0]).__name__}: {failure[0]}")
        self.tokens, self.finish = count, finish


def _stop_at(text: str, stops: Sequence[str]) -> str | None:
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return text[:cut] if cut >= 0 else None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    for value in (getattr(model.generation_config, "eos_token_id", None), tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(int(v) for v in value)
    return ids


def _dtype_kwarg(version: str) -> str:
    """transformers 4.56 renamed from_pretrained's `torch_dtype` to `dtype`."""
    major, minor = (int(x) for x in version.split(".")[:2])
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _sse(payload: dict[str, Any]) -> bytes:
    return _chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # each token leaves as it is written
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # one line per request would flood the log under load

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": {"message": message, "type": "invalid_request_error", "code": status}})

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].removeprefix("/v1")
        if path == "/models":
            card = {
                "id": self.server.model_name,
                "object": "model",
                "created": 0,
                "owned_by": "evalscope-perf",
            }
            self._json(200, {"object": "list", "data": [card]})
        elif path == "/health":
            self._json(200, {"status": "ok"})
        else:
            self._error(404, f"Unknown route: GET {self.path}")

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].removeprefix("/v1")
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if path not in ("/chat/completions", "/completions"):
            self._error(404, f"Unknown route: POST {self.path}")
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            model = self.server.model
            chat = path == "/chat/completions"
            if chat:
                messages = body.get("messages")
                if not isinstance(messages, list) or not messages:
                    raise ValueError("'messages' must be a non-empty list")
                ids = model.chat_ids([m for m in messages if isinstance(m, dict)])
            else:
                ids = model.prompt_ids(body.get("prompt", ""))
        except ValueError as exc:
            self._error(400, str(exc))
            return
        ident = f"{'chatcmpl' if chat else 'cmpl'}-{next(self.server.ids):08x}"
        base = {"id": ident, "object": "chat.completion" if chat else "text_completion",
                "created": int(time.time()), "model": str(body.get("model") or self.server.model_name)}  # fmt: skip
        gen = model.generate(ids, body)
        try:
            if body.get("stream"):
                self._stream(gen, base, chat)
            else:
                text = "".join(gen)
                choice: dict[str, Any] = {"index": 0, "finish_reason": gen.finish, "logprobs": None}
                choice.update({"message": {"role": "assistant", "content": text}} if chat else {"text": text})
                self._json(200, {**base, "choices": [choice], "usage": _usage(len(ids), gen.tokens)})
        except (BrokenPipeError, ConnectionResetError):
            gen.cancel.set()  # the client went away: generate stops at its next step
            self.close_connection = True
        except RuntimeError as exc:
            gen.cancel.set()
            if self._headers_sent:
                self.close_connection = True  # mid-stream: end the connection, the client sees it cut
            else:
                self._json(500, {"error": {"message": str(exc), "type": "server_error", "code": 500}})

    _headers_sent = False

    def _stream(self, gen: Generation, base: dict[str, Any], chat: bool) -> None:
        base = {**base, "object": "chat.completion.chunk" if chat else "text_completion"}

        def event(piece: str | None, finish: str | None = None) -> bytes:
            if chat:
                delta = {} if piece is None else {"content": piece}
                choice: dict[str, Any] = {
                    "index": 0,
                    "delta": delta,
                    "finish_reason": finish,
                    "logprobs": None,
                }
            else:
                choice = {"index": 0, "text": piece or "", "finish_reason": finish, "logprobs": None}
            return _sse({**base, "choices": [choice]})

        pieces = iter(gen)
        first = next(pieces, None)  # the head goes out once generation started (a 500 is still possible)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._headers_sent = True
        if chat:
            opening = {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                            "finish_reason": None, "logprobs": None}]}  # fmt: skip
            self.wfile.write(_sse(opening))
        for piece in itertools.chain([] if first is None else [first], pieces):
            self.wfile.write(event(piece))
        tail = event(None, gen.finish)
        options = gen.body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            tail += _sse({**base, "choices": [], "usage": _usage(len(gen.ids), gen.tokens)})
        self.wfile.write(tail + _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    model: CheckpointModel
    model_name: str
    ids: Iterator[int]


def main(argv: Sequence[str] | None = None) -> int:
    """Load the checkpoint, then listen (so a client that gets an answer gets the model), until killed."""
    parser = argparse.ArgumentParser(description="An OpenAI-compatible server for a transformers checkpoint.")
    parser.add_argument("--model", required=True, help="checkpoint folder")
    parser.add_argument("--served-model-name", help="the name /v1/models lists (default: --model)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8877)
    parser.add_argument("--attn-implementation", default=None)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model = CheckpointModel(args.model, attn_implementation=args.attn_implementation)
    server = _Server((args.host, args.port), _Handler)
    server.model, server.model_name, server.ids = (
        model,
        args.served_model_name or args.model,
        itertools.count(1),
    )
    print(
        f"evalscope-perf local server (pid {os.getpid()}): {args.model} on {model.device}, loaded in "
        f"{time.perf_counter() - started:.1f}s; listening on http://{args.host}:{server.server_port}",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
