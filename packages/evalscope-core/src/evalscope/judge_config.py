"""`TaskConfig.judge`: who judges open answers, how often, and how their verdicts combine.

The shape is EvalScope 1.14.1's typed `judge` object, so its users' configs run unchanged:
`strategy`, `models` (one judge, or several: a panel), `contract` (prompt and verdict semantics),
`repeats`, `position_swap`, `aggregation`, `min_valid_judges`. EvalScope's older flat spellings
(`judge_strategy`, `judge_model_args`, `judge_worker_num`) are folded into it by
`TaskConfig._evalscope_names`. Two settings are ours: `worker_num` (concurrent judge requests;
EvalScope 1.14.1 reuses `eval_batch_size`) and `max_reasks` (a malformed verdict is asked again, at
most this many times, before the sample is recorded as a judge failure).

Defaults follow EvalScope 1.14.1: the key comes from the entry, else `MODELSCOPE_SDK_TOKEN`, else
`EMPTY`; the URL from the entry, else `MODELSCOPE_API_BASE`, else ModelScope's inference API; an
empty `generation_config` means `{"temperature": 0.0, "max_tokens": 4096}`.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = [
    "DEFAULT_JUDGE_API_URL",
    "DEFAULT_JUDGE_GENERATION",
    "JudgeConfig",
    "JudgeContract",
    "JudgeModelConfig",
    "JUDGE_STRATEGIES",
    "LEGACY_JUDGE_KEYS",
    "fold_legacy_judge_keys",
]

JUDGE_STRATEGIES = ("auto", "rule", "llm", "llm_recall")
#: EvalScope 1.x's flat judge keys, folded into `judge` (and offered when a key is misspelt)
LEGACY_JUDGE_KEYS = ("judge_strategy", "judge_model_args", "judge_worker_num")
DEFAULT_JUDGE_API_URL = "https://api-inference.modelscope.cn/v1/"
DEFAULT_JUDGE_GENERATION: dict[str, Any] = {"temperature": 0.0, "max_tokens": 4096}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class JudgeModelConfig(_Strict):
    """One judge: an OpenAI-compatible service and the model it serves."""

    model_id: str = Field(description="The judge model's name at its service.")
    judge_id: str | None = Field(default=None, description="Name in reports (default: model_id).")
    api_url: str | None = Field(default=None, description="Default: MODELSCOPE_API_BASE, then ModelScope.")
    api_key: SecretStr | None = Field(default=None, description="Default: MODELSCOPE_SDK_TOKEN, then EMPTY.")
    eval_type: str | None = None
    model_args: dict[str, Any] = Field(default_factory=dict)
    generation_config: dict[str, Any] = Field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.judge_id or self.model_id

    def resolved_api_url(self) -> str:
        return self.api_url or os.environ.get("MODELSCOPE_API_BASE") or DEFAULT_JUDGE_API_URL

    def resolved_api_key(self) -> str:
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        return os.environ.get("MODELSCOPE_SDK_TOKEN") or "EMPTY"

    def resolved_generation(self) -> dict[str, Any]:
        return dict(self.generation_config) if self.generation_config else dict(DEFAULT_JUDGE_GENERATION)


class JudgeContract(_Strict):
    """The verdict semantics of the generic judge (benchmarks with their own judge prompts ignore it)."""

    system_prompt: str | None = None
    prompt_template: str | None = Field(
        default=None, description="Placeholders {question}, {gold}, {pred} (EvalScope's spelling)."
    )
    score_mapping: dict[str, float] | None = Field(
        default=None, description="Verdict label → score (default {'A': 1.0, 'B': 0.0})."
    )
    score_type: Literal["pattern", "numeric"] = "pattern"


class JudgeConfig(_Strict):
    strategy: Literal["auto", "rule", "llm", "llm_recall"] = "auto"
    models: list[JudgeModelConfig] = Field(default_factory=list)
    contract: JudgeContract = Field(default_factory=JudgeContract)
    repeats: int = Field(default=1, ge=1, description="Verdicts asked per judge and answer.")
    position_swap: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Pairwise: also ask with the answers swapped (auto: the benchmark's rule).",
    )
    aggregation: Literal["mean", "median", "majority_vote"] = "mean"
    min_valid_judges: int = Field(default=1, ge=1)
    worker_num: int | None = Field(
        default=None, ge=1, description="Concurrent judge requests (default: --eval-batch-size)."
    )
    max_reasks: int = Field(default=2, ge=0, description="Re-asks of a malformed verdict before giving up.")

    @field_validator("models", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _panel(self) -> JudgeConfig:
        names = [m.name for m in self.models]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(
                f"judge {twice[0]!r} is configured more than once; give each entry its own judge_id"
            )
        if self.models and self.min_valid_judges > len(self.models):
            raise ValueError(
                f"judge.min_valid_judges ({self.min_valid_judges}) exceeds the number of judges "
                f"({len(self.models)})"
            )
        return self


def fold_legacy_judge_keys(data: dict[str, Any]) -> dict[str, Any]:
    """EvalScope's flat keys → `judge`: `judge_strategy`, `judge_model_args`, `judge_worker_num`.

    `judge_model_args` keys that are verdict semantics (`system_prompt`, `prompt_template`,
    `score_mapping`, `score_type`) go to `judge.contract`, the rest describe the judge model.
    """
    legacy = set(LEGACY_JUDGE_KEYS) & set(data)
    if not legacy:
        return data
    if "judge" in data and data["judge"] is not None:
        raise ValueError(
            "give either `judge` or the older judge_strategy / judge_model_args / judge_worker_num, not both"
        )
    data = dict(data)
    judge: dict[str, Any] = {}
    if "judge_strategy" in data:
        judge["strategy"] = data.pop("judge_strategy")
    if "judge_worker_num" in data:
        judge["worker_num"] = data.pop("judge_worker_num")
    args = data.pop("judge_model_args", None)
    if args:
        if not isinstance(args, dict):
            raise ValueError("judge_model_args must be a mapping (JSON object)")
        args = dict(args)
        if "score_pattern" in args:
            raise ValueError(
                "judge_model_args.score_pattern is not supported: verdicts are read by the JSON contract; "
                "use judge.contract.score_mapping"
            )
        contract = {k: args.pop(k) for k in JudgeContract.model_fields if k in args}
        judge["models"] = [args]
        if contract:
            judge["contract"] = contract
    data["judge"] = judge
    return data
