"""A scripted judge: answers judge prompts by rule from what it reads in them (a fake model, for tests).

The core's scripted server (`evalscope.testing`) answers chat requests with these rules when its
config names `judge_responder` as its chat responder: `ScriptedServer(judge_config({"seed": 1}))`.
The judge recognises EvalScope 1.14.1's judge prompts and decides honestly from
markers the test planted in the answers, then misbehaves on purpose where the config says so:

* **quality**: an answer's quality is the number after `QUALITY:` in it (5 when absent; the
  baseline answers of Arena-Hard and AlpacaEval carry none). Pairwise: the higher quality wins
  (`>>` when 3 or more apart, a tie when equal). Rating (MT-Bench): the quality is the score.
* **grading** (SimpleQA, the generic grader): the predicted answer is CORRECT (A) when it contains
  the gold target (case-insensitive), NOT_ATTEMPTED (C) when it says "I don't know", else B.
  AIME's equivalence prompt: "Yes" when the two expressions are equal after stripping.
* `first_bias`: this share of pairwise prompts (by a hash of the prompt) gets "the first answer is
  better" whatever the answers — a position bias.
* `malformed_rate`: this share of judged cases (by a hash of the *answer*, so re-asks stay
  malformed) get a reply with no verdict in it.
* `flaky_rate`: this share of *requests* (by a hash of the whole conversation, so a re-ask draws
  again) get a reply with no verdict: a judge that recovers when asked again.
* `classic_rate`: this share of verdicts come in the classic shape (`[[A>>B]]`, `[[7]]`, a bare
  label) instead of the JSON object.
* An answer that says "output [[A>>B]]" or carries a JSON verdict is *not* obeyed: this judge is
  honest, which is what the prompt-injection test relies on.

Decisions are pure functions of the prompt text, so a test can compute the truth it expects.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["judge_config", "judge_reply", "judge_responder", "quality", "unit"]

_QUALITY = re.compile(r"QUALITY:(\d+)")


def unit(*parts: str) -> float:
    """A number in [0, 1) from a hash of `parts`: the same text always draws the same number."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def quality(answer: str) -> int:
    found = _QUALITY.findall(answer)
    return int(found[-1]) if found else 5


def judge_responder(**rules: Any) -> Callable[[list[dict[str, Any]], dict[str, Any]], str]:
    """The chat responder the scripted server imports (its config's `responders.chat.factory`)."""
    return lambda messages, body: judge_reply(messages, rules)


def judge_config(rules: Mapping[str, Any] | None = None, **config: Any) -> dict[str, Any]:
    """A scripted server config that judges by these rules: `ScriptedServer(judge_config({"seed": 1}))`.

    `config` adds other server settings (`model`, default "judge"; `api_key`, `delay_s`, ...).
    """
    factory = f"{__name__}:judge_responder"
    return {
        "model": "judge",
        **config,
        "responders": {"chat": {"factory": factory, "args": dict(rules or {})}},
    }


def judge_reply(messages: Sequence[Mapping[str, Any]], rules: Mapping[str, Any]) -> str:
    """The judge's reply to a chat request (all of its messages), by the rules above."""
    users = [str(m.get("content") or "") for m in messages if m.get("role") == "user"]
    prompt = users[0] if users else ""
    seed = str(rules.get("seed", 0))
    kind, answers = _classify(prompt)
    case = answers[-1] if answers else prompt
    if unit(seed, "malformed", case) < float(rules.get("malformed_rate", 0.0)):
        return "Both answers have their merits; I would rather not pick one."
    conversation = "\x1e".join(str(m.get("content") or "") for m in messages)
    if unit(seed, "flaky", conversation) < float(rules.get("flaky_rate", 0.0)):
        return "Let me think about the verdict some more."
    reply = _decide(kind, answers, prompt, seed, rules)
    if unit(seed, "classic", prompt) < float(rules.get("classic_rate", 0.0)):
        data = json.loads(reply) if reply.startswith("{") else {}
        verdict = data.get("verdict", data.get("score"))
        if verdict is not None:
            return f"My analysis is complete.\n\n[[{verdict}]]"
    return reply


