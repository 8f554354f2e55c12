"""Math and reasoning: math_500, competition_math, aime24, aime25, bbh.

Cheap to build: `evalscope list` imports no Math-Verify (bbh.py, read for its task list, needs only the
standard library and the core). Hub ids are EvalScope 1.14.1's Hugging Face ids; `competition_math`
has none there, so it is EvalScope's own id.
"""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks.bbh import TASKS as BBH_TASKS
from evalscope_native.benchmarks.bbh import TEST_COUNTS as BBH_COUNTS

#: the Math-Verify scoring process starts while the CLI imports and plans (evalscope.cli.boot)
PRESTART = "evalscope_native.benchmarks.math_equivalence:warm_up"
_PKG = "evalscope_native.benchmarks"
LEVELS = ("Level 1", "Level 2", "Level 3", "Level 4", "Level 5")


def specs() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="math_500",
            pretty_name="MATH-500",
            impl=f"{_PKG}.math_500:Math500",
            prestart=PRESTART,
            scorer="math_verify",
            description="500 MATH competition problems (PRM800K test split) by level; answers checked by Math-Verify.",
            tags=("math", "reasoning"),
            aliases=("math500",),
            dataset_id="HuggingFaceH4/MATH-500",
            subsets=LEVELS,
            sample_counts={"Level 1": 43, "Level 2": 90, "Level 3": 105, "Level 4": 128, "Level 5": 134},
            eval_split="test",
            few_shot_num=0,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2305.20050",
        ),
        BenchmarkSpec(
            name="competition_math",
            pretty_name="Competition-MATH",
            impl=f"{_PKG}.competition_math:CompetitionMath",
            prestart=PRESTART,
            scorer="math_verify",
            description="The 5,000 MATH test problems by level, 4-shot from train; answers checked by Math-Verify.",
            tags=("math", "reasoning"),
            dataset_id="evalscope/competition_math",
            subsets=LEVELS,
            sample_counts={"Level 1": 437, "Level 2": 894, "Level 3": 1131, "Level 4": 1214, "Level 5": 1324},
            eval_split="test",
            few_shot_split="train",
            few_shot_num=4,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2103.03874",
        ),
        BenchmarkSpec(
            name="aime24",
            pretty_name="AIME-2024",
            impl=f"{_PKG}.aime:AIME",
            prestart=PRESTART,
            scorer="math_verify",
            judge_scorer="aime_equivalence",
            description="AIME 2024 I and II: 30 problems with integer answers 0-999; zero-shot.",
            tags=("math", "reasoning"),
            dataset_id="math-ai/aime24",
            sample_counts={"default": 30},
            eval_split="test",
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://artofproblemsolving.com/wiki/index.php/2024_AIME_I",
        ),
        BenchmarkSpec(
            name="aime25",
            pretty_name="AIME-2025",
            impl=f"{_PKG}.aime:AIME",
            prestart=PRESTART,
            scorer="math_verify",
            judge_scorer="aime_equivalence",
            description="AIME 2025 I and II: 30 problems with integer answers 0-999; zero-shot.",
            tags=("math", "reasoning"),
            dataset_id="math-ai/aime25",
            sample_counts={"default": 30},
            eval_split="test",
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://artofproblemsolving.com/wiki/index.php/2025_AIME_I",
        ),
        BenchmarkSpec(
            name="bbh",
            pretty_name="BBH",
            impl=f"{_PKG}.bbh:BBH",
            description="BIG-Bench Hard: 27 reasoning tasks, 3-shot chain-of-thought (release prompts) or zero-shot.",
            tags=("reasoning",),
            dataset_id="lukaemon/bbh",
            subsets=BBH_TASKS,
            sample_counts=BBH_COUNTS,
            eval_split="test",
            few_shot_num=3,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2210.09261",
        ),
    ]
