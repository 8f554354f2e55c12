"""The long-context family's specs: needle_haystack (EvalScope 1.14.1's settings)."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec, ScorerSpec

_HERE = "evalscope_native.families.long_context"


def specs() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="needle_haystack",
            pretty_name="Needle-in-a-Haystack",
            impl=f"{_HERE}.needle_haystack:NeedleHaystack",
            scorer="needle_exact_match",
            scoring_policy="judge_default",
            judge_scorer="needle_judge",
            description="Facts hidden at depths 0-100% of contexts of 1K-32K tokens (a grid cut from a corpus "
            "with a tokenizer); judged 1-10 by default; a heat map PNG per subset next to the report.",
            tags=("retrieval", "long_context"),
            dataset_id="AI-ModelScope/Needle-in-a-Haystack-Corpus",
            subsets=("english", "chinese"),
            eval_split="test",
            metrics=("acc",),
            version="1.1.0",
            paper_url="https://github.com/gkamradt/LLMTest_NeedleInAHaystack",
        ),
        BenchmarkSpec(
            name="longbench_write",
            pretty_name="LongBench-Write",
            impl=f"{_HERE}.longbench_write:LongBenchWrite",
            scorer="longbench_write_length",
            scoring_policy="judge_default",
            judge_scorer="longbench_write_quality",
            description="Long-output writing (LongWriter): length score (words asked vs written, 0-100) and the "
            "judge's quality score (six 1-5 ratings, 0-100); EvalScope's third_party scoring.",
            tags=("long_context", "writing"),
            dataset_id="longbench_write",
            local_only=True,
            subsets=("default",),
            eval_split="test",
            metrics=("score_l",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2408.07055",
        ),
    ]


def scorer_specs() -> list[ScorerSpec]:
    scorers = f"{_HERE}.scorers"
    return [
        ScorerSpec(name="needle_exact_match", impl=f"{scorers}:needle_exact_match", values=("acc",),
                   description="needle_haystack's rule: the reply equals the needles after SQuAD normalisation."),
        ScorerSpec(name="needle_judge", impl=f"{scorers}:needle_judge", values=("acc",), kind="model",
                   description="needle_haystack's judge (EvalScope's prompt): a 0-10 verdict, reported / 10."),
        ScorerSpec(name="longbench_write_length", impl=f"{scorers}:longbench_write_length", values=("score_l",),
                   description="longbench_write's length score: words written against words asked (0-100)."),
        ScorerSpec(name="longbench_write_quality", impl=f"{scorers}:longbench_write_quality", kind="model",
                   values=("score_q", "score_l"),
                   description="longbench_write's judge: six 1-5 quality ratings as 0-100 (score_q), with score_l."),
    ]  # fmt: skip
