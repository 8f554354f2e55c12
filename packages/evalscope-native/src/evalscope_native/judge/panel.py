"""The judges of a run: every judge × repeat × placement asked at once, verdicts combined as configured.

One `JudgePanel` per run holds a client per judge model (`judge.models`). A judge scorer asks it for
verdicts on one case; `combine` turns the valid ones into values: within a judge over its repeats,
then across judges, by `judge.aggregation` (mean, median, majority_vote), requiring
`judge.min_valid_judges` judges with a usable verdict. Every attempt is kept (judge, repeat,
placement, raw replies, what was read, why it failed) for the reviews and the report's judge figures.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from evalscope.config import TaskConfig
from evalscope.contracts import ChatMessage
from evalscope.errors import ConfigError
from evalscope_native.judge.client import JudgeAnswer, JudgeClient
from evalscope_native.judge.contract import OutputContract

__all__ = ["Attempt", "JudgePanel", "combine"]


@dataclass
class Attempt:
    """One judge's verdict for one repeat and placement (`original` / `swapped`)."""

    judge: str
    repeat: int
    placement: str
    answer: JudgeAnswer
    values: dict[str, float] | None = None  # what the verdict means for the scored answer

    def record(self) -> dict[str, Any]:
        return {
            "judge": self.judge,
            "repeat": self.repeat,
            "placement": self.placement,
            "replies": self.answer.replies,
            "parsed": self.answer.parsed,
            "values": self.values,
            "error": self.answer.error,
        }


class JudgePanel:
    def __init__(self, config: TaskConfig) -> None:
        judge = config.judge
        if not judge.models:
            raise ConfigError(
                "this run scores with an LLM judge, but no judge model is configured.",
                hint='--judge-model-args \'{"model_id": "qwen2.5-72b-instruct", "api_url": "http://host/v1"}\' '
                "or --judge '{\"models\": [{...}]}' (docs/judge.md)",
            )
        self.config = judge
        workers = judge.worker_num or config.eval_batch_size
        self.clients = [
            JudgeClient(spec, config, workers, refresh=config.rerun_review) for spec in judge.models
        ]

    @property
    def calls(self) -> int:
        return sum(c.calls for c in self.clients)

    async def ask(
        self,
        messages_for: Callable[[str], list[ChatMessage]],
        contract: OutputContract,
        placements: Sequence[str] = ("original",),
    ) -> list[Attempt]:
        """Ask every judge, `repeats` times, for each placement; `messages_for(placement)` builds the prompt."""
        jobs = []
        keys = []
        for client in self.clients:
            for repeat in range(self.config.repeats):
                for placement in placements:
                    keys.append((client.name, repeat, placement))
                    jobs.append(client.ask(messages_for(placement), contract, self.config.max_reasks, repeat))
        answers = await asyncio.gather(*jobs)
        return [Attempt(j, r, p, a) for (j, r, p), a in zip(keys, answers, strict=True)]

    async def check_connection(self) -> None:
        for client in self.clients:
            await client.model.check_connection()

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


def combine(
    per_judge: dict[str, list[dict[str, float]]], aggregation: str, min_valid: int
) -> tuple[dict[str, float] | None, dict[str, Any]]:
    """Values from every judge's valid observations: over repeats, then over judges.

    Returns (values, notes); values is None when fewer than `min_valid` judges gave a usable verdict.
    A majority-vote tie is broken by the first observation (repeats) or the first judge (panel), and
    noted, as EvalScope 1.14.1 does.
    """
    notes: dict[str, Any] = {}
    judged = {j: obs for j, obs in per_judge.items() if obs}
    if len(judged) < min_valid:
        return None, {"valid_judges": len(judged), "min_valid_judges": min_valid}
    by_judge = {j: _reduce(obs, aggregation, notes, "repeat") for j, obs in judged.items()}
    values = _reduce(list(by_judge.values()), aggregation, notes, "panel")
    notes["valid_judges"] = len(judged)
    if len(by_judge) > 1:
        notes["per_judge"] = by_judge
    return values, notes


def _reduce(
    observations: list[dict[str, float]], how: str, notes: dict[str, Any], level: str
) -> dict[str, float]:
    names = list(dict.fromkeys(k for o in observations for k in o))
    out: dict[str, float] = {}
    for name in names:
        xs = [o[name] for o in observations if name in o]
        if how == "median":
            out[name] = float(statistics.median(xs))
        elif how == "majority_vote":
            counts = Counter(xs).most_common()
            top = [x for x, c in counts if c == counts[0][1]]
            if len(top) > 1:
                notes[f"{level}_tie_broken_by_first"] = True
                out[name] = xs[0]
            else:
                out[name] = top[0]
        else:
            out[name] = sum(xs) / len(xs)
    return out