def _decide(kind: str, answers: list[str], prompt: str, seed: str, rules: Mapping[str, Any]) -> str:
    if kind == "arena":
        a, b = (quality(x) for x in answers)
        if unit(seed, "bias", prompt) < float(rules.get("first_bias", 0.0)):
            verdict = "A>B"
        else:
            verdict = (
                "A=B"
                if a == b
                else ("A>>B" if a - b >= 3 else "A>B")
                if a > b
                else ("B>>A" if b - a >= 3 else "B>A")
            )
        return json.dumps({"reasoning": f"quality {a} vs {b}", "verdict": verdict})
    if kind == "alpaca":
        a, b = (quality(x) for x in answers)
        if unit(seed, "bias", prompt) < float(rules.get("first_bias", 0.0)):
            return json.dumps({"verdict": "m"})
        return json.dumps(
            {"verdict": "m" if a > b else "M" if b > a else ("m" if unit(seed, prompt) < 0.5 else "M")}
        )
    if kind == "grading":
        gold, predicted = answers
        if "i don't know" in predicted.lower() or "我不知道" in predicted:
            verdict = "C"
        else:
            verdict = "A" if gold.strip().lower() in predicted.lower() else "B"
        if "[Reference Answer]" in prompt and verdict == "C":
            verdict = "B"  # the generic grader has only A and B
        return json.dumps({"reasoning": f"gold {gold!r}", "verdict": verdict})
    if kind == "equivalence":
        one, two = (x.strip().strip("$") for x in answers)
        return json.dumps({"verdict": "Yes" if one == two or two in one.split() else "No"})
    if kind == "rating":
        return json.dumps(
            {"explanation": "scored by quality", "score": max(1, min(10, quality(answers[-1])))}
        )
    return "I do not recognise this judge prompt."


def _between(text: str, start: str, end: str) -> str:
    i = text.find(start)
    j = text.find(end, i + len(start)) if i >= 0 else -1
    return text[i + len(start) : j].strip() if i >= 0 and j >= 0 else ""


def _classify(prompt: str) -> tuple[str, list[str]]:
    if "<|The Start of Assistant A's Answer|>" in prompt:
        return "arena", [
            _between(prompt, "<|The Start of Assistant A's Answer|>", "<|The End of Assistant A's Answer|>"),
            _between(prompt, "<|The Start of Assistant B's Answer|>", "<|The End of Assistant B's Answer|>"),
        ]
    if '"model_identifier": "m"' in prompt:
        outputs = re.findall(r'"output": "(.*?)"\n    \}', prompt, re.S)
        return "alpaca", outputs[:2] if len(outputs) >= 2 else ["", ""]
    if "Gold target: " in prompt and "Predicted answer: " in prompt:
        tail = prompt.rsplit("Here is a new example.", 1)[-1]
        gold = _between(tail, "Gold target: ", "\nPredicted answer: ")
        predicted = _between(tail + "\n```", "Predicted answer: ", "\n```")
        return "grading", [gold, predicted]
    if "正确答案: " in prompt and "预测答案: " in prompt:  # Chinese SimpleQA's grader
        tail = prompt.rsplit("下面是一个新的问题示例。", 1)[-1]
        gold = _between(tail, "正确答案: ", "\n预测答案: ")
        predicted = _between(tail + "\n```", "预测答案: ", "\n```")
        return "grading", [gold, predicted]
    if "[Reference Answer]" in prompt and "[Predicted Answer]" in prompt:
        gold = _between(prompt, "[Reference Answer]\n", "\n\n[Predicted Answer]")
        predicted = _between(prompt, "[Predicted Answer]\n", "\n\nEvaluate the model's answer")
        return "grading", [gold, predicted]
    if "Expression 1:" in prompt and "Expression 2:" in prompt:
        tail = prompt.rsplit("YOUR TASK", 1)[-1]
        return "equivalence", [
            _between(tail, "Expression 1:", "\n"),
            _between(tail + "\n", "Expression 2:", "\n"),
        ]
    if "[The Start of Assistant's Answer]" in prompt:
        return "rating", [
            _between(prompt, "[The Start of Assistant's Answer]\n", "\n[The End of Assistant's Answer]")
        ]
    if "### Assistant:" in prompt:
        return "rating", [prompt.rsplit("### Assistant:\n", 1)[-1].split("\n\n<|The End", 1)[0]]
    return "unknown", []
