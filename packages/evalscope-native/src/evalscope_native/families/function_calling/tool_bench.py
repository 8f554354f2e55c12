"""tool_bench: ToolBench-Static (`AI-ModelScope/ToolBench-Static`), EvalScope 1.14.1's prompts and scoring.

The model sees the recorded conversation (the system message lists the tools in text; `function`
results become user messages holding their JSON, as EvalScope sends them) and writes its next step
as `Action: <tool>` / `Action Input: <json>`, or `Action: Finish` with a `final_answer`. The step is
compared with the record's `target` (ToolBench's static scorer, as ported to EvalScope's
`tool_bench/utils.py`): `Act.EM` tool name, `F1` of the arguments (half credit for a key with another
value), `plan_em` call / finish / give up, `HalluRate` a tool that is not in the list, `Rouge-L` of the
final answer. A value that does not apply to a step (Rouge-L of a call) is left out of that value's
mean (weight 0), as EvalScope leaves it out of the sample's score.
"""

from __future__ import annotations

import json
from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.contracts import ChatMessage, Sample
from evalscope.scoring import Score

__all__ = ["ToolBench", "calculate_metrics", "tool_bench_scorer"]

VALUES = ("F1", "Act.EM", "plan_em", "HalluRate", "Rouge-L", "Easy_F1", "Hard_F1")
#: EvalScope's values for a step its scorer failed on ("Plan.EM" there; here under plan_em)
_FAILED = {"Act.EM": 0.0, "plan_em": 0.0, "F1": 0.0, "HalluRate": 1.0, "Rouge-L": 0.0}


class ToolBench(Benchmark):
    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        messages = []
        for message in record["messages"]:
            msg = dict(message)
            msg.pop("name", None)
            if msg.get("role") == "function":
                msg["content"] = json.dumps(msg, ensure_ascii=False)
                msg["role"] = "user"
            messages.append({"role": msg.get("role"), "content": str(msg.get("content") or "")})
        users = [m["content"] for m in messages if m["role"] == "user"]
        return Sample(
            id=str(record.get("id", f"{subset}/{index}")),
            input=users[-1] if users else "",
            target="",
            subset=subset,
            metadata={"target": record["target"], "tools": record["tools"], "chat": messages},
        )

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        bad = sorted(
            {m["role"] for m in sample.metadata["chat"] if m["role"] not in ("system", "user", "assistant")}
        )
        if bad:
            raise ValueError(f"tool_bench sample {sample.id}: unknown message role(s) {', '.join(bad)}")
        return [ChatMessage(role=m["role"], content=m["content"]) for m in sample.metadata["chat"]]


class ToolBenchScorer:
    values = VALUES

    def __call__(self, sample: Sample, completion: str, extracted: str) -> Score:
        try:
            got = calculate_metrics(
                {
                    "target": sample.metadata["target"],
                    "predictions": extracted,
                    "tools": sample.metadata["tools"],
                }
            )
            explanation = f"Metrics: {got}"
        except Exception as exc:  # noqa: BLE001 - EvalScope scores a step its scorer fails on this way
            got, explanation = dict(_FAILED), f"Evaluation failed: {exc}"
        values = {k: float(got.get(k, 0.0)) for k in VALUES}
        weights = {k: 0.0 for k in VALUES if k not in got}
        return Score(values=values, weights=weights, answer=extracted, explanation=explanation)


def tool_bench_scorer(benchmark: Any) -> ToolBenchScorer:
    return ToolBenchScorer()


# --- ToolBench's static scorer, as EvalScope 1.14.1 has it (tool_bench/utils.py) ----------------


