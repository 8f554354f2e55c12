"""The multimodal family's specs: general_vqa, mmmu, math_vista (EvalScope 1.14.1's settings)."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec, ScorerSpec

from evalscope_native.families.multimodal.subjects import MMMU_SUBJECTS

_HERE = "evalscope_native.families.multimodal"


def specs() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="general_vqa",
            pretty_name="General-VQA",
            impl=f"{_HERE}.general_vqa:GeneralVQA",
            scorer="text_overlap",
            description="Your own image questions (OpenAI chat messages with image parts, or <image N> "
            "placeholders); BLEU and ROUGE against the answer.",
            tags=("qa", "custom", "multi_modal"),
            dataset_id="general_vqa",
            local_only=True,
            subsets=("default",),
            eval_split="test",
            metrics=(
                "Rouge-L-R",
                "bleu-1",
                "bleu-2",
                "bleu-3",
                "bleu-4",
                "Rouge-1-R",
                "Rouge-1-P",
                "Rouge-1-F",
                "Rouge-2-R",
                "Rouge-2-P",
                "Rouge-2-F",
                "Rouge-L-P",
                "Rouge-L-F",
            ),  # fmt: skip
            version="1.1.0",
        ),
        BenchmarkSpec(
            name="mmmu",
            pretty_name="MMMU",
            impl=f"{_HERE}.mmmu:MMMU",
            scorer="mmmu_acc",
            description="College-level questions on 30 subjects with up to 7 images each; multiple choice "
            "(letter) and open answers (MMMU's official open scoring).",
            tags=("multi_modal", "knowledge", "qa"),
            dataset_id="MMMU/MMMU",
            subsets=MMMU_SUBJECTS,
            eval_split="validation",
            metrics=("acc",),
            version="1.2.0",
            paper_url="https://arxiv.org/abs/2311.16502",
        ),
        BenchmarkSpec(
            name="math_vista",
            pretty_name="MathVista",
            impl=f"{_HERE}.math_vista:MathVista",
            scorer="math_vista_acc",
            description="Mathematical reasoning over figures (testmini): letters for multiple choice, "
            "Math-Verify for free-form answers in \\boxed{}.",
            tags=("math", "reasoning", "multiple_choice", "multi_modal"),
            dataset_id="AI4Math/MathVista",
            subsets=("default",),
            sample_counts={"default": 1000},
            eval_split="testmini",
            metrics=("acc",),
            version="1.1.0",
            paper_url="https://arxiv.org/abs/2310.02255",
        ),
    ]


def scorer_specs() -> list[ScorerSpec]:
    scorers = f"{_HERE}.scorers"
    return [
        ScorerSpec(name="mmmu_acc", impl=f"{scorers}:mmmu_acc", values=("acc",),
                   description="MMMU: the letter (multiple choice), MMMU's official open-answer match (open)."),
        ScorerSpec(name="math_vista_acc", impl=f"{scorers}:math_vista_acc", values=("acc",),
                   description="MathVista: exact letter (multiple choice), Math-Verify equivalence (free form)."),
    ]  # fmt: skip
