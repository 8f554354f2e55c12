"""Everything a run needs before its first request: API format, tokenizer, prompts, request bodies.

Bodies are serialised to bytes here, once, so building JSON never competes with the load itself.
All input errors (unknown names, unreadable files, a missing tokenizer) surface here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from evalscope_perf.apis.base import ApiFormat, GenerationParams, Prompt, prompt_text
from evalscope_perf.config import PerfConfig

__all__ = ["Prepared", "prepare"]

#: More distinct prompts than this are not built (the run cycles through them): bounds memory and
#: the time `--dataset random` spends decoding when an SLA search may send 100k requests.
MAX_PROMPTS = 20_000


@dataclass
class Prepared:
    cfg: PerfConfig
    api: ApiFormat
    prompts: list[Prompt]
    bodies: list[bytes]
    tokenizer: Any = None
    conversations: Any = None  # multi_turn.ConversationPlan for a multi-turn dataset
    _prompt_tokens: dict[int, int | None] = field(default_factory=dict)

    def prefix_share(self, records: list[Any]) -> float | None:
        """Multi-turn: prompt tokens already seen earlier in their conversation / all prompt tokens
        (requests whose prompt tokens the server reported); None for single-turn datasets."""
        if self.conversations is None:
            return None
        rows = [r for r in records if r.success and r.token_source == "usage" and r.prompt_tokens]
        total = sum(r.prompt_tokens for r in rows)
        return min(1.0, sum(r.prefix_tokens for r in rows) / total) if total else None

    def prompt_tokens(self, index: int) -> int | None:
        """Tokens of prompt `index` by --tokenizer-path (None without one); cached."""
        if index not in self._prompt_tokens:
            prompt = self.prompts[index]
            ids = prompt.get("prompt") if isinstance(prompt, dict) else None
            if isinstance(ids, list) and ids and all(isinstance(x, int) for x in ids):
                self._prompt_tokens[index] = len(ids)  # --tokenize-prompt: already token ids
            elif self.tokenizer is None:
                self._prompt_tokens[index] = None
            else:
                text = prompt_text(self.prompts[index])
                self._prompt_tokens[index] = len(self.tokenizer.encode(text, add_special_tokens=False).ids)
        return self._prompt_tokens[index]


def prepare(cfg: PerfConfig, count: int) -> Prepared:
    """Load the tokenizer and `count` prompts (fewer if the dataset has fewer) and build bodies."""
    from evalscope_perf import registry
    from evalscope_perf.datasets.base import DatasetContext

    api_cls = registry.resolve_api(cfg.api)
    params = GenerationParams(
        model=str(cfg.model),
        stream=cfg.stream and api_cls.generates,
        max_tokens=cfg.max_tokens,
        min_tokens=cfg.min_tokens,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        top_k=cfg.top_k,
        stop=cfg.stop,
        seed=cfg.seed,
        extra_args=dict(cfg.extra_args),
    )
    api: ApiFormat = api_cls(params)
    tokenizer = None
    if cfg.tokenizer_path:
        from evalscope_perf.tokenizer import load_tokenizer

        tokenizer = load_tokenizer(cfg.tokenizer_path)
    count = max(1, min(count, MAX_PROMPTS))
    if cfg.prompt is not None:
        prompts: list[Prompt] = [_read_prompt(cfg.prompt)]
    else:
        ctx = DatasetContext(
            dataset=cfg.dataset,
            path=cfg.dataset_path,
            count=count,
            min_prompt_length=cfg.min_prompt_length,
            max_prompt_length=cfg.max_prompt_length,
            prefix_length=cfg.prefix_length,
            tokenizer=tokenizer,
            seed=cfg.seed,
            data_source=cfg.data_source,
            image_width=cfg.image_width,
            image_height=cfg.image_height,
            image_num=cfg.image_num,
        )
        from evalscope_perf.multi_turn import plan_conversations

        prompts, plan = plan_conversations(api, list(registry.resolve_dataset(cfg.dataset)(ctx))[:count])
        if not prompts:
            from evalscope.errors import DataFormatError

            raise DataFormatError(str(cfg.dataset_path or cfg.dataset), "the dataset yielded no prompts")
        if plan is not None and (cfg.workers > 1 or cfg.runner != "local"):
            from evalscope.errors import ConfigError

            raise ConfigError(
                f"--dataset {cfg.dataset} replays conversations turn by turn in one process.",
                hint="drop --workers/--runner (use --parallel for more conversations at once)",
            )
        if plan is not None:
            return Prepared(
                cfg, api, prompts, [plan.body([], p)[1] for p in range(len(prompts))], tokenizer, plan
            )
    if (
        cfg.tokenize_prompt and tokenizer is not None
    ):  # EvalScope's --tokenize-prompt: ids, no server-side tokenizing
        prompts = [
            p
            if isinstance(p, dict)
            else {"prompt": tokenizer.encode(prompt_text(p), add_special_tokens=False).ids}
            for p in prompts
        ]
    bodies = [json.dumps(api.build_body(p), ensure_ascii=False).encode() for p in prompts]
    return Prepared(cfg, api, prompts, bodies, tokenizer)


def _read_prompt(value: str) -> str:
    """`--prompt TEXT`, or `--prompt @file.txt` (EvalScope's spelling) for the file's content."""
    if value.startswith("@"):
        from pathlib import Path

        from evalscope.errors import ConfigError

        path = Path(value[1:]).expanduser()
        if not path.is_file():
            raise ConfigError(f"--prompt {value!r}: no such file {str(path)!r}.")
        return path.read_text(encoding="utf-8")
    return value
