"""Fidelity of the multimodal family: EvalScope 1.14.1's own adapters score the same records and replies.

The baseline runs in its venv (`EVALSCOPE_BASELINE_VENV`, default /tmp/evalscope-baseline) on a
script of ours (`fidelity_scripts/evalscope_multimodal_scores.py`); the test is skipped where that
venv is absent. Compared per case: the prompt's text parts, the images (base64 payloads), the
extracted answer and every score value.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from evalscope import registry
from evalscope.contracts import ImagePart, TextPart
from native_helpers import score_with

BASELINE = Path(os.environ.get("EVALSCOPE_BASELINE_VENV", "/tmp/evalscope-baseline")) / "bin" / "python"
SCRIPT = Path(__file__).parent / "fidelity_scripts" / "evalscope_multimodal_scores.py"

pytestmark = pytest.mark.skipif(
    not BASELINE.exists(), reason=f"EvalScope 1.14.1 venv not at {BASELINE.parent.parent}"
)


def _png(rgb: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (5, 5), rgb).save(buf, format="PNG")
    return buf.getvalue()


RED, BLUE = _png((220, 30, 30)), _png((30, 60, 220))
RED_URL = "data:image/png;base64," + base64.b64encode(RED).decode()


def _wire(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def _mmmu(answer: str, kind: str = "multiple-choice", **extra: Any) -> dict[str, Any]:
    return {
        "id": "validation_Art_1", "question": "Which colour fills <image 1>? Compare <image 2>.",
        "options": "['red', '<image 2>', 'blue']" if kind != "open" else "[]", "answer": answer,
        "question_type": kind, "image_1": {"bytes": RED, "path": None}, "image_2": {"bytes": BLUE, "path": None},
        "image_3": None, "subfield": "s", "img_type": "t", "explanation": "", "topic_difficulty": "Easy", **extra,
    }  # fmt: skip


def _vista(kind: str, answer: str) -> dict[str, Any]:
    return {
        "pid": "7", "question": "How many squares?", "choices": ["3", "4", "5"] if kind == "multi_choice" else None,
        "answer": answer, "question_type": kind, "answer_type": "integer", "precision": None,
        "decoded_image": {"bytes": RED, "path": None}, "metadata": {"category": "math-targeted-vqa"},
    }  # fmt: skip


def _vqa(answer: str) -> dict[str, Any]:
    content = [{"type": "text", "text": "Describe it."}, {"type": "image_url", "image_url": {"url": RED_URL}}]
    return {"messages": [{"role": "user", "content": content}], "answer": answer}


CASES: list[tuple[str, dict[str, Any], str]] = [
    *[("mmmu", _mmmu("A"), r) for r in (
        "ANSWER: A", "The answer is (B).", "**ANSWER: C**", "Maybe A or B.\nANSWER: A, B", "", "answer: a",
        "It is red, so\n\nANSWER: $\\boxed{A}$",
    )],
    *[("mmmu", _mmmu(gold, "open"), r) for gold in ("12", "['12', 'twelve']", "blue") for r in (
        "ANSWER: 12", "so the result is 12.0", "ANSWER: twelve", "The total is 1,200.", "ANSWER: Blue sky",
        "x = 12", "No idea.",
    )],
    *[("math_vista", _vista("multi_choice", "4"), r) for r in (
        "ANSWER: B", "ANSWER: A", "(B)", "\\boxed{B}", "The count is four.\nANSWER: b",
    )],
    *[("math_vista", _vista("free_form", gold), r) for gold in ("6", "0.5", "1.25") for r in (
        "\\boxed{6}", "The answer is 6.0", "\\boxed{\\frac{1}{2}}", "So 1.25 units.", "\\boxed{1.250}", "none",
    )],
    *[("general_vqa", _vqa(gold), r) for gold in ("a red square", "一个红色的方块") for r in (
        "a red square", "A red square.", "red", "", "一个红色的方块", "the square is red and small",
    )],
]  # fmt: skip


def _ours(name: str, record: dict[str, Any], reply: str) -> dict[str, Any]:
    spec = registry.benchmarks().resolve(name)
    adapter = registry.load_impl(spec)(spec)
    sample = adapter.record_to_sample(record, spec.subsets[0], 0)
    texts, images = [], []
    for message in adapter.build_messages(sample, []):
        for part in message.parts or (TextPart(text=message.content),):
            if isinstance(part, ImagePart):
                images.append(part.image)
            else:
                texts.append(part.text)
    extracted = adapter.extract_answer(reply, sample)
    return {
        "text": texts,
        "images": images,
        "extracted": extracted,
        "values": score_with(adapter, extracted, sample, reply),
    }


def _payload(url: str) -> str:
    return url.split(",", 1)[1]  # EvalScope labels MathVista's bytes image/jpg whatever they are


def test_per_sample_scores_equal_evalscope_1_14_1() -> None:
    cases = [{"benchmark": b, "record": _wire(r), "reply": reply} for b, r, reply in CASES]
    done = subprocess.run(
        [str(BASELINE), str(SCRIPT)], input=json.dumps(cases), capture_output=True, text=True, timeout=240,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = json.loads(done.stdout)
    differences = []
    for (name, record, reply), them in zip(CASES, theirs, strict=True):
        us = _ours(name, record, reply)
        main = {"mmmu": "acc", "math_vista": "acc"}.get(name)
        # general_vqa: ROUGE only. EvalScope's BLEU needs nltk's punkt_tab data, a download, so offline it
        # scores 0 with a LookupError; our BLEU is general_qa's (benchmarks/fidelity compares that online).
        their_values = (
            {"acc": next(iter(them["values"].values()))}
            if main
            else {k: v for k, v in them["values"].items() if k.startswith("Rouge")}
        )
        our_values = {k: round(v, 6) for k, v in us["values"].items() if k in their_values}
        their_values = {k: round(v, 6) for k, v in their_values.items() if k in us["values"]}
        same = (
            us["text"] == them["text"]
            and [_payload(i) for i in us["images"]] == [_payload(i) for i in them["images"]]
            and us["extracted"] == them["extracted"]
            and our_values == their_values
            and our_values
        )
        if not same:
            differences.append({"benchmark": name, "reply": reply, "ours": us, "theirs": them})
    assert not differences, json.dumps(differences, indent=1, ensure_ascii=False)[:6000]
