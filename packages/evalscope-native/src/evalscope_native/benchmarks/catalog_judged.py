"""Benchmarks scored by an LLM judge: simple_qa, chinese_simpleqa, alpaca_eval, arena_hard, mt_bench.

`scoring_policy="judge_only"`: no rule can score them, so `judge.strategy` auto or llm with a judge
model is required (`engine/scorer_plan.py`). Prompts, fields and per-sample values as EvalScope 1.14.1.
"""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec

_PKG = "evalscope_native.benchmarks.judged"
_SIMPLE_QA_VALUES = ("is_correct", "is_incorrect", "is_not_attempted")
CHINESE_SIMPLEQA_SUBSETS = (
    "中华文化",
    "人文与社会科学",
    "工程、技术与应用科学",
    "生活、艺术与文化",
    "社会",
    "自然与自然科学",
)


def specs() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="simple_qa",
            pretty_name="SimpleQA",
            impl=f"{_PKG}:SimpleQA",
            description="Short fact-seeking questions; a judge grades correct / incorrect / not attempted.",
            tags=("qa", "knowledge", "llm_judge"),
            dataset_id="basicv8vc/SimpleQA",
            metrics=_SIMPLE_QA_VALUES,
            scoring_policy="judge_only",
            judge_scorer="simple_qa_grader",
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2411.04368",
            sample_counts={"default": 4326},
        ),
        BenchmarkSpec(
            name="chinese_simpleqa",
            pretty_name="Chinese-SimpleQA",
            impl=f"{_PKG}:ChineseSimpleQA",
            description="Chinese short fact-seeking questions in six categories, graded by a judge.",
            tags=("qa", "knowledge", "chinese", "llm_judge"),
            dataset_id="OpenStellarTeam/Chinese-SimpleQA",
            subsets=CHINESE_SIMPLEQA_SUBSETS,
            eval_split="train",
            metrics=_SIMPLE_QA_VALUES,
            scoring_policy="judge_only",
            judge_scorer="chinese_simpleqa_grader",
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2411.07140",
        ),
        BenchmarkSpec(
            name="alpaca_eval",
            pretty_name="AlpacaEval2.0",
            impl=f"{_PKG}:AlpacaEval",
            description="805 instructions; a judge prefers the model's output or GPT-4 Turbo's reference; "
            "win rate and length-controlled win rate.",
            tags=("instruction_following", "arena", "llm_judge"),
            dataset_id="tatsu-lab/alpaca_eval",
            subsets=("alpaca_eval_gpt4_baseline",),
            eval_split="eval",
            metrics=("win_rate", "lc_win_rate"),
            aggregations={"lc_win_rate": "length_controlled"},
            scoring_policy="judge_only",
            judge_scorer="alpaca_eval_preference",
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2404.04475",
            sample_counts={"alpaca_eval_gpt4_baseline": 805},
        ),
        BenchmarkSpec(
            name="arena_hard",
            pretty_name="ArenaHard",
            impl=f"{_PKG}:ArenaHard",
            description="500 hard user prompts; a judge compares the answer with gpt-4-0314's in both orders; "
            "Bradley-Terry win rate with a bootstrap interval.",
            tags=("arena", "llm_judge"),
            dataset_id="AI-ModelScope/arena-hard-auto-v0.1",
            metrics=("win_rate",),
            aggregations={"win_rate": "bradley_terry"},
            scoring_policy="judge_only",
            judge_scorer="arena_hard_battle",
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2406.11939",
            sample_counts={"default": 500},
        ),
        BenchmarkSpec(
            name="general_arena",
            pretty_name="GeneralArena",
            impl="evalscope_native.benchmarks.general_arena:GeneralArena",
            description="Models compared pairwise on answers earlier runs recorded; Bradley-Terry ratings, "
            "win rates with bootstrap intervals, Elo and length control (docs/arena.md).",
            tags=("arena", "llm_judge"),
            dataset_id="general_arena",
            local_only=True,
            metrics=("winrate", "winrate_lower", "winrate_upper"),
            aggregations={v: f"arena_{v}" for v in ("winrate", "winrate_lower", "winrate_upper")},
            scoring_policy="judge_only",
            judge_scorer="general_arena_battle",
            version="1.0.0",
        ),
        BenchmarkSpec(
            name="mt_bench",
            pretty_name="MT-Bench",
            impl="evalscope_native.benchmarks.mt_bench:MTBench",
            description="80 two-turn questions in 8 categories; a judge rates each turn 1-10 "
            "(reference-guided for reasoning, math, coding).",
            tags=("multi_turn", "chat", "llm_judge"),
            dataset_id="HuggingFaceH4/mt_bench_prompts",
            subsets=(
                "writing",
                "roleplay",
                "reasoning",
                "math",
                "coding",
                "extraction",
                "stem",
                "humanities",
            ),
            eval_split="train",
            metrics=("judge_score", "first_turn_judge_score", "second_turn_judge_score"),
            scoring_policy="judge_only",
            judge_scorer="mt_bench_rating",
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2306.05685",
            sample_counts={
                c: 10
                for c in (
                    "writing",
                    "roleplay",
                    "reasoning",
                    "math",
                    "coding",
                    "extraction",
                    "stem",
                    "humanities",
                )
            },  # fmt: skip
        ),
    ]
