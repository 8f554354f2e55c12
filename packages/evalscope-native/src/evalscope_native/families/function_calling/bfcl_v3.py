"""bfcl_v3: the Berkeley Function Calling Leaderboard v3 (`AI-ModelScope/bfcl_v3`), single-turn subsets.

EvalScope 1.14.1's adapter, with its data (the hub's one table; each row's `subset` column picks the
subset, `functions`/`tools`/`turns`/`ground_truth` are JSON strings) and its two modes
(`extra_params`): `is_fc_model` true (default) sends the first turn without its system message and
the row's `tools` through the OpenAI tools API, and reads the tool calls; false sends the turn as it
is (the system prompt lists the functions) and parses the reply as Python calls `[f(a=1)]`.
`underscore_to_dot` (default true) expects dotted function names with `_`, as OpenAI-style FC models
must name them.

Scored with BFCL's AST checker (bfcl_ast.py); `irrelevance` / `live_irrelevance` pass when the model
makes no call, `live_relevance` when it makes one. The report's `extra["bfcl"]` has EvalScope's
summary rows: non_live, live, multi_turn and overall, averaged as EvalScope averages them.
java / javascript run with the tools API only (their values are strings in that language's syntax,
converted by BFCL's converters); prompt mode decodes Python calls and leaves them out. Not here yet:
the multi_turn_* subsets (BFCL's executable environments); asking for them fails before the run.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from evalscope.benchmark import Benchmark, SampleInputError
from evalscope.contracts import ChatMessage, Sample
from evalscope.errors import ConfigError
from evalscope.scoring import Score

from evalscope_native.families.function_calling.bfcl_ast import (
    ast_checker,
    decode_ast_prompting,
    is_empty_output,
)
from evalscope_native.families.function_calling.tool_schema import check_tools, parse_arguments

if TYPE_CHECKING:
    from evalscope.report import Report, SampleRecord

__all__ = ["BFCLv3", "CATEGORIES", "bfcl_scorer"]

log = logging.getLogger("evalscope.native")

CATEGORIES = {
    "simple": "AST_NON_LIVE",
    "multiple": "AST_NON_LIVE",
    "parallel": "AST_NON_LIVE",
    "parallel_multiple": "AST_NON_LIVE",
    "java": "AST_NON_LIVE",
    "javascript": "AST_NON_LIVE",
    "live_simple": "AST_LIVE",
    "live_multiple": "AST_LIVE",
    "live_parallel": "AST_LIVE",
    "live_parallel_multiple": "AST_LIVE",
    "irrelevance": "RELEVANCE",
    "live_relevance": "RELEVANCE",
    "live_irrelevance": "RELEVANCE",
}
NOT_YET = ("multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context")
PROMPT_PYTHON_ONLY = ("java", "javascript")  # prompt mode decodes Python calls only
_RELEVANCE = ("irrelevance", "live_irrelevance", "live_relevance")


class BFCLv3(Benchmark):
    @property
    def is_fc_model(self) -> bool:
        return bool(self.args.extra_params.get("is_fc_model", True))

    @property
    def underscore_to_dot(self) -> bool:
        return bool(self.args.extra_params.get("underscore_to_dot", True))

    def subsets(self) -> list[str]:
        later = [s for s in self.args.subset_list or [] if s in NOT_YET]
        if later:
            raise ConfigError(
                f"bfcl_v3 subset(s) {', '.join(later)} are not supported by this edition yet: the multi-turn "
                "subsets need BFCL's executable environments.",
                hint=f"choose from {', '.join(CATEGORIES)} (the single-turn subsets)",
            )
        chosen = super().subsets()
        if not self.is_fc_model:
            asked = [s for s in self.args.subset_list or [] if s in PROMPT_PYTHON_ONLY]
            if asked:
                raise ConfigError(
                    f"bfcl_v3 in prompt mode (is_fc_model false) decodes Python calls only; {', '.join(asked)} "
                    "needs BFCL's Java/JavaScript parsers, which this edition does not have.",
                    hint="evaluate java/javascript with the tools API (is_fc_model true), or leave them out",
                )
            dropped = [s for s in chosen if s in PROMPT_PYTHON_ONLY]
            if dropped:
                log.warning("bfcl_v3 prompt mode: %s left out (Python calls only)", ", ".join(dropped))
            chosen = [s for s in chosen if s not in PROMPT_PYTHON_ONLY]
        return chosen

    def data_subset(self, subset: str) -> str:
        return "default"  # the hub's one table; the `subset` column picks the rows

    def keep_record(self, record: dict[str, Any], subset: str) -> bool:
        return bool(record.get("subset") == subset)

    def category_of(self, subset: str) -> str:
        return CATEGORIES.get(subset, "default")

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        turns = _json(record["turns"])
        messages = list(turns[0]) if turns else []
        if self.is_fc_model and messages and messages[0].get("role") == "system":
            messages = messages[1:]  # EvalScope drops the prompting system message for FC models
        user = [str(m.get("content") or "") for m in messages if m.get("role") == "user"]
        return Sample(
            id=str(record.get("id", f"{subset}/{index}")),
            input=user[-1] if user else "",
            target=json.dumps(_json(record.get("ground_truth", "{}"))),
            subset=subset,
            metadata={
                "test_category": str(record.get("test_category", subset)),
                "language": str(record.get("language") or "python").lower(),
                "functions": _json(record["functions"]),
                "tools": _json(record["tools"]),
                "ground_truth": _json(record.get("ground_truth", "{}")),
                "messages": messages,
            },
        )

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        return [
            ChatMessage(role=m["role"], content=str(m.get("content") or ""))
            for m in sample.metadata["messages"]
            if m.get("role") in ("system", "user", "assistant")
        ]

    def request_tools(
        self, sample: Sample
    ) -> tuple[list[dict[str, Any]] | None, str | dict[str, Any] | None]:
        if not self.is_fc_model:
            return None, None
        try:
            sent = check_tools(sample.metadata["tools"])
        except ValueError as exc:
            raise SampleInputError(f"bfcl_v3 sample {sample.id}: {exc}") from None
        return (sent, "auto") if sent else (None, None)  # EvalScope: tool_choice auto, no tools when none

    def finalize_report(self, report: Report, records: Sequence[SampleRecord]) -> Report:
        """EvalScope's summary rows (its `_on_generate_report_end`) in `extra["bfcl"]`."""
        subsets: dict[str, tuple[float, int]] = {}
        for metric in report.metrics[:1]:
            for category in metric.categories:
                for s in category.subsets:
                    subsets[s.name] = (s.score, s.num)
        report.extra["bfcl"] = summary(subsets)
        return report


