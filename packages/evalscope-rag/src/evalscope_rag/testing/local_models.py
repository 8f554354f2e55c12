"""Local sentence-transformers models as responders of the core's scripted server (`evalscope.testing`).

`sentence_transformer_embedder` serves a checkpoint as `/v1/embeddings` and `cross_encoder_reranker`
a cross-encoder as `/v1/rerank`, so a test can check that a model behind HTTP scores what the same
model scores locally; the command line serves them for a demo:

    python -m evalscope_rag.testing.local_models --embed-model <sentence-transformers folder> --port 8802
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence

from evalscope.testing import EmbedFn, InProcessServer, RerankFn

__all__ = ["cross_encoder_reranker", "main", "sentence_transformer_embedder"]


def sentence_transformer_embedder(path: str, device: str | None = None) -> EmbedFn:
    """An `embed` function serving a local sentence-transformers checkpoint."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(path, device=device, local_files_only=True)

    def embed(texts: list[str]) -> Sequence[Sequence[float]]:
        vectors: list[list[float]] = model.encode(texts, batch_size=32, convert_to_numpy=True).tolist()
        return vectors

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
    server = InProcessServer(
        {"model": args.model_name},
        embed=sentence_transformer_embedder(args.embed_model, args.device) if args.embed_model else None,
        rerank=cross_encoder_reranker(args.rerank_model, args.device) if args.rerank_model else None,
        port=args.port,
    )
    with server:
        served = " and ".join(x for x in (args.embed_model, args.rerank_model) if x)
        print(f"serving {served} as {args.model_name!r} at {server.base_url}", flush=True)
        try:
            threading.Event().wait()  # until Ctrl-C
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