def _lcs(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def _rouge_l_f(prediction: str, target: str) -> float:
    """rouge_score's ROUGE-L F with a whitespace tokenizer (EvalScope's `DummyTokenizer`)."""
    pred, ref = prediction.split(), target.split()
    if not pred or not ref:
        return 0.0
    lcs = _lcs(ref, pred)
    p, r = lcs / len(pred), lcs / len(ref)
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def evaluate_rougel(cand_list: list[str], ref_list: list[str]) -> float:
    if len(ref_list) == 0:
        return 0
    pairs = [_rouge_l_f(c, r) for c, r in zip(cand_list, ref_list, strict=False)]
    return sum(pairs) / len(pairs) if pairs else 0.0


def evaluate_action_em(cand_list: list[str], ref_list: list[str]) -> float:
    if len(ref_list) == 0:
        return 0
    em = sum(1 if cand == ref else 0 for cand, ref in zip(cand_list, ref_list, strict=False))
    return em / len(cand_list)


def evaluate_action_input_f1(
    action_pred: list[str], action_ref: list[str], cand_list: list[str], ref_list: list[str]
) -> tuple[float | None, float | None, float | None]:
    easy_f1: list[float] = []
    hard_f1: list[float] = []
    f1: list[float] = []
    for i in range(len(action_pred)):
        if action_ref[i] != action_pred[i]:
            easy_f1.append(0)
            hard_f1.append(0)
            f1.append(0)
            continue
        try:
            ref_input_json = json.loads(ref_list[i])
        except Exception:  # noqa: BLE001 - a reference that is not JSON is skipped, as upstream
            continue
        try:
            cand_input_json = json.loads(cand_list[i])
            half_match = full_match = 0
            if ref_input_json == {}:
                easy_f1.append(1 if cand_input_json == {} else 0)
                f1.append(1 if cand_input_json == {} else 0)
            else:
                for k, v in ref_input_json.items():
                    if k in cand_input_json.keys():
                        if cand_input_json[k] == v:
                            full_match += 1
                        else:
                            half_match += 1
                recall = (0.5 * half_match + full_match) / (len(ref_input_json) + 1e-30)
                precision = (0.5 * half_match + full_match) / (len(cand_input_json) + 1e-30)
                hard_f1.append((2 * recall * precision) / (recall + precision))
                f1.append((2 * recall * precision) / (recall + precision))
        except Exception:  # noqa: BLE001 - upstream counts any failure here as a miss
            if ref_input_json == {}:
                easy_f1.append(0)
            else:
                hard_f1.append(0)
            f1.append(0)
    return (
        sum(easy_f1) / len(easy_f1) if easy_f1 else None,
        sum(hard_f1) / len(hard_f1) if hard_f1 else None,
        sum(f1) / len(f1) if f1 else None,
    )


def parse_action(text: str) -> tuple[str, str]:
    action_input = "{}"
    if "Action Input:" in text:
        input_idx = text.rindex("Action Input:")
        action_input = text[input_idx + len("Action Input:") :].strip()
    if "Action:" in text:
        action_idx = text.rindex("Action:")
        action = text[action_idx + len("Action:") :].strip()
        if "Action Input:" in action:
            action = action[: action.index("Action Input:")].strip()
    else:
        action = "none"
    return action, action_input


def parse_output(text: str) -> tuple[str, Any, Any, Any]:
    action, action_input = parse_action(text)
    if action != "Finish":
        return "call", action, action_input, None
    try:
        parsed = json.loads(action_input)
        if parsed["return_type"] != "give_answer":
            return "give up", None, None, None
        answer = "None"
        if "final_answer" in parsed.keys():
            answer = str(parsed["final_answer"])
            if answer.strip() in ["", ".", ","]:
                answer = "None"
        return "finish", action, parsed, answer
    except Exception:  # noqa: BLE001 - a Finish step that cannot be read is giving up, as upstream
        return "give up", None, None, None


def calculate_metrics(data: dict[str, Any]) -> dict[str, float]:
    """One step's values; {} for a step upstream does not score (a hallucinated reference tool)."""
    ref_plan, ref_action, ref_input, ref_ans = parse_output(data["target"])
    pred_plan, pred_action, pred_input, pred_ans = parse_output(data["predictions"])

    def names() -> list[str]:  # read only where upstream reads it: a tool without a name fails there alone
        return [t["name"] for t in data["tools"]]

    if ref_action is not None and ref_action == "invalid_hallucination_function_name":
        return {}
    if pred_action is not None and ref_action != "none" and ref_action not in names():
        return {}
    hallu_pred = 1 if pred_action is not None and pred_action != "none" and pred_action not in names() else 0
    action_ref: list[str] = []
    action_pred: list[str] = []
    input_ref: list[str] = []
    input_pred: list[str] = []
    answer_ref: list[str] = []
    answer_pred: list[str] = []
    if ref_plan == "finish":
        answer_ref.append(ref_ans)
        answer_pred.append("none" if pred_ans is None else pred_ans)
    elif ref_plan != "give up":
        action_ref.append(ref_action)
        input_ref.append(ref_input)
        action_pred.append("none" if pred_action is None else pred_action)
        input_pred.append("{}" if pred_input is None else pred_input)
    easy_f1, hard_f1, f1 = evaluate_action_input_f1(action_pred, action_ref, input_pred, input_ref)
    metric = {
        "Act.EM": evaluate_action_em(action_pred, action_ref) if action_ref else None,
        "F1": f1,
        "HalluRate": hallu_pred,
        "plan_em": evaluate_action_em([pred_plan], [ref_plan]),
        "Easy_F1": easy_f1,
        "Hard_F1": hard_f1,
        "Rouge-L": evaluate_rougel(answer_pred, answer_ref) if answer_ref else None,
    }
    return {k: float(v) for k, v in metric.items() if v is not None}
