"""The rag plugin's hooks: one backend, `rag` (EvalScope's `RAGEval`). Only cheap specs here."""

from __future__ import annotations

from evalscope.hookspecs import hookimpl
from evalscope.specs import BackendSpec


@hookimpl
def evalscope_register_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            name="rag",
            impl="evalscope_rag.backend:RAGBackend",
            aliases=("RAGEval",),
            description="Embedding, reranker and RAG evaluation: MTEB/CMTEB (mteb), RAGAS (ragas), "
            "CLIP image-text retrieval.",
            tags=("mteb", "ragas", "clip_benchmark"),
        )
    ]
