"""One sample's record from its model output: reasoning split, answers extracted, scorers run.

Two halves, because scorers come in two kinds. Rule and sandbox scorers are plain functions that may
block (Math-Verify waits on a worker process, the sandbox on a program), so `score_sync` runs on the
scoring threads, off the event loop. A judge is a coroutine that waits on the network, so
`score_async` awaits it on the loop, where the engine's concurrency limits and retries live. A
benchmark without an async scorer never pays for the second half.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from evalscope.aggregation import reduce_completions
from evalscope.contracts import ModelOutput, Sample
from evalscope.report import SampleRecord
from evalscope.scoring import Score

from evalscope_native.engine.plan import BenchmarkPlan, Item
from evalscope_native.engine.retry import Outcome
from evalscope_native.models.reasoning import split_reasoning

__all__ = ["Pending", "score_async", "score_sync"]


@dataclass
class Pending:
    """A record whose sync scorers have run; the async ones (if any) still have to."""

    rec: SampleRecord
    sample: Sample
    answers: list[str] = field(default_factory=list)
    extracted: list[str] = field(default_factory=list)
    scores: list[list[Score]] = field(default_factory=list)  # per completion, per scorer run so far

    @property
    def complete(self) -> bool:
        return not self.answers  # a failed sample has nothing left to score


def score_sync(bench: BenchmarkPlan, item: Item, outcome: Outcome) -> Pending:
    """Build the record, extract each completion's answer and run the synchronous scorers."""
    sample = item.sample
    rec = SampleRecord(
        benchmark=bench.spec.name,
        subset=sample.subset,
        index=item.index,
        id=sample.id,
        cache_key=item.key,
        input=list(item.request.messages),
        target=sample.target,
        choices=sample.choices,
        attempts=outcome.attempts,
        metadata=sample.metadata,
    )
    if outcome.output is None:
        rec.error = outcome.error or "unknown error"
        rec.scores = {m: 0.0 for m in bench.report_metrics}
        rec.weights = bench.adapter.metric_weights(
            sample
        )  # a failed IFEval prompt fails all its instructions
        return Pending(rec, sample)
    output: ModelOutput = outcome.output
    rec.usage = output.usage
    answers, thoughts = [], []
    for i, text in enumerate(output.completions or [""]):
        answer, thinking = split_reasoning(text)
        api_reasoning = output.reasoning[i] if i < len(output.reasoning) else None
        answers.append(answer)
        thoughts.append(api_reasoning or thinking)
    rec.predictions = list(output.completions)
    rec.prediction = output.completions[0] if output.completions else ""
    rec.reasoning = thoughts[0]
    if output.turns:  # a multi-turn sample: its scorer (MT-Bench's judge) grades every turn's answer
        sample = sample.model_copy(update={"metadata": {**sample.metadata, "answers": list(output.turns)}})
        rec.metadata = sample.metadata
    per_sample = [sample] * len(answers)
    if output.tool_calls or item.request.tools is not None:  # function calling: each completion's own calls
        per_sample = [_with_tool_calls(sample, output, i) for i in range(len(answers))]
        sample = per_sample[0]
        rec.metadata = sample.metadata
    extracted = [bench.adapter.extract_answer(a, s) for a, s in zip(answers, per_sample, strict=True)]
    rec.extracted = extracted[0]
    pending = Pending(rec, sample, answers, extracted)
    for answer, got, one in zip(answers, extracted, per_sample, strict=True):
        pending.scores.append([_checked(b.scorer(one, answer, got)) for b in bench.scorers if not b.is_async])
    if not any(b.is_async for b in bench.scorers):
        _finish(bench, pending)
    return pending


async def score_async(bench: BenchmarkPlan, pending: Pending) -> SampleRecord:
    """Await the async scorers (judges) of every completion, then finish the record."""
    if pending.complete or not any(b.is_async for b in bench.scorers):
        return pending.rec
    jobs: list[Any] = [
        b.scorer(pending.sample, answer, got)
        for answer, got in zip(pending.answers, pending.extracted, strict=True)
        for b in bench.scorers
        if b.is_async
    ]
    results = await asyncio.gather(*jobs)
    per = len(results) // len(pending.answers)
    for i in range(len(pending.answers)):
        pending.scores[i] += [_checked(s) for s in results[i * per : (i + 1) * per]]
    _finish(bench, pending)
    return pending.rec


def _with_tool_calls(sample: Sample, output: ModelOutput, i: int) -> Sample:
    """The sample as completion `i`'s scorer sees it: its tool calls and finish reason in the metadata
    (`tool_calls`, `finish_reason`), where function-calling scorers read them."""
    calls = output.tool_calls[i] if i < len(output.tool_calls) else []
    finish = output.finish_reasons[i] if i < len(output.finish_reasons) else None
    return sample.model_copy(
        update={"metadata": {**sample.metadata, "tool_calls": calls, "finish_reason": finish}}
    )


def _checked(score: Any) -> Score:
    if not isinstance(score, Score):
        raise TypeError(f"a scorer must return evalscope.scoring.Score, not {type(score).__name__}")
    return score


def _finish(bench: BenchmarkPlan, pending: Pending) -> None:
    rec = pending.rec
    per_completion: list[dict[str, float]] = []
    for scores in pending.scores:
        values: dict[str, float] = {}
        for score in scores:
            values |= {k: float(v) for k, v in score.values.items()}
        per_completion.append({m: values.get(m, 0.0) for m in bench.values})
    first = pending.scores[0]
    unscored = [s.unscored for scores in pending.scores for s in scores if s.unscored]
    rec.unscored = unscored[0] if unscored else None
    explanations = [s.explanation for s in first if s.explanation]
    rec.explanation = "\n\n".join(explanations) if explanations else None
    rec.scores = reduce_completions(per_completion, bench.values, pass_hat=bench.adapter.pass_hat_k)
    rec.weights = bench.adapter.metric_weights(pending.sample)
    for score in first:
        rec.weights |= score.weights
    # A scorer may have recorded what it did in the sample (code executions) or in its Score (verdicts).
    rec.metadata = dict(pending.sample.metadata)
    for score in first:
        rec.metadata |= score.metadata
    if len(per_completion) > 1:
        rec.metadata = {**rec.metadata, "completion_scores": per_completion}
