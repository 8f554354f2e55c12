"""Knowledge multiple choice: cmmlu, ceval, mmlu_pro, mmlu_redux, gpqa_diamond, race.

Defaults (splits, few-shot numbers, categories) are EvalScope 1.14.1's; `dataset_id`s are the
Hugging Face ids of the data EvalScope reads (it defaults to ModelScope mirrors of them).
"""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks.knowledge_subjects import CEVAL, CMMLU, MMLU_PRO_TEST_COUNTS
from evalscope_native.benchmarks.mmlu import SUBJECTS as MMLU_SUBJECTS

_IMPL = "evalscope_native.benchmarks."


def specs() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="cmmlu",
            pretty_name="C-MMLU",
            impl=_IMPL + "cmmlu:CMMLU",
            description="67-subject Chinese knowledge multiple choice; Chinese CoT prompt, answer '答案：X'.",
            tags=("knowledge", "multiple_choice", "chinese"),
            dataset_id="haonan-li/cmmlu",
            subsets=tuple(CMMLU),
            sample_counts={subject: rows for subject, (_, rows) in CMMLU.items()},
            eval_split="test",
            few_shot_split="dev",
            few_shot_num=0,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2306.09212",
        ),
        BenchmarkSpec(
            name="ceval",
            pretty_name="C-Eval",
            impl=_IMPL + "ceval:CEval",
            description="52-subject Chinese exam multiple choice; scored on val, 5-shot from dev with explanations.",
            tags=("knowledge", "multiple_choice", "chinese"),
            dataset_id="ceval/ceval-exam",
            subsets=tuple(CEVAL),
            sample_counts={subject: rows for subject, (_, _, rows) in CEVAL.items()},
            eval_split="val",
            few_shot_split="dev",
            few_shot_num=5,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2305.08322",
        ),
        BenchmarkSpec(
            name="mmlu_pro",
            pretty_name="MMLU-Pro",
            impl=_IMPL + "mmlu_pro:MMLUPro",
            description="Harder MMLU: 14 categories, up to 10 options, 5-shot CoT from validation.",
            tags=("knowledge", "multiple_choice"),
            dataset_id="TIGER-Lab/MMLU-Pro",
            subsets=tuple(MMLU_PRO_TEST_COUNTS),
            sample_counts=dict(MMLU_PRO_TEST_COUNTS),
            eval_split="test",
            few_shot_split="validation",
            few_shot_num=5,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2406.01574",
        ),
        BenchmarkSpec(
            name="mmlu_redux",
            pretty_name="MMLU-Redux",
            impl=_IMPL + "mmlu_redux:MMLURedux",
            description="MMLU re-annotated (100 per subject), scored against corrected answers; zero-shot CoT.",
            tags=("knowledge", "multiple_choice"),
            dataset_id="edinburgh-dawg/mmlu-redux-2.0",
            subsets=MMLU_SUBJECTS,
            sample_counts=dict.fromkeys(MMLU_SUBJECTS, 100),
            eval_split="test",
            few_shot_split=None,
            few_shot_num=0,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2406.04127",
        ),
        BenchmarkSpec(
            name="gpqa_diamond",
            pretty_name="GPQA-Diamond",
            impl=_IMPL + "gpqa:GPQADiamond",
            description="198 graduate-level science questions; options shuffled per question, zero-shot CoT.",
            tags=("knowledge", "multiple_choice"),
            dataset_id="Idavidrein/gpqa",
            subsets=("gpqa_diamond",),
            sample_counts={"gpqa_diamond": 198},
            eval_split="train",
            few_shot_split=None,
            few_shot_num=0,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2311.12022",
        ),
        BenchmarkSpec(
            name="race",
            pretty_name="RACE",
            impl=_IMPL + "race:RACE",
            description="English reading comprehension from Chinese school exams (high, middle); 3-shot CoT.",
            tags=("reasoning", "multiple_choice"),
            dataset_id="ehovy/race",
            subsets=("high", "middle"),
            sample_counts={"high": 3498, "middle": 1436},
            eval_split="test",
            few_shot_split="train",
            few_shot_num=3,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/1704.04683",
        ),
    ]
