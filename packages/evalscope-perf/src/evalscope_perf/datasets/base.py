"""What a dataset loader receives, and the helpers the built-in loaders share.

A loader is `(ctx: DatasetContext) -> list[Prompt]`; it returns at least one prompt (the run cycles
through them when it needs more requests than there are prompts) and raises `DataFormatError`
naming file and line for malformed input.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalscope.errors import ConfigError, DatasetNotFoundError

from evalscope_perf.apis.base import Prompt, prompt_text

__all__ = ["DatasetContext", "download_hub_file", "filter_by_length", "require_path"]


@dataclass
class DatasetContext:
    dataset: str
    path: str | None
    count: int  # prompts the run will send (warm-up included); a loader may return fewer
    min_prompt_length: int = 0
    max_prompt_length: int = 131072
    prefix_length: int = 0
    tokenizer: Any = None
    seed: int | None = None
    data_source: str = "modelscope"  # where a missing --dataset-path is downloaded from
    image_width: int = 224  # random_vl
    image_height: int = 224
    image_num: int = 1


def require_path(ctx: DatasetContext, what: str) -> Path:
    if not ctx.path:
        raise ConfigError(f"--dataset {ctx.dataset} needs --dataset-path: {what}.")
    p = Path(ctx.path).expanduser()
    if not p.exists():
        raise DatasetNotFoundError(f"--dataset-path {ctx.path!r} does not exist.")
    return p


def filter_by_length(ctx: DatasetContext, prompts: list[Prompt]) -> list[Prompt]:
    """Keep prompts within [--min-prompt-length, --max-prompt-length]: tokens when a tokenizer is
    given, else characters (EvalScope's rule)."""
    if ctx.min_prompt_length <= 0 and ctx.max_prompt_length >= 131072:
        return prompts
    texts = [prompt_text(p) for p in prompts]
    if ctx.tokenizer is not None:
        from evalscope_perf.tokenizer import count_tokens

        lengths = count_tokens(ctx.tokenizer, texts)
    else:
        lengths = [len(t) for t in texts]
    return [
        p
        for p, n in zip(prompts, lengths, strict=True)
        if ctx.min_prompt_length <= n <= ctx.max_prompt_length
    ]


_HUB_HOSTS = {"modelscope": "www.modelscope.cn", "huggingface": "huggingface.co"}


def download_hub_file(ctx: DatasetContext, dataset_id: str, hf_dataset_id: str, filename: str) -> Path:
    """The default when no --dataset-path is given: fetch `filename` of the dataset from the hub.

    Offline (HF_HUB_OFFLINE / no route to the hub) fails at once with the flag to use instead, rather
    than after the download library's own retries.
    """
    source = ctx.data_source if ctx.data_source in _HUB_HOSTS else "modelscope"
    hint = f"download {filename} yourself and pass --dataset-path /path/to/{filename}"
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("EVALSCOPE_OFFLINE") == "1":
        raise DatasetNotFoundError(
            f"--dataset {ctx.dataset}: offline, and no --dataset-path given.", hint=hint
        )
    try:
        socket.create_connection((_HUB_HOSTS[source], 443), timeout=3).close()
    except OSError as exc:
        raise DatasetNotFoundError(
            f"--dataset {ctx.dataset}: no --dataset-path given and {_HUB_HOSTS[source]} is unreachable ({exc}).",
            hint=hint,
        ) from None
    try:
        if source == "modelscope":
            from modelscope.hub.file_download import dataset_file_download

            return Path(dataset_file_download(dataset_id=dataset_id, file_path=filename))
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(repo_id=hf_dataset_id, filename=filename, repo_type="dataset"))
    except ImportError:
        pkg = "modelscope" if source == "modelscope" else "huggingface_hub"
        raise DatasetNotFoundError(
            f"--dataset {ctx.dataset}: no --dataset-path given and {pkg} is not installed to download it.",
            hint=f"pip install {pkg}, or {hint}",
        ) from None
    except Exception as exc:  # network and hub errors come in many types
        raise DatasetNotFoundError(f"--dataset {ctx.dataset}: download failed: {exc}", hint=hint) from None
