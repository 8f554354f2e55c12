"""TriviaQA (reading comprehension, `rc.wikipedia`), EvalScope 1.14.1's prompt and scoring.

The prompt holds the question's Wikipedia evidence (`entity_pages.wiki_context`) and asks for a last
line "ANSWER: ...". The text after the last "ANSWER:" marker (else the whole reply) is normalised as
the official TriviaQA evaluation does, and is right when it equals one of the answer's aliases or
normalised aliases (EvalScope's `acc` with `allow_inclusion`: whole-string equality after stripping
and lower-casing, and an empty answer is never right).
"""

from __future__ import annotations

import re
import string
from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs
from evalscope.contracts import Sample
from evalscope.errors import ConfigError
from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks.metric_selection import select_metrics

PROMPT = (
    "Read the content and answer the following question.\n\n"
    "Content: {content}\n\n"
    "Question: {question}\n\n"
    'The last line of your response should be of the form "ANSWER: [ANSWER]" (without quotes) where '
    "[ANSWER] is the answer to the problem.\n"
)

# the official evaluation turns these into spaces (curly quotes and accents included)
_PUNCTUATION = frozenset(string.punctuation + "‘’´`")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
# 'ANSWER:' in any case, inside or around markdown bold ('**ANSWER: 45**', 'ANSWER: **45**')
_MARKER = re.compile(r"(?i)ANSWER\s*:\s*\**\s*")


def normalize_answer(text: str) -> str:
    """TriviaQA's normal form: lower case, '_' and punctuation to spaces, no articles, single spaces."""
    text = "".join(" " if ch in _PUNCTUATION else ch for ch in text.replace("_", " ").lower())
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_line(text: str) -> str | None:
    """The rest of the line after the last 'ANSWER:' marker, bold markers removed; None without one."""
    markers = list(_MARKER.finditer(text))
    if not markers:
        return None
    return text[markers[-1].end() :].split("\n", 1)[0].strip().strip("*").strip()


def aliases(record: dict[str, Any]) -> list[str]:
    """The accepted answers: aliases then normalised aliases, stripped, blank and repeated ones dropped."""
    answer = record["answer"]
    values = [str(a).strip() for a in [*answer["aliases"], *answer["normalized_aliases"]]]
    return list(dict.fromkeys(v for v in values if v))


class TriviaQA(Benchmark):
    prompt_template = PROMPT
    scorer_kwargs = {"nonempty": True}  # an empty answer never counts, whatever the targets

    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None, seed: int | None = None) -> None:
        super().__init__(spec, args, seed)
        if self.few_shot_num:  # EvalScope refuses too: it has no examples to show
            raise ConfigError(
                "trivia_qa is zero-shot only (as in EvalScope 1.14.1).",
                hint="drop few_shot_num or set it to 0",
            )
        self.check_prompt_template(
            "use {content} (the Wikipedia evidence) and {question}", content="", question=""
        )
        self._metrics = select_metrics(self.name, self.args.metric_list, spec.metrics)

    @property
    def metrics(self) -> list[str]:
        return list(self._metrics)

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(
            id=str(record.get("question_id") or f"{subset}/{index}"),
            input=record["question"],
            target=aliases(record),
            subset=subset,
            # EvalScope formats the evidence as it comes: on the hub it is a list of page texts, and
            # the prompt shows that list's Python repr ("['Andrew Lloyd Webber, ...']").
            metadata={"content": record["entity_pages"]["wiki_context"]},
        )

    def format_prompt(self, sample: Sample, fewshot: str | None) -> str:
        return self.prompt_template.format(content=sample.metadata["content"], question=sample.input)

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        line = answer_line(prediction)
        return normalize_answer(line if line is not None else prediction)
