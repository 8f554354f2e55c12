"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and demos: embeddings and a judge.

`POST /v1/embeddings` answers with a Python function (e.g. a sentence-transformers model, so a test
can check that a model behind HTTP scores what the same model scores locally), and
`POST /v1/chat/completions` with a *responder* `(messages, body) -> reply text` — a scripted judge
that can read the prompt it is sent (RAGAS prompts carry their input as JSON) and answer
accordingly, or answer garbage on purpose — and `POST /v1/rerank` (vLLM/Jina/Cohere shape) with a
function `(query, documents) -> scores` (e.g. a cross-encoder). `GET /v1/models`, `GET /stats`
report what happened.

`fail_first=N` answers the first N requests of each route with HTTP 500, so retries are exercised.
Stdlib only (`ThreadingHTTPServer`); each request is served on its own thread, and embedding calls
are serialised with a lock because one model instance serves them.

    python -m evalscope_rag.testing.openai_stub --embed-model <sentence-transformers folder> --port 8802
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

EmbedFn = Callable[[list[str]], Sequence[Sequence[float]]]
Responder = Callable[[list[dict[str, Any]], dict[str, Any]], str]
RerankFn = Callable[[str, list[str]], Sequence[float]]

__all__ = ["OpenAIStub", "StubHTTPError", "main"]


class StubHTTPError(Exception):
    """Raise from a responder to answer with this HTTP status instead of a completion."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class OpenAIStub:
    def __init__(
        self,
        *,
        embed: EmbedFn | None = None,
        chat: Responder | None = None,
        rerank: RerankFn | None = None,
        model: str = "stub",
        fail_first: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.embed = embed
        self.chat = chat
        self.rerank = rerank
        self.model = model
        self.fail_first = fail_first
        self.requests: dict[str, int] = {"embeddings": 0, "chat": 0, "rerank": 0}
        self.failed: dict[str, int] = {"embeddings": 0, "chat": 0, "rerank": 0}
        self.reranked_pairs = 0
        self.embedded_texts = 0
        self.chat_log: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._embed_lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> OpenAIStub:
        self._thread = threading.Thread(target=self._server.serve_forever, name="openai-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling --------------------------------------------------------------------------

    def _count(self, route: str) -> bool:
        """Count a request; True when it must fail (the first `fail_first` of its route)."""
        with self._lock:
            self.requests[route] += 1
            if self.requests[route] <= self.fail_first:
                self.failed[route] += 1
                return True
        return False

    def _embeddings(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.embed is None:
            return 404, _error("this stub serves no embeddings")
        if self._count("embeddings"):
            return 500, _error("injected failure")
        raw = body.get("input")
        texts = [raw] if isinstance(raw, str) else raw
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return 400, _error("input must be a string or a list of strings")
        with self._embed_lock:
            vectors = self.embed(texts)
            self.embedded_texts += len(texts)
        data = [
            {"object": "embedding", "index": i, "embedding": list(map(float, v))}
            for i, v in enumerate(vectors)
        ]
        tokens = sum(len(t.split()) for t in texts)
        return 200, {
            "object": "list",
            "data": data,
            "model": body.get("model", self.model),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def _rerank(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Scores in the order the function gives them; fewer scores than documents is a malformed reply."""
        if self.rerank is None:
            return 404, _error("this stub serves no reranker")
        if self._count("rerank"):
            return 500, _error("injected failure")
        query, docs = body.get("query"), body.get("documents")
        if (
            not isinstance(query, str)
            or not isinstance(docs, list)
            or not all(isinstance(d, str) for d in docs)
        ):
            return 400, _error("query must be a string and documents a list of strings")
        try:
            scores = [float(x) for x in self.rerank(query, docs)]
        except StubHTTPError as exc:
            return exc.status, _error(str(exc))
        with self._lock:
            self.reranked_pairs += len(scores)
        results = sorted(
            ({"index": i, "relevance_score": s} for i, s in enumerate(scores)),
            key=lambda r: -float(r["relevance_score"]),  # services answer best first, like top_n
        )
        return 200, {
            "id": f"rerank-{self.requests['rerank']}",
            "model": body.get("model", self.model),
            "results": results,
        }

    def _chat(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.chat is None:
            return 404, _error("this stub serves no chat completions")
        if self._count("chat"):
            return 500, _error("injected failure")
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        try:
            reply = self.chat(messages, body)
        except StubHTTPError as exc:
            return exc.status, _error(str(exc))
        with self._lock:
            self.chat_log.append({"messages": messages, "reply": reply})
        return 200, {
            "id": f"chatcmpl-{len(self.chat_log)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": len(reply.split()), "total_tokens": 0},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path = self.path.split("?")[0].rstrip("/")
                if path in ("/v1/models", "/models"):
                    self._send(200, {"object": "list", "data": [{"id": stub.model, "object": "model"}]})
                elif path == "/stats":
                    self._send(
                        200,
                        {
                            "requests": stub.requests,
                            "failed": stub.failed,
                            "embedded": stub.embedded_texts,
                            "reranked": stub.reranked_pairs,
                        },
                    )
                else:
                    self._send(404, _error(f"unknown route {path}"))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                    if not isinstance(body, dict):
                        raise ValueError("body must be a JSON object")
                except ValueError as exc:
                    self._send(400, _error(f"invalid JSON body: {exc}"))
                    return
                path = self.path.split("?")[0].rstrip("/")
                if path.startswith("/v1"):
                    path = path[3:]
                if path == "/embeddings":
                    self._send(*stub._embeddings(body))
                elif path == "/chat/completions":
                    self._send(*stub._chat(body))
                elif path in ("/rerank", "/reranks"):
                    self._send(*stub._rerank(body))
                else:
                    self._send(404, _error(f"unknown route {path}"))

        return Handler


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error"}}


def sentence_transformer_embedder(path: str, device: str | None = None) -> EmbedFn:
    """An `embed` function serving a local sentence-transformers checkpoint."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(path, device=device, local_files_only=True)

    def embed(texts: list[str]) -> Sequence[Sequence[float]]:
        return model.encode(texts, batch_size=32, convert_to_numpy=True).tolist()

    return embed


def cross_encoder_reranker(path: str, device: str | None = None) -> RerankFn:
    """A `rerank` function serving a local sentence-transformers cross-encoder."""
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(path, device=device, local_files_only=True)

    def rerank(query: str, documents: list[str]) -> Sequence[float]:
        return [float(x) for x in model.predict([(query, d) for d in documents], batch_size=32)]

    return rerank


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Serve a sentence-transformers model as /v1/embeddings (and a cross-encoder as /v1/rerank)."
    )
    parser.add_argument("--embed-model", help="sentence-transformers checkpoint folder")
    parser.add_argument("--rerank-model", help="sentence-transformers cross-encoder folder")
    parser.add_argument("--model-name", default="embedder", help="the served model name")
    parser.add_argument("--port", type=int, default=8802)
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    if not (args.embed_model or args.rerank_model):
        parser.error("give --embed-model, --rerank-model or both")
    stub = OpenAIStub(
        embed=sentence_transformer_embedder(args.embed_model, args.device) if args.embed_model else None,
        rerank=cross_encoder_reranker(args.rerank_model, args.device) if args.rerank_model else None,
        model=args.model_name,
        port=args.port,
    )
    served = " and ".join(x for x in (args.embed_model, args.rerank_model) if x)
    print(f"serving {served} as {args.model_name!r} at {stub.url}", flush=True)
    try:
        stub._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stub._server.server_close()


if __name__ == "__main__":
    main()
