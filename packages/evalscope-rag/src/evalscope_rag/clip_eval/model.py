"""A CLIP-like checkpoint (transformers: CLIP, Chinese-CLIP, SigLIP, …) that embeds images and texts."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from evalscope.errors import DatasetNotFoundError

log = logging.getLogger("evalscope.rag.clip")


def _features(out: Any) -> Any:
    """transformers < 5 returns the projected tensor; 5.x a model output whose pooler_output holds it."""
    import torch

    if isinstance(out, torch.Tensor):
        return out
    for name in ("image_embeds", "text_embeds", "pooler_output"):
        value = getattr(out, name, None)
        if isinstance(value, torch.Tensor):
            return value
    raise TypeError(f"cannot find the embedding in {type(out).__name__}")


class ClipEncoder:
    def __init__(
        self,
        model_name: str,
        *,
        device: str | None = None,
        revision: str | None = None,
        offline: bool = False,
    ):
        import torch
        from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

        local = Path(model_name).expanduser()
        source = str(local.resolve()) if local.is_dir() else model_name
        if not local.is_dir() and offline:
            raise DatasetNotFoundError(
                f"CLIP model {model_name!r} is not a local folder, and the run is offline.",
                hint="give the checkpoint folder (config.json, weights, tokenizer and preprocessor files)",
            )
        kwargs: dict[str, Any] = {"revision": revision, "local_files_only": offline}
        try:
            self.model = AutoModel.from_pretrained(source, **kwargs)
            self.tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
            self.image_processor = AutoImageProcessor.from_pretrained(source, **kwargs)
        except OSError as exc:
            raise DatasetNotFoundError(f"Cannot load the CLIP model {source!r}: {exc}") from None
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        self.name = source

    def encode_images(self, images: list[Any]) -> Any:
        import torch
        import torch.nn.functional as F

        inputs = self.image_processor(images=images, return_tensors="pt")
        with torch.no_grad():
            out = self.model.get_image_features(pixel_values=inputs["pixel_values"].to(self.device))
        return F.normalize(_features(out).float(), dim=-1).cpu()

    def encode_texts(self, texts: list[str]) -> Any:
        import torch
        import torch.nn.functional as F

        max_len = getattr(self.tokenizer, "model_max_length", 77) or 77
        max_len = 77 if max_len > 100_000 else max_len
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
        enc = {
            k: v.to(self.device)
            for k, v in enc.items()
            if k in ("input_ids", "attention_mask", "token_type_ids")
        }
        with torch.no_grad():
            out = self.model.get_text_features(**enc)
        return F.normalize(_features(out).float(), dim=-1).cpu()
