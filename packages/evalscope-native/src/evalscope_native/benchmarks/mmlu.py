"""MMLU: 57 subjects in four categories, 5-shot from each subject's dev split, CoT template."""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.multiple_choice import SINGLE_ANSWER_COT, MultipleChoiceBenchmark

# subject -> category (STEM, Humanities, Social Science, Other), as EvalScope reports them
CATEGORIES: dict[str, str] = {
    "abstract_algebra": "STEM",
    "anatomy": "Other",
    "astronomy": "STEM",
    "business_ethics": "Other",
    "clinical_knowledge": "Other",
    "college_biology": "STEM",
    "college_chemistry": "STEM",
    "college_computer_science": "STEM",
    "college_mathematics": "STEM",
    "college_medicine": "Other",
    "college_physics": "STEM",
    "computer_security": "STEM",
    "conceptual_physics": "STEM",
    "econometrics": "Social Science",
    "electrical_engineering": "STEM",
    "elementary_mathematics": "STEM",
    "formal_logic": "Humanities",
    "global_facts": "Other",
    "high_school_biology": "STEM",
    "high_school_chemistry": "STEM",
    "high_school_computer_science": "STEM",
    "high_school_european_history": "Humanities",
    "high_school_geography": "Social Science",
    "high_school_government_and_politics": "Social Science",
    "high_school_macroeconomics": "Social Science",
    "high_school_mathematics": "STEM",
    "high_school_microeconomics": "Social Science",
    "high_school_physics": "STEM",
    "high_school_psychology": "Social Science",
    "high_school_statistics": "STEM",
    "high_school_us_history": "Humanities",
    "high_school_world_history": "Humanities",
    "human_aging": "Other",
    "human_sexuality": "Social Science",
    "international_law": "Humanities",
    "jurisprudence": "Humanities",
    "logical_fallacies": "Humanities",
    "machine_learning": "STEM",
    "management": "Other",
    "marketing": "Other",
    "medical_genetics": "Other",
    "miscellaneous": "Other",
    "moral_disputes": "Humanities",
    "moral_scenarios": "Humanities",
    "nutrition": "Other",
    "philosophy": "Humanities",
    "prehistory": "Humanities",
    "professional_accounting": "Other",
    "professional_law": "Humanities",
    "professional_medicine": "Other",
    "professional_psychology": "Social Science",
    "public_relations": "Social Science",
    "security_studies": "Social Science",
    "sociology": "Social Science",
    "us_foreign_policy": "Social Science",
    "virology": "Other",
    "world_religions": "Humanities",
}
SUBJECTS = tuple(CATEGORIES)


class MMLU(MultipleChoiceBenchmark):
    prompt_template = SINGLE_ANSWER_COT

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(
            id=f"{subset}/{index}",
            input=record["question"],
            choices=list(record["choices"]),
            target="ABCD"[int(record["answer"])],
            subset=subset,
            metadata={"subject": record.get("subject", subset)},
        )

    def category_of(self, subset: str) -> str:
        return CATEGORIES.get(subset, "Other")
