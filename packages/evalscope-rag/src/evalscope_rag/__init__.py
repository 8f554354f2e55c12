"""EvalScope RAG plugin: the `rag` backend (EvalScope's `RAGEval`) for embeddings, rerankers and RAG.

Tools, chosen by `eval_config.tool`: `MTEB` (mteb tasks by name, one or two stages), `RAGAS`
(ragas metrics with a judge behind an OpenAI-compatible API) and `clip_benchmark` (image-text
retrieval recall@k). Nothing heavy is imported here; see docs/backends/rag.md.
"""
