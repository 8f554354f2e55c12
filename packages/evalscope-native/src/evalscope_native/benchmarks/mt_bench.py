"""MT-Bench: 80 two-turn questions in 8 categories, each turn rated 1-10 by a judge (EvalScope 1.14.1).

The second question builds on the model's first answer, so the engine asks it as a second turn
(`multi_turn`, `next_turn`). Each category has FastChat's temperature; `max_tokens` is the run's,
else 1024. The hub's records (`HuggingFaceH4/mt_bench_prompts`) name the turns `prompt` and carry a
`prompt_id`; the FastChat file (`question.jsonl`, in `../shared/data/mt_bench`) names them `turns`
and has a `question_id`. Both are read; the id of a FastChat row is the hub's
(sha256 of the joined turns, mod 10**8), so EvalScope's one built-in reference (question 123, which
has none in the data) applies to both. Reference answers are used for reasoning, math and coding.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from evalscope.benchmark import Benchmark
from evalscope.config import GenerationConfig
from evalscope.contracts import ChatMessage, Sample
from evalscope.errors import ConfigError

__all__ = ["MTBench", "CATEGORIES", "REFERENCE_CATEGORIES"]

CATEGORIES = ("writing", "roleplay", "reasoning", "math", "coding", "extraction", "stem", "humanities")
REFERENCE_CATEGORIES = frozenset({"reasoning", "math", "coding"})
TEMPERATURE = {"writing": 0.7, "roleplay": 0.7, "extraction": 0.0, "math": 0.0, "coding": 0.0, "reasoning": 0.0,
               "stem": 0.1, "humanities": 0.1}  # fmt: skip
#: EvalScope 1.14.1's reference for the one coding question the dataset has none for (FastChat's Q123)
FALLBACK_REFERENCES: dict[int, list[str]] = {
    34377376: [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n    <meta charset="UTF-8">\n    <meta name="viewport" content="width=device-width, initial-scale=1.0">\n    <title>Random Joke Generator</title>\n    <style>\n        body { font-family: Arial, sans-serif; text-align: center; background-color: #f0f0f0; }\n        button { font-size: 20px; padding: 10px 20px; cursor: pointer; }\n    </style>\n    <script>\n        function showRandomJoke() {\n            const jokes = [\n                "Why don\'t scientists trust atoms? Because they make up everything!",\n                "Why did the chicken go to the seance? To get to the other side.",\n                "Why don\'t some couples go to the gym? Because some relationships don\'t work out.",\n                "Did you hear about the mathematician who\'s afraid of negative numbers? He\'ll stop at nothing to avoid them!"\n            ];\n            document.getElementById("jokeDisplay").innerHTML = jokes[Math.floor(Math.random() * jokes.length)];\n        }\n    </script>\n</head>\n<body>\n    <h1>Random Joke Generator</h1>\n    <button onclick="showRandomJoke()">Show me a joke!</button>\n    <p id="jokeDisplay"></p>\n</body>\n</html>',
        "Add `#jokeDisplay { color: red; }` to the CSS in the style block to display jokes in red.",
    ]
}


def prompt_id(turns: list[str]) -> int:
    """The hub's `prompt_id` of a question: sha256 of its turns joined, mod 10**8."""
    return int(hashlib.sha256("".join(turns).encode("utf-8")).hexdigest(), 16) % 10**8


class MTBench(Benchmark):
    multi_turn = True
    stored_subset: ClassVar[str] = "default"

    def data_subset(self, subset: str) -> str:
        return self.stored_subset

    def keep_record(self, record: dict[str, Any], subset: str) -> bool:
        return str(record.get("category")) == subset

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        turns = record.get("prompt") or record["turns"]
        if not isinstance(turns, list) or len(turns) != 2 or not all(isinstance(t, str) for t in turns):
            raise ValueError("an MT-Bench question has exactly two string turns")
        pid = int(record.get("prompt_id") or prompt_id(turns))
        category = str(record["category"])
        references = list(record.get("reference") or FALLBACK_REFERENCES.get(pid, []))
        if category in REFERENCE_CATEGORIES and len(references) != 2:
            raise ValueError(f"MT-Bench {category} question {pid} has no two-turn reference answer")
        return Sample(
            id=str(record.get("question_id") or pid),
            input=turns[0],
            target="",
            subset=subset,
            metadata={"category": category, "prompt_id": pid, "turns": turns, "references": references},
        )

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        if fewshot_samples:
            raise ConfigError("mt_bench has no few-shot examples; drop few_shot_num.")
        messages = (
            [ChatMessage(role="system", content=self.args.system_prompt)] if self.args.system_prompt else []
        )
        return [
            *messages,
            ChatMessage(role="user", content=sample.input),
        ]  # the raw turn, as EvalScope sends it

    def generation(self, sample: Sample, base: GenerationConfig) -> GenerationConfig:
        return base.model_copy(
            update={
                "temperature": TEMPERATURE[sample.metadata["category"]],
                "max_tokens": base.effective_max_tokens() or 1024,
                "max_new_tokens": None,
            }  # fmt: skip
        )

    def next_turn(self, sample: Sample, conversation: list[ChatMessage]) -> list[ChatMessage] | None:
        answered = sum(1 for m in conversation if m.role == "assistant")
        turns = sample.metadata["turns"]
        if answered >= len(turns):
            return None
        return [*conversation, ChatMessage(role="user", content=turns[answered])]
