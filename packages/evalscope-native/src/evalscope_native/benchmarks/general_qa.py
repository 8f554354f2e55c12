"""general_qa: your own questions with reference answers, as EvalScope 1.14.1's custom QA format.

Files (`local_path` or `dataset_id` = a folder): `<subset>.jsonl` (or `<subset>_test.jsonl`; .csv,
.parquet and .json too), one record per line in one of three shapes:

    {"system": "...", "query": "...", "response": "..."}     (`question` / `answer` work too)
    {"query": "...", "response": "..."}
    {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...], "response": "..."}

The query (or the messages) is sent as it is: EvalScope 1.14.1 builds chat messages for every record,
so its prompt template never applies and there is no few-shot. The reply is scored against the
reference with BLEU-1..4 and ROUGE-1/2/L recall, precision and F (`text_overlap.py`); ROUGE-L recall
is the headline score, as EvalScope's primary metric. A record without a reference is scored against
'' (all zeros), as EvalScope does for reference-free QA (which needs an LLM judge).
"""

from __future__ import annotations

from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs
from evalscope.contracts import ChatMessage, Sample
from evalscope.errors import ConfigError
from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks.metric_selection import select_metrics
from evalscope_native.benchmarks.text_overlap import BLEU_KEYS, ROUGE_KEYS

METRIC_GROUPS = {"BLEU": BLEU_KEYS, "Rouge": ROUGE_KEYS}
_ROLES = ("system", "user", "assistant")


def _text(record: dict[str, Any], *keys: str) -> str | None:
    """The first non-empty value among `keys` (EvalScope's `record.get(a) or record.get(b)`)."""
    for key in keys:
        value = record.get(key)
        if value:
            return value if isinstance(value, str) else str(value)
    return None


def _messages(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise ValueError('\'messages\' must be a non-empty list of {"role", "content"} objects')
    out = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict) or m.get("role") not in _ROLES or not isinstance(m.get("content"), str):
            raise ValueError(
                f'messages[{i}] must be {{"role": "system"|"user"|"assistant", "content": "..."}}, got {m!r}'
            )
        out.append({"role": m["role"], "content": m["content"]})
    return out


class GeneralQA(Benchmark):
    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None, seed: int | None = None) -> None:
        super().__init__(spec, args, seed)
        if self.args.few_shot_num:
            raise ConfigError(
                "general_qa has no few-shot examples (as in EvalScope, each record is sent as it is).",
                hint="put examples into the record's messages, or drop few_shot_num",
            )
        # EvalScope never applies a template to general_qa; a template the user gives is honoured.
        self.user_template = self.args.prompt_template
        if self.user_template is not None:
            try:
                self.user_template.format(question="")
            except (KeyError, IndexError, ValueError) as exc:
                raise ConfigError(
                    f"general_qa prompt_template has an unknown placeholder or a stray brace: {exc}.",
                    hint="use {question} for the query; write a literal brace as {{ or }}",
                ) from None
        # spec.metrics: ROUGE-L recall first (the headline, EvalScope's primary metric), then EvalScope's order
        self._metrics = select_metrics(self.name, self.args.metric_list, spec.metrics, METRIC_GROUPS)

    @property
    def metrics(self) -> list[str]:
        return list(self._metrics)

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        record = {k.lstrip("\ufeff"): v for k, v in record.items()}  # an Excel CSV's byte-order mark
        if record.get("messages"):
            messages = _messages(record["messages"])
        else:
            query = _text(record, "question", "query")
            if query is None:
                raise KeyError("query")  # reported as a missing field with the file and line
            messages = [{"role": "user", "content": query}]
            system = _text(record, "system")
            if system:
                messages.insert(0, {"role": "system", "content": system})
        users = [m["content"] for m in messages if m["role"] == "user"]
        metadata: dict[str, Any] = {"messages": messages}
        if record.get("human_label") not in (None, ""):
            # A person's grade of the answer (1 right / 0 wrong, or a score): judged runs report how often
            # the judge agrees with it (docs/judge.md).
            metadata["human_label"] = record["human_label"]
        return Sample(
            id=f"{subset}/{index}",
            input=users[-1] if users else messages[-1]["content"],
            target=_text(record, "answer", "response") or "",
            subset=subset,
            metadata=metadata,
        )

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        messages = [ChatMessage(role=m["role"], content=m["content"]) for m in sample.metadata["messages"]]
        if self.user_template is not None:
            last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
            if last_user is not None:
                text = self.user_template.format(question=messages[last_user].content)
                messages[last_user] = ChatMessage(role="user", content=text)
        if self.args.system_prompt and not any(m.role == "system" for m in messages):
            messages.insert(0, ChatMessage(role="system", content=self.args.system_prompt))
        return messages

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        # Unchanged: whitespace is a token for jieba, so stripping would change Chinese BLEU.
        return prediction
