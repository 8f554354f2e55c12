"""longbench_write: long-output writing (LongWriter's LongBench-Write, as EvalScope 1.14.1's
`third_party/longbench_write` scores it).

Records (`<data dir>/longbench_write/` or `local_path`; EvalScope ships them as
`third_party/longbench_write/resources/longbench_write.jsonl`): `prompt` (sent as it is, one user
message), `type`, `length` (the words asked for). Two values a sample:

* `score_l` (rule): 100 × max(0, 1 − (y/x − 1)/3) when the reply is longer than asked, else
  100 × max(0, 1 − (x/y − 1)/2), x the required and y the reply's length in words (English words +
  Chinese characters, EvalScope's `count_words`);
* `score_q` (the judge, EvalScope's `judge.txt`): six dimensions rated 1-5, each mapped to (s − 1) × 25,
  averaged. EvalScope averages each dimension over samples first; the mean is linear, so the totals agree.

EvalScope's own settings, to pass for equal numbers: `--generation-config '{"max_tokens": 32768,
"temperature": 0.5}'` for the model, a judge with temperature 0.5 and max_tokens 1024 (gpt-4o-2024-05-13).
"""

from __future__ import annotations

import re
from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.contracts import ChatMessage, Sample

_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_ENGLISH = re.compile(r"\b[a-zA-Z]+\b")


def count_words(text: str) -> int:
    """English words plus Chinese characters (EvalScope's `count_words`)."""
    return len(_CHINESE.findall(text)) + len(_ENGLISH.findall(text))


def length_score(required: int, produced: int) -> float:
    """EvalScope's `EvalLength.score(x, y)` (an empty reply, y = 0, scores 0 where EvalScope divides by 0)."""
    x, y = required, produced
    if y > x:
        return 100 * max(0.0, 1.0 - (y / x - 1) / 3)
    if y == 0:
        return 0.0
    return 100 * max(0.0, 1.0 - (x / y - 1) / 2)


class LongBenchWrite(Benchmark):
    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        length = int(record["length"])
        if length <= 0:
            raise ValueError(f"'length' must be a positive number of words, got {record['length']!r}")
        return Sample(
            id=f"{subset}/{index}",
            input=str(record["prompt"]),
            target="",
            subset=subset,
            metadata={"length": length, "type": record.get("type")},
        )

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        messages = [ChatMessage(role="user", content=self.prompt_template.format(question=sample.input))]
        if self.args.system_prompt:
            messages.insert(0, ChatMessage(role="system", content=self.args.system_prompt))
        return messages

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        return prediction  # the whole reply is the text whose length and quality are scored
