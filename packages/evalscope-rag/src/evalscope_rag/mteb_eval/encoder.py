"""Our embedders as an `mteb` encoder (mteb 2.x `EncoderProtocol`), so mteb's own tasks score them.

The scores must equal what `mteb` reports for the same model, so this mirrors mteb's
`SentenceTransformerEncoderWrapper` where it matters: the texts of a batch are `batch["text"]`,
queries go through `encode_query` and documents through `encode_document`, a checkpoint's built-in
prompts are picked with mteb's own `get_prompt_name`, and similarity is the checkpoint's declared
function from sentence-transformers. What it adds: the content-hash cache and EvalScope's
`prompt` / `prompts` options (applied to queries only, as EvalScope 1.14.1 does).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from evalscope_rag.embedding.cached import CachedEmbedder

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("evalscope.rag.mteb")


class MTEBEncoder:
    def __init__(
        self,
        embedder: CachedEmbedder,
        *,
        name: str,
        revision: str | None = None,
        prompt: str | None = None,
        prompts: dict[str, str] | None = None,
    ) -> None:
        self.embedder = embedder
        self.name = name
        self.revision = revision
        self.prompt = prompt
        self.prompts = prompts
        self._meta: Any = None
        self._builtin: dict[str, str] | None | bool = False  # False: not resolved yet

    # -- mteb protocol -----------------------------------------------------------------------------

    @property
    def mteb_model_meta(self) -> Any:
        if self._meta is None:
            from mteb.models.model_meta import ModelMeta, ScoringFunction

            self._meta = ModelMeta.create_empty(
                overwrites={
                    "name": self.name if "/" in self.name else f"evalscope/{self.name}",
                    "revision": self.revision or "local",
                    "similarity_fn_name": ScoringFunction(self.embedder.embedder.similarity_fn_name),
                    "framework": ["Sentence Transformers"],
                }
            )
        return self._meta

    def encode(
        self,
        inputs: Any,
        *,
        task_metadata: Any,
        hf_split: str,
        hf_subset: str,
        prompt_type: Any = None,
        **kwargs: Any,
    ) -> np.ndarray:
        features = getattr(getattr(inputs, "dataset", None), "features", None) or {}
        if any(k in features for k in ("image", "audio", "video")):
            raise TypeError(
                f"Task {task_metadata.name} has non-text inputs; the rag backend's MTEB encoders read text only."
            )
        texts = [text for batch in inputs for text in batch["text"]]
        kind = getattr(prompt_type, "value", prompt_type)
        mode = kind if kind in ("query", "document") else "plain"
        prompt = self._prompt_for(task_metadata, prompt_type, mode)
        batch_size = kwargs.get("batch_size")
        return self.embedder.embed(
            texts,
            mode=mode,
            prompt=prompt,
            encode_kwargs=kwargs,
            batch_size=int(batch_size) if isinstance(batch_size, int) else None,
        )

    def similarity(self, embeddings1: Any, embeddings2: Any) -> Any:
        from sentence_transformers import SimilarityFunction

        fn = SimilarityFunction.to_similarity_fn(self.embedder.embedder.similarity_fn_name)
        return fn(_as_tensor(embeddings1), _as_tensor(embeddings2))

    def similarity_pairwise(self, embeddings1: Any, embeddings2: Any) -> Any:
        from sentence_transformers import SimilarityFunction

        fn = SimilarityFunction.to_similarity_pairwise_fn(self.embedder.embedder.similarity_fn_name)
        return fn(_as_tensor(embeddings1), _as_tensor(embeddings2))

    # -- prompts -----------------------------------------------------------------------------------

    def _prompt_for(self, task_metadata: Any, prompt_type: Any, mode: str) -> str | None:
        if self.prompt is not None or self.prompts:
            # EvalScope 1.14.1: the configured prompt is prepended to queries and nothing else.
            if mode != "query":
                return None
            return (self.prompts or {}).get(task_metadata.name) or self.prompt
        builtin = self._builtin_prompts()
        if not builtin:
            return None
        from mteb.models.abs_encoder import get_prompt_name

        name = get_prompt_name(builtin, task_metadata, prompt_type)
        return builtin.get(name) if name else None

    def _builtin_prompts(self) -> dict[str, str] | None:
        if self._builtin is False:
            prompts = self.embedder.embedder.builtin_prompts
            if prompts:
                from mteb.models.abs_encoder import AbsEncoder

                resolved, invalid = AbsEncoder.validate_task_to_prompt_name(
                    prompts, raise_for_invalid_keys=False
                )
                if invalid:
                    log.warning("ignoring the checkpoint's prompts mteb cannot place: %s", invalid)
                prompts = resolved
            self._builtin = prompts or None
        return self._builtin if isinstance(self._builtin, dict) else None


def _as_tensor(x: Any) -> Any:
    import torch

    if isinstance(x, torch.Tensor):
        return x.float()
    return torch.as_tensor(x, dtype=torch.float32)
