"""RAGAS metric names → ragas 0.4's metric classes (`ragas.metrics.collections`), and what each needs.

EvalScope's names (`faithfulness`, `answer_relevancy`, `context_precision`, `context_recall`,
`answer_correctness`, …) are the snake_case of the class names; CamelCase works too. Any metric of
the collection whose inputs a test set can provide (question, answer, contexts, ground truth) is
accepted; what each one needs is read from its `ascore` signature, so the test set is checked
against the chosen metrics before the run starts.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any

from evalscope.errors import UnknownNameError

SAMPLE_FIELDS = ("user_input", "response", "retrieved_contexts", "reference", "reference_contexts")
ALIASES = {
    "answer_similarity": "semantic_similarity",
    "response_relevancy": "answer_relevancy",
    "context_precision_with_reference": "context_precision",
}
# Collection members that score something other than a RAG sample (agents, tools, SQL tables)
_EXCLUDED = {
    "BaseMetric",
    "DistanceMeasure",
    "ToolCallAccuracy",
    "ToolCallF1",
    "TopicAdherence",
    "DataCompyScore",
}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class MetricInfo:
    name: str
    cls: Any
    needs: tuple[str, ...]  # sample fields ascore requires
    uses_llm: bool
    uses_embeddings: bool

    def build(self, llm: Any, embeddings: Any) -> Any:
        params = inspect.signature(self.cls.__init__).parameters
        kwargs: dict[str, Any] = {}
        if "llm" in params:
            kwargs["llm"] = llm
        if "embeddings" in params:
            kwargs["embeddings"] = embeddings
        metric = self.cls(**kwargs)
        return metric


def available() -> dict[str, Any]:
    import ragas.metrics.collections as collections

    out: dict[str, Any] = {}
    for cls_name in collections.__all__:
        if cls_name in _EXCLUDED:
            continue
        cls = getattr(collections, cls_name, None)
        if isinstance(cls, type) and hasattr(cls, "ascore"):
            out.setdefault(snake(cls_name), cls)
    return out


def resolve_metric(name: str) -> MetricInfo:
    table = available()
    key = ALIASES.get(snake(name.strip()), snake(name.strip()))
    cls = table.get(key)
    if cls is None:
        raise UnknownNameError(
            "RAGAS metric",
            name,
            list(table),
            hint="EvalScope's names: faithfulness, answer_relevancy, "
            "context_precision, context_recall, answer_correctness",
        )
    init = inspect.signature(cls.__init__).parameters
    score = inspect.signature(cls.ascore).parameters
    needs = tuple(
        p for p, spec in score.items() if p in SAMPLE_FIELDS and spec.default is inspect.Parameter.empty
    )
    unknown = [
        p
        for p, spec in score.items()
        if p not in SAMPLE_FIELDS and p not in ("self", "kwargs") and spec.default is inspect.Parameter.empty
    ]
    if unknown:
        raise UnknownNameError(
            "RAGAS metric for RAG test sets",
            name,
            [k for k in table if k != key],
            hint=f"{name} needs {', '.join(unknown)}, which a (question, contexts, answer, ground truth) test set lacks",
        )
    return MetricInfo(key, cls, needs, "llm" in init, "embeddings" in init)