def summary(subsets: dict[str, tuple[float, int]]) -> dict[str, dict[str, float]]:
    """non_live / live / multi_turn / overall from (score, num) per subset, as EvalScope 1.14.1 combines them."""
    d = dict(subsets)

    def weighted(names: list[str]) -> tuple[float, int]:
        total = sum(d[n][1] for n in names if n in d)
        return (sum(d[n][0] * d[n][1] for n in names if n in d) / total if total else 0.0), total

    def unweighted(names: list[str]) -> tuple[float, int]:
        present = [d[n] for n in names if n in d and d[n][1] > 0]
        return (sum(s for s, _ in present) / len(present) if present else 0.0), sum(n for _, n in present)

    d["simple_ast"] = unweighted(["simple", "java", "javascript"])
    d["ast_non_live"] = unweighted(["simple_ast", "multiple", "parallel", "parallel_multiple"])
    d["ast_live"] = weighted(["live_simple", "live_multiple", "live_parallel", "live_parallel_multiple"])
    d["hallucination_non_live"] = d.get("irrelevance", (0.0, 0))
    d["hallucination_live"] = weighted(["live_irrelevance", "live_relevance"])
    d.setdefault("multi_turn_base", (0.0, 0))
    d["multi_turn_augmented"] = weighted(
        ["multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context"]
    )
    d["non_live"] = unweighted(["ast_non_live", "hallucination_non_live"])
    d["live"] = weighted(["ast_live", "hallucination_live"])
    d["multi_turn"] = unweighted(["multi_turn_base", "multi_turn_augmented"])
    d["overall"] = unweighted(["non_live", "live", "multi_turn"])
    return {n: {"score": d[n][0], "num": d[n][1]} for n in ("non_live", "live", "multi_turn", "overall")}


class BFCLScorer:
    values = ("acc",)

    def __init__(self, benchmark: BFCLv3) -> None:
        self.fc = benchmark.is_fc_model
        self.underscore_to_dot = benchmark.underscore_to_dot

    def _decoded(self, sample: Sample, completion: str) -> list[Any]:
        """EvalScope's decoding of the first turn's reply; raises where EvalScope's does."""
        if not self.fc:
            return decode_ast_prompting(completion)
        calls = sample.metadata.get("tool_calls") or []
        tools = sample.metadata["tools"]
        # Text without calls is kept as text, which has no `.keys()`: decoding it fails, as upstream.
        generation: list[Any] = (
            [{c["function"]["name"]: parse_arguments(c["function"].get("arguments", ""), c["function"]["name"], tools)}
             for c in calls]
            if calls else [completion]
        )  # fmt: skip
        return [{list(call.keys())[0]: call[list(call.keys())[0]]} for call in generation]

    def __call__(self, sample: Sample, completion: str, extracted: str) -> Score:
        category = sample.metadata["test_category"]
        if category in _RELEVANCE:
            error = None
            try:
                contains_call = not is_empty_output(self._decoded(sample, completion))
                if not contains_call:
                    error = "Empty decoded output."
            except Exception:  # noqa: BLE001 - a reply that does not decode holds no call
                contains_call = False
                error = f"Failed to decode with traceback: {traceback.format_exc(limit=1)}"
            valid = contains_call if category == "live_relevance" else not contains_call
            result: dict[str, Any] = {"valid": valid, "error": [error] if error else []}
        else:
            try:
                result = ast_checker(
                    sample.metadata["functions"],
                    self._decoded(sample, completion),
                    sample.metadata["ground_truth"],
                    category,
                    self.underscore_to_dot,
                    sample.metadata.get("language", "python"),
                )
            except Exception:  # noqa: BLE001 - upstream: any decoding failure is an invalid answer
                result = {
                    "valid": False,
                    "error": [f"Invalid syntax. Failed to decode AST. {traceback.format_exc(limit=1)}"],
                    "error_type": "ast_decoder:decoder_failed",
                }
        errors = result.get("error") or []
        return Score(
            values={"acc": float(result["valid"])},
            answer=json.dumps(sample.metadata.get("tool_calls") or [], ensure_ascii=False)
            if self.fc
            else extracted,
            explanation="; ".join(map(str, errors)) or None,
            metadata={"error_type": result.get("error_type", "")} if not result["valid"] else {},
        )


def bfcl_scorer(benchmark: Any) -> BFCLScorer:
    return BFCLScorer(benchmark)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
