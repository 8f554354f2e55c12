"""bfcl_v3: the Berkeley Function Calling Leaderboard v3 (`AI-ModelScope/bfcl_v3`).

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
java / javascript values are strings in that language's syntax, converted by BFCL's converters; in
prompt mode their replies are read with tree-sitter's Java / JavaScript grammars as BFCL reads them
(bfcl_langs.py).

The multi_turn_* subsets are agent samples (`agent`, `run_agent`): the conversation runs turn by turn
against BFCL's executable environments and is graded by BFCL's multi-turn checker, both in the `bfcl`
engine environment (bfcl_multi_turn.py, bfcl_env.py). Without that environment, naming a multi-turn
subset fails before the run with the install command, and the default subsets leave them out.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from evalscope.benchmark import Benchmark, SampleInputError
from evalscope.contracts import ChatMessage, GenerateRequest, ModelOutput, Sample
from evalscope.errors import MissingDependencyError
from evalscope.scoring import Score

from evalscope_native.families.function_calling.bfcl_ast import (
    ast_checker,
    decode_ast_prompting,
    is_empty_output,
)
from evalscope_native.families.function_calling.bfcl_multi_turn import MULTI_TURN_SUBSETS
from evalscope_native.families.function_calling.tool_schema import check_tools, parse_arguments

if TYPE_CHECKING:
    from evalscope.benchmark import AgentSession
    from evalscope.report import Report, SampleRecord

    from evalscope_native.families.function_calling.bfcl_env import BFCLEnvironments

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
    **{s: "MULTI_TURN" for s in MULTI_TURN_SUBSETS},
}
_RELEVANCE = ("irrelevance", "live_irrelevance", "live_relevance")


class BFCLv3(Benchmark):
    _environments: BFCLEnvironments | None = None
    _chosen: list[str] | None = None

    @property
    def is_fc_model(self) -> bool:
        return bool(self.args.extra_params.get("is_fc_model", True))

    @property
    def underscore_to_dot(self) -> bool:
        return bool(self.args.extra_params.get("underscore_to_dot", True))

    def subsets(self) -> list[str]:
        if self._chosen is None:
            self._chosen = self._choose()
            # multi-turn samples run as agents: the adapter drives each conversation (run_agent)
            self.agent = any(s in MULTI_TURN_SUBSETS for s in self._chosen)
        return list(self._chosen)

    def _choose(self) -> list[str]:
        chosen = super().subsets()
        named = [s for s in self.args.subset_list or [] if s in MULTI_TURN_SUBSETS]
        if any(s in MULTI_TURN_SUBSETS for s in chosen):
            from evalscope_native.families.function_calling.bfcl_env import BFCLEnvironments, find_bfcl

            try:
                self._environments = BFCLEnvironments(find_bfcl().python)
            except MissingDependencyError as exc:
                if named:  # asked for by name: fail before the run, with the install command
                    raise MissingDependencyError(
                        f"bfcl_v3 subset(s) {', '.join(named)} run BFCL's executable environments, which are "
                        f"not installed: {exc.message}",
                        hint=exc.hint,
                    ) from None
                log.warning(
                    "bfcl_v3: multi-turn subsets left out (BFCL's environments are not installed; %s)",
                    exc.hint,
                )
                chosen = [s for s in chosen if s not in MULTI_TURN_SUBSETS]
        return chosen

    def data_subset(self, subset: str) -> str:
        return "default"  # the hub's one table; the `subset` column picks the rows

    def keep_record(self, record: dict[str, Any], subset: str) -> bool:
        return bool(record.get("subset") == subset)

    def category_of(self, subset: str) -> str:
        return CATEGORIES.get(subset, "default")

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        if subset in MULTI_TURN_SUBSETS:
            return self._multi_turn_sample(record, subset, index)
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

    def _multi_turn_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        """A multi-turn row (EvalScope's `preprocess_row`): every turn's messages, the system message of
        each dropped for FC models; the environments' `initial_config` and `involved_classes`; the
        held-out functions by turn (`missed_functions`); the ground truth as call strings per turn."""
        turns = [list(t) for t in _json(record["turns"])]
        if self.is_fc_model:
            turns = [t[1:] if t and t[0].get("role") == "system" else t for t in turns]
        first = [str(m.get("content") or "") for m in (turns[0] if turns else []) if m.get("role") == "user"]
        entry_id = str(record.get("id", f"{subset}_{index}"))
        return Sample(
            id=entry_id,
            input=first[-1] if first else "",
            target=json.dumps(_json(record.get("ground_truth", "[]"))),
            subset=subset,
            metadata={
                "test_category": str(record.get("test_category", subset)),
                "multi_turn": True,
                "entry_id": entry_id,
                "functions": _json(record.get("functions", "[]")),
                "tools": _json(record["tools"]),
                "turns": turns,
                "messages": turns[0] if turns else [],
                "missed_functions": _json(record.get("missed_functions") or "{}"),
                "initial_config": _json(record.get("initial_config") or "{}"),
                "involved_classes": _json(record["involved_classes"]),
                "ground_truth": _json(record.get("ground_truth", "[]")),
            },
        )

    def environments(self) -> BFCLEnvironments:
        """The `bfcl` engine's driver (found when the subsets are chosen, or here for an adapter that only
        scores; the process starts on the first request). `MissingDependencyError` names the install."""
        if self._environments is None:
            from evalscope_native.families.function_calling.bfcl_env import BFCLEnvironments, find_bfcl

            self._environments = BFCLEnvironments(find_bfcl().python)
        return self._environments

    async def run_agent(self, sample: Sample, request: GenerateRequest, session: AgentSession) -> ModelOutput:
        """Multi-turn samples: EvalScope's conversation loop; single-turn ones: the one planned request."""
        if not sample.metadata.get("multi_turn"):
            return await session.generate(request)
        from evalscope_native.families.function_calling.bfcl_multi_turn import run_conversation

        return await run_conversation(sample, request, session, self.environments(), fc=self.is_fc_model)

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
        self.benchmark = benchmark
        self.fc = benchmark.is_fc_model
        self.underscore_to_dot = benchmark.underscore_to_dot

    def _decoded(self, sample: Sample, completion: str) -> list[Any]:
        """EvalScope's decoding of the first turn's reply; raises where EvalScope's does."""
        if not self.fc:
            language = sample.metadata.get("language", "python")
            if language in ("java", "javascript"):  # BFCL's tree-sitter reading of the reply
                from evalscope_native.families.function_calling.bfcl_langs import (
                    decode_java_calls,
                    decode_js_calls,
                )

                decoded: Any = (decode_java_calls if language == "java" else decode_js_calls)(completion)
                return decoded
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
        if sample.metadata.get("multi_turn"):
            from evalscope_native.families.function_calling import bfcl_multi_turn

            return bfcl_multi_turn.score(
                sample,
                completion,
                self.benchmark.environments(),
                fc=self.fc,
                underscore_to_dot=self.underscore_to_dot,
            )
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
