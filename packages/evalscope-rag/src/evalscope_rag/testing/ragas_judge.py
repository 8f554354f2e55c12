"""A scripted RAGAS judge: reads the prompt ragas sends and answers valid JSON by simple, known rules.

ragas 0.4's prompts end with `input: {json}` and name their output schema (`"title": "…Output"`), so
a responder can tell which step it is asked for and what about. The rules are deliberately plain so a
test can predict every score:

* statements: the answer's sentences (split on ". "), without the final full stop;
* faithfulness verdict: 1 when the statement occurs verbatim (case-folded) in the context;
* answer relevancy: the question is `questions[answer]` if given, else the answer itself;
  noncommittal when the answer says "I don't know";
* context precision: 1 when the context contains the reference's first sentence;
* context recall: each reference sentence attributed when it occurs in the context;
* answer correctness: TP = answer statements that are also reference statements, FP/FN the rest.

Test-set generation (`ragas_eval/testset.py`):

* GeneratedQA: question `"<query_type>: <first sentence of the first context>?"`, answer the first
  sentence of every context, joined by a space;
* RAGAnswer: the first sentence of the first context.

Any prompt whose input contains `MALFORMED` gets a reply that is not JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_TITLE = re.compile(r'"title": "(\w+)", "type": "object"\}')


def prompt_schema(prompt: str) -> str:
    titles = _TITLE.findall(prompt)
    return titles[-1] if titles else ""


def prompt_input(prompt: str) -> dict[str, Any]:
    start = prompt.rfind("input: ")
    end = prompt.rfind("\nOutput:")
    if start < 0 or end < start:
        return {}
    try:
        data = json.loads(prompt[start + len("input: ") : end])
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def sentences(text: str) -> list[str]:
    parts = [p.strip().rstrip(".").strip() for p in re.split(r"(?<=\.)\s+", text.strip())]
    return [p for p in parts if p]


def _norm(text: str) -> str:
    return " ".join(text.lower().replace(".", " ").split())


def _contains(haystack: str, needle: str) -> bool:
    return _norm(needle) in _norm(haystack)


def make_responder(
    questions: dict[str, str] | None = None,
) -> Callable[[list[dict[str, Any]], dict[str, Any]], str]:
    """A chat responder for `evalscope.testing.InProcessServer(chat=…)` implementing the rules above."""
    questions = questions or {}

    def respond(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        prompt = str(messages[-1].get("content", "")) if messages else ""
        data = prompt_input(prompt)
        if "MALFORMED" in json.dumps(data):
            return "Sorry, I cannot answer in JSON today."
        schema = prompt_schema(prompt)
        out: dict[str, Any]
        if schema == "StatementGeneratorOutput":
            out = {"statements": sentences(str(data.get("answer", "")))}
        elif schema == "NLIStatementOutput":
            ctx = str(data.get("context", ""))
            out = {
                "statements": [
                    {"statement": s, "reason": "scripted", "verdict": int(_contains(ctx, s))}
                    for s in data.get("statements", [])
                ]
            }
        elif schema == "AnswerRelevanceOutput":
            response = str(data.get("response", ""))
            out = {
                "question": questions.get(response, response),
                "noncommittal": int("don't know" in response.lower()),
            }
        elif schema == "GeneratedQA":
            contexts = [str(c) for c in data.get("contexts", [])]
            firsts = [(sentences(c) or [""])[0] for c in contexts]
            out = {
                "question": f"{data.get('query_type')}: {firsts[0] if firsts else ''}?",
                "answer": " ".join(f"{f}." for f in firsts),
            }
        elif schema == "RAGAnswer":
            first = (sentences(str((data.get("contexts") or [""])[0])) or [""])[0]
            out = {"answer": f"{first}."}
        elif schema == "ContextPrecisionOutput":
            first = (sentences(str(data.get("answer", ""))) or [""])[0]
            out = {
                "reason": "scripted",
                "verdict": int(bool(first) and _contains(str(data.get("context", "")), first)),
            }
        elif schema == "ContextRecallOutput":
            ctx = str(data.get("context", ""))
            out = {
                "classifications": [
                    {"statement": s, "reason": "scripted", "attributed": int(_contains(ctx, s))}
                    for s in sentences(str(data.get("answer", "")))
                ]
            }
        elif schema == "ClassificationWithReason":
            answer = [str(s) for s in data.get("answer", [])]
            truth = [str(s) for s in data.get("ground_truth", [])]
            truth_norm = {_norm(t) for t in truth}
            answer_norm = {_norm(a) for a in answer}
            out = {
                "TP": [
                    {"statement": a, "reason": "in the ground truth"}
                    for a in answer
                    if _norm(a) in truth_norm
                ],
                "FP": [
                    {"statement": a, "reason": "not in the ground truth"}
                    for a in answer
                    if _norm(a) not in truth_norm
                ],
                "FN": [
                    {"statement": t, "reason": "missing from the answer"}
                    for t in truth
                    if _norm(t) not in answer_norm
                ],
            }
        else:
            return f"unscripted prompt (schema {schema or 'unknown'})"
        return json.dumps(out)

    return respond
