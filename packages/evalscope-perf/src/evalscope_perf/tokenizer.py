"""Local tokenizers (`--tokenizer-path`), read with the `tokenizers` library; never downloaded.

Used to count tokens when the server reports no `usage`, and to build `--dataset random` prompts of
exact token lengths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalscope.errors import ConfigError

__all__ = ["count_tokens", "load_tokenizer"]


def load_tokenizer(path: str | Path) -> Any:
    """A `tokenizers.Tokenizer` from a tokenizer.json file or a Hugging Face tokenizer folder."""
    from tokenizers import Tokenizer

    p = Path(path).expanduser()
    file = p / "tokenizer.json" if p.is_dir() else p
    if not file.is_file():
        raise ConfigError(
            f"--tokenizer-path {str(path)!r}: no tokenizer.json found there.",
            hint="point it at a local tokenizer.json or a Hugging Face model folder that contains one",
        )
    try:
        return Tokenizer.from_file(str(file))
    except Exception as exc:  # the library raises plain Exceptions for malformed files
        raise ConfigError(f"--tokenizer-path {str(file)!r} is not a valid tokenizer.json: {exc}") from None


def count_tokens(tokenizer: Any, texts: list[str]) -> list[int]:
    """Token counts without special tokens (batched: the library encodes on all cores)."""
    if not texts:
        return []
    return [len(enc.ids) for enc in tokenizer.encode_batch(texts, add_special_tokens=False)]
