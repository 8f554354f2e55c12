"""The rag plugin's hooks: one backend, `rag` (EvalScope's `RAGEval`). Only cheap specs here."""

from __future__ import annotations

from evalscope.hookspecs import hookimpl
from evalscope.specs import BackendCapabilities, BackendSpec


@hookimpl
def evalscope_register_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            name="rag",
            impl="evalscope_rag.backend:RAGBackend",
            aliases=("RAGEval",),
            eval_config="evalscope_rag.config:ToolConfig",
            # --limit N caps MTEB's and CLIP's test split and RAGAS's samples; a fraction is refused.
            capabilities=BackendCapabilities(resume=True),
            description="Embedding, reranker and RAG evaluation: MTEB/CMTEB (mteb), RAGAS (ragas), "
            "CLIP image-text retrieval.",
            tags=("mteb", "ragas", "clip_benchmark"),
        )
    ]
