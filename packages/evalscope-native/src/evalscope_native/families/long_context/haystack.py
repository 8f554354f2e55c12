"""Needle-in-a-haystack contexts, cut and filled exactly as EvalScope 1.14.1 does (`needle_haystack_adapter.py`).

The corpus is tokenized (repeated until it holds the longest context), cut to `context_length - 150`
tokens less the needles, and each needle is inserted at its depth, moved back to the nearest sentence
end ('.' or '。' token); the tokens are decoded back to text. The tokenizer is a local folder with a
`tokenizer.json` (the `tokenizers` library, no torch), or a hub id found in the local HF/ModelScope
cache; its `model_max_length` (tokenizer_config.json) bounds the context lengths.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalscope.errors import ConfigError, MissingDependencyError

#: a `model_max_length` above this is transformers' "no limit" placeholder (int(1e30))
_NO_LIMIT = 10**12


def linspace_int(low: int, high: int, num: int) -> list[int]:
    """`np.round(np.linspace(low, high, num)).astype(int)`: evenly spaced, rounded half to even."""
    if num <= 1:
        return [int(round(low))]  # numpy: a single point is `low`
    step = (high - low) / (num - 1)
    points = [low + i * step for i in range(num)]
    points[-1] = high
    return [int(round(p)) for p in points]


@dataclass
class HaystackTokenizer:
    tokenizer: Any
    folder: Path
    model_max_length: int | None

    def encode(self, text: str, special: bool = True) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=special).ids)

    def decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=False))  # transformers' default


def load_tokenizer(path: str) -> HaystackTokenizer:
    """A tokenizer from a local folder (or its `tokenizer.json`), else a hub id already in the local cache."""
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise MissingDependencyError(
            "needle_haystack sizes its contexts with a tokenizer and needs the `tokenizers` library.",
            hint="pip install tokenizers",
        ) from None
    given = Path(path).expanduser()
    folder = given.parent if given.is_file() else given
    if not (folder / "tokenizer.json").is_file():
        folder = _cached_hub_folder(path) or folder
    file = folder / "tokenizer.json"
    if not file.is_file():
        raise ConfigError(
            f"needle_haystack: no tokenizer at {path!r} (looked for {file}).",
            hint='pass a folder holding tokenizer.json: --dataset-args \'{"needle_haystack": {"extra_params": '
            '{"tokenizer_path": "/path/to/Qwen3-0.6B"}}}\' (e.g. `huggingface-cli download Qwen/Qwen3-0.6B '
            "tokenizer.json tokenizer_config.json --local-dir DIR`)",
        )
    limit: int | None = None
    config = folder / "tokenizer_config.json"
    if config.is_file():
        value = json.loads(config.read_text(encoding="utf-8")).get("model_max_length")
        if isinstance(value, (int, float)) and 0 < value < _NO_LIMIT:
            limit = int(value)
    return HaystackTokenizer(Tokenizer.from_file(str(file)), folder, limit)


def _cached_hub_folder(name: str) -> Path | None:
    """A hub id's snapshot in the local HF / ModelScope cache (never a download)."""
    from evalscope.checkpoints import looks_like_path, modelscope_cache_dirs

    if looks_like_path(name):
        return None
    try:
        from huggingface_hub import snapshot_download

        found = Path(snapshot_download(name, local_files_only=True, allow_patterns=["tokenizer*"]))
        if (found / "tokenizer.json").is_file():
            return found
    except Exception:  # not in the HF cache (or huggingface_hub absent): try ModelScope's
        pass
    return next((d for d in modelscope_cache_dirs(name) if (d / "tokenizer.json").is_file()), None)


def context_tokens(tok: HaystackTokenizer, corpus: str, longest: int) -> list[int]:
    """The corpus's tokens, the corpus repeated (joined by newlines) until it holds `longest` tokens."""
    text = corpus
    tokens = tok.encode(text, special=False)
    if not tokens:
        raise ConfigError("needle_haystack: the haystack corpus is empty.")
    while len(tokens) < longest:
        text += "\n" + corpus
        tokens = tok.encode(text, special=False)
    return tokens


def insert_needles(
    tok: HaystackTokenizer, tokens: list[int], needles: list[str], depth_percent: float, context_length: int
) -> str:
    """EvalScope's `_insert_needles`, step for step (the 150-token buffer, sentence-end placement)."""
    context_length -= 150
    total = sum(len(tok.encode(n)) for n in needles)
    if len(tokens) + total > context_length:
        tokens = tokens[: context_length - total]
    interval = (100 - depth_percent) / len(needles)
    periods = tok.encode(".") + tok.encode("。")
    for needle in needles:
        needle_tokens = tok.encode(needle)
        if depth_percent == 100:
            tokens = tokens + needle_tokens
            continue
        point = int(len(tokens) * (depth_percent / 100))
        while point > 0 and tokens[point - 1] not in periods:
            point -= 1
        tokens = tokens[:point] + needle_tokens + tokens[point:]
        depth_percent += interval
    return tok.decode(tokens)
