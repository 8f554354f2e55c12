"""Build the encoders and rerankers an MTEB config names (local checkpoints or embedding services)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from evalscope.config import TaskConfig
from evalscope.errors import ConfigError

from evalscope_rag.config import MTEBModelConfig
from evalscope_rag.embedding.api import OpenAIEmbeddingClient
from evalscope_rag.embedding.cached import CachedEmbedder, TextEmbedder
from evalscope_rag.embedding.local import LocalSentenceTransformer, resolve_local_model
from evalscope_rag.mteb_eval.api_reranker import APIReranker
from evalscope_rag.mteb_eval.encoder import MTEBEncoder

_GENERIC_DIRS = frozenset({"model", "models", "checkpoint", "checkpoints", "weights", "snapshot", "final"})


def display_name(m: MTEBModelConfig) -> str:
    """The name reports show: the served model name, else the checkpoint folder's meaningful name."""
    if m.is_api:
        return (m.model_name or m.model_name_or_path or "model").rstrip("/").rsplit("/", 1)[-1]
    parts = [p for p in m.model_name_or_path.replace("\\", "/").rstrip("/").split("/") if p]
    if not parts:
        return "model"
    if parts[-1].lower() in _GENERIC_DIRS and len(parts) > 1:
        return parts[-2]
    return parts[-1]


def check_model(m: MTEBModelConfig, offline: bool) -> None:
    """Input errors surface in `prepare`, before the run folder exists."""
    if m.is_api:
        if not (m.model_name or m.model_name_or_path):
            kind = "A rerank service" if m.is_cross_encoder else "An embedding service"
            raise ConfigError(f"{kind} needs model_name (the served model's name).")
        return
    if not m.model_name_or_path:
        raise ConfigError(
            "Each model needs model_name_or_path (a local folder or hub id), or model_name + api_base "
            "for an OpenAI-compatible embedding service.",
            hint="or pass --model <path> (with --api-url for a service)",
        )
    # A hub id: its folder in the Hugging Face or ModelScope cache, or an error naming where it looked.
    location = resolve_local_model(m.model_name_or_path, revision=m.revision, offline=offline, hub=m.hub)
    if location != m.model_name_or_path:
        m.set_location(location)


def make_text_embedder(m: MTEBModelConfig, config: TaskConfig, offline: bool) -> TextEmbedder:
    if m.is_api:
        assert m.api_base is not None
        return OpenAIEmbeddingClient(
            m.model_name or m.model_name_or_path,
            m.api_base,
            api_key=m.api_key.get_secret_value() if m.api_key is not None else None,
            dimensions=m.dimensions,
            timeout=config.timeout,
            retry=config.retry,
            concurrency=config.eval_batch_size,
            max_chars=m.max_seq_length * 3 if m.max_seq_length else None,
        )
    return LocalSentenceTransformer(
        m.location,
        pooling_mode=m.pooling_mode,
        max_seq_length=m.max_seq_length,
        model_kwargs=m.model_kwargs,
        config_kwargs=m.config_kwargs,
        revision=m.revision,
        device=m.device,
        offline=offline,
    )


def build_encoder(
    m: MTEBModelConfig, config: TaskConfig, cache_root: Path | None, offline: bool
) -> MTEBEncoder:
    cached = CachedEmbedder(
        make_text_embedder(m, config, offline),
        cache_root=cache_root,
        batch_size=m.batch_size(),
        show_progress=sys.stderr.isatty(),
        encode_kwargs=m.encode_kwargs,
    )
    return MTEBEncoder(cached, name=display_name(m), revision=m.revision, prompt=m.prompt, prompts=m.prompts)


def build_reranker(m: MTEBModelConfig, config: TaskConfig, cache_root: Path | None, offline: bool) -> Any:
    """A rerank API client, or a local cross-encoder in mteb's own wrapper (scores (query, document) pairs)."""
    if m.is_api:
        assert m.api_base is not None
        return APIReranker(
            m.model_name or m.model_name_or_path,
            m.api_base,
            display_name=display_name(m),
            api_key=m.api_key.get_secret_value() if m.api_key is not None else None,
            prompt=m.prompt,
            batch_size=m.batch_size(),
            concurrency=config.eval_batch_size,
            timeout=config.timeout,
            retry=config.retry,
            max_chars=m.max_seq_length * 3 if m.max_seq_length else None,
            cache_root=cache_root,
        )
    from mteb.models.sentence_transformer_wrapper import CrossEncoderWrapper
    from sentence_transformers import CrossEncoder

    path = m.location
    local = Path(path).expanduser()
    kwargs: dict[str, Any] = {"device": m.device, "local_files_only": offline}
    if m.max_seq_length is not None:
        kwargs["max_length"] = m.max_seq_length
    if m.model_kwargs:
        kwargs["model_kwargs"] = m.model_kwargs
    if m.config_kwargs:
        kwargs["config_kwargs"] = m.config_kwargs
    model = CrossEncoder(str(local.resolve()) if local.is_dir() else path, revision=m.revision, **kwargs)
    wrapper = CrossEncoderWrapper(model, query_prefix=m.prompt or "")
    name = display_name(m)
    wrapper.mteb_model_meta = wrapper.mteb_model_meta.model_copy(
        update={"name": name if "/" in name else f"evalscope/{name}", "revision": m.revision or "local"}
    )
    return wrapper
