"""`--dataset random`: prompts of random tokens with exact token lengths (needs `--tokenizer-path`).

Each prompt is `--prefix-length` shared tokens (the same for every request: exercises prefix
caching) followed by a length drawn uniformly from [--min-prompt-length, --max-prompt-length].
Random token ids decoded to text do not always re-encode to the same count, so each prompt is
adjusted (trimmed or extended) until it re-encodes to its target length, as the server will see it.
Special and byte-fallback tokens (`<0xE4>`) are never drawn: they decode to text that re-encodes
to several tokens.
"""

from __future__ import annotations

import re
from typing import Any

from evalscope.errors import ConfigError

from evalscope_perf.apis.base import Prompt
from evalscope_perf.datasets.base import DatasetContext

__all__ = ["random_prompts"]

_BYTE_FALLBACK = re.compile(r"^<0x[0-9A-Fa-f]{2}>$")


def _allowed_ids(tokenizer: Any) -> list[int]:
    special = {i for i, tok in tokenizer.get_added_tokens_decoder().items() if tok.special}
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    return sorted(i for tok, i in vocab.items() if i not in special and not _BYTE_FALLBACK.match(tok))


def _fit(tokenizer: Any, ids: list[int], target: int, pool: Any, rng: Any) -> str:
    text: str = tokenizer.decode(ids, skip_special_tokens=False)
    for _ in range(8):
        n = len(tokenizer.encode(text, add_special_tokens=False).ids)
        if n == target:
            break
        if n > target:
            ids = ids[: max(1, len(ids) - (n - target))]
        else:
            ids = ids + [int(x) for x in rng.choice(pool, target - n)]
        text = tokenizer.decode(ids, skip_special_tokens=False)
    return text


def random_prompts(ctx: DatasetContext) -> list[Prompt]:
    import numpy as np

    if ctx.tokenizer is None:
        raise ConfigError(
            "--dataset random needs --tokenizer-path (a local tokenizer.json or HF tokenizer folder).",
            hint="the prompts are built to exact token lengths with the model's own tokenizer",
        )
    lo, hi = ctx.min_prompt_length, ctx.max_prompt_length
    if lo < 0 or hi < max(lo, 1):
        raise ConfigError(
            f"--min-prompt-length {lo} / --max-prompt-length {hi}: need 0 <= min <= max, max >= 1."
        )
    pool = np.asarray(_allowed_ids(ctx.tokenizer))
    if pool.size == 0:
        raise ConfigError(
            f"--tokenizer-path: the tokenizer has no ordinary tokens to draw from ({ctx.path})."
        )
    rng = np.random.default_rng(ctx.seed)
    prefix = [int(x) for x in rng.choice(pool, ctx.prefix_length)] if ctx.prefix_length > 0 else []
    prompts: list[Prompt] = []
    for _ in range(max(ctx.count, 1)):
        n = int(rng.integers(lo, hi + 1))
        ids = prefix + [int(x) for x in rng.choice(pool, n)]
        prompts.append(_fit(ctx.tokenizer, ids, len(prefix) + n, pool, rng) if ids else "")
    return prompts
