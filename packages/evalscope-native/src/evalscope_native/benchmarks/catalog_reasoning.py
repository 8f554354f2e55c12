"""Commonsense/truthfulness multiple choice: hellaswag, truthful_qa, boolq, winogrande.

Settings follow EvalScope 1.14.1 (splits, 0-shot, metrics); `dataset_id`s are the Hugging Face ids
EvalScope uses with `dataset_hub: huggingface`. Adapters: `benchmarks/<name>.py`.
"""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec

_PKG = "evalscope_native.benchmarks"


def specs() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="hellaswag",
            pretty_name="HellaSwag",
            impl=f"{_PKG}.hellaswag:HellaSwag",
            description="Commonsense sentence completion: the most plausible of four endings (validation).",
            tags=("commonsense", "multiple_choice", "knowledge"),
            dataset_id="Rowan/hellaswag",
            subsets=("default",),
            sample_counts={"default": 10042},
            eval_split="validation",
            few_shot_split=None,
            few_shot_num=0,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/1905.07830",
        ),
        BenchmarkSpec(
            name="truthful_qa",
            pretty_name="TruthfulQA",
            impl=f"{_PKG}.truthful_qa:TruthfulQA",
            scorer="multi_choice_acc",
            description="Questions that invite common misconceptions; MC1 (default) or MC2 lettered choices.",
            tags=("knowledge", "multiple_choice"),
            # the local copy in ../shared/data is named `truthfulqa`
            aliases=("truthfulqa",),
            dataset_id="truthfulqa/truthful_qa",
            subsets=("multiple_choice",),
            sample_counts={"multiple_choice": 817},
            eval_split="validation",
            few_shot_split=None,
            few_shot_num=0,
            metrics=("multi_choice_acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/2109.07958",
        ),
        BenchmarkSpec(
            name="boolq",
            pretty_name="BoolQ",
            impl=f"{_PKG}.boolq:BoolQ",
            description="Yes/no questions about a Wikipedia passage, as a two-choice question.",
            tags=("reading_comprehension", "multiple_choice"),
            dataset_id="google/boolq",
            subsets=("default",),
            sample_counts={"default": 3270},
            eval_split="validation",
            few_shot_split="train",
            few_shot_num=0,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/1905.10044",
        ),
        BenchmarkSpec(
            name="winogrande",
            pretty_name="Winogrande",
            impl=f"{_PKG}.winogrande:Winogrande",
            description="Winograd-style pronoun resolution: which of two options fills the blank.",
            tags=("reasoning", "multiple_choice"),
            dataset_id="liyucheng/winogrande_val",
            subsets=("default",),
            sample_counts={"default": 1267},
            eval_split="validation",
            few_shot_split=None,
            few_shot_num=0,
            metrics=("acc",),
            version="1.0.0",
            paper_url="https://arxiv.org/abs/1907.10641",
        ),
    ]
