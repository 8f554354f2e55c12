"""The multimodal family end to end: general_vqa, mmmu, math_vista against the core's scripted server.

Fixtures are made here in the hub datasets' field names, with PNGs drawn by PIL. The scripted
"vision model" decodes every `image_url` part it is sent and answers from the image's colour, so a
right answer proves the right bytes arrived; it also records the bytes for a direct comparison.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.contracts import ChatMessage, ImagePart, ModelError, TextPart
from evalscope.report import SampleRecord
from evalscope.testing import InProcessServer, ReplyError, image_urls, last_user_text
from evalscope_native.families.multimodal.media import text_with_images
from evalscope_native.models.wire_messages import wire_messages

COLOURS = {"red": (220, 30, 30), "green": (30, 180, 60), "blue": (30, 60, 220)}


def png(colour: str, size: int = 6) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), COLOURS[colour]).save(buf, format="PNG")
    return buf.getvalue()


class VisionModel:
    """Answers from the colours of the images it receives (decoded from their `data:` URLs)."""

    def __init__(self) -> None:
        self.by_bytes = {png(c): c for c in COLOURS}
        self.received: list[bytes] = []
        self.lock = threading.Lock()

    def colours(self, messages: list[dict[str, Any]]) -> list[str]:
        out = []
        for url in image_urls(messages):
            match = re.fullmatch(r"data:image/png;base64,(.+)", url)
            if match is None:
                raise ReplyError(400, f"expected a PNG data URL, got {url[:40]!r}")
            data = base64.b64decode(match.group(1))
            with self.lock:
                self.received.append(data)
            out.append(self.by_bytes.get(data, "unknown"))
        return out

    def __call__(self, messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        colours = self.colours(messages)
        text = last_user_text(messages)
        if "MMMU-OPEN" in text or "FREE-FORM" in text:
            return f"There are {len(colours)} images, so the answer is {len(colours) * 6}.\nANSWER: \\boxed{{{len(colours) * 6}}}"
        options = dict(re.findall(r"^([A-J])\) (\w+)$", text, flags=re.M))
        if options:
            letter = next((k for k, v in options.items() if colours and v == colours[0]), "A")
            return f"The picture is {colours[0] if colours else 'blank'}.\nANSWER: {letter}"
        return f"a {' and '.join(colours)} square"


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _images(folder: Path) -> dict[str, bytes]:
    (folder / "img").mkdir(parents=True, exist_ok=True)
    out = {}
    for colour in COLOURS:
        out[colour] = png(colour)
        (folder / "img" / f"{colour}.png").write_bytes(out[colour])
    return out


def _run(tmp_path: Path, server: InProcessServer, dataset: str, args: dict[str, Any]) -> Any:
    return run_task(
        {
            "model": "scripted",
            "api_url": server.base_url,
            "datasets": [dataset],
            "dataset_args": {dataset: args},
            "work_dir": str(tmp_path / "out"),
            "eval_batch_size": 4,
        }
    )[dataset]


def _reviews(tmp_path: Path, dataset: str) -> list[SampleRecord]:
    (path,) = (tmp_path / "out").glob(f"*/reviews/*/{dataset}.jsonl")
    return [SampleRecord.model_validate_json(line) for line in path.read_text().splitlines()]


# --- parts and the wire -------------------------------------------------------------------------


def test_text_messages_dump_as_before_and_images_become_data_urls(tmp_path: Path) -> None:
    text = ChatMessage(role="user", content="hi")
    assert text.model_dump() == {"role": "user", "content": "hi"}  # cache keys of text benchmarks unchanged
    image = tmp_path / "a.png"
    image.write_bytes(png("red"))
    msg = ChatMessage.multimodal("user", [TextPart(text="What is it?"), ImagePart(image=str(image))])
    assert msg.content == "What is it?"
    assert ChatMessage.model_validate_json(msg.model_dump_json()) == msg
    (wire,) = wire_messages([msg])
    assert wire["content"][0] == {"type": "text", "text": "What is it?"}
    url = wire["content"][1]["image_url"]["url"]
    assert base64.b64decode(url.split(",", 1)[1]) == png("red") and url.startswith("data:image/png;base64,")
    with pytest.raises(ModelError, match="does not exist: fix the image path") as err:
        wire_messages([ChatMessage.multimodal("user", [ImagePart(image=str(tmp_path / "nope.png"))])])
    assert err.value.kind == "bad_input"


def test_cache_key_covers_a_local_image_s_bytes(tmp_path: Path) -> None:
    """An image changed in place is a new request (asked again), not the cached answer of the old one;
    text requests keep their keys."""
    import os

    from evalscope.contracts import GenerateRequest, GenerationConfig
    from evalscope_native.engine.cache import cache_key

    image = tmp_path / "a.png"
    image.write_bytes(png("red"))

    def key() -> str:
        msg = ChatMessage.multimodal("user", [TextPart(text="What is it?"), ImagePart(image=str(image))])
        return cache_key({"model": "m"}, GenerateRequest(messages=[msg], config=GenerationConfig()))

    red = key()
    assert key() == red
    image.write_bytes(png("blue"))
    os.utime(image, ns=(1, 1))  # the digest is cached per (path, size, mtime): a changed file is read again
    blue = key()
    assert blue != red
    text = GenerateRequest(messages=[ChatMessage(role="user", content="hi")], config=GenerationConfig())
    assert "image_files" not in json.dumps(text.model_dump())
    assert cache_key({"model": "m"}, text) == cache_key({"model": "m"}, text)


def test_placeholders_put_images_where_evalscope_puts_them() -> None:
    parts = text_with_images("Look: <image 1> and <image_2>, not <image 3>.", {1: "a.png", 2: "b.png"})
    assert parts == [
        {"type": "text", "text": "Look: "},
        {"type": "image", "image": "a.png"},
        {"type": "text", "text": " and "},
        {"type": "image", "image": "b.png"},
        {"type": "text", "text": ", not "},
        {"type": "text", "text": "."},
    ]


# --- general_vqa --------------------------------------------------------------------------------


def test_general_vqa_end_to_end_with_a_missing_image(tmp_path: Path) -> None:
    folder = tmp_path / "gvqa"
    images = _images(folder)
    rows = [
        {
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "What is shown?"},
                    {"type": "image_url", "image_url": {"url": "img/red.png"}},
                ]}
            ],
            "answer": "a red square",
        },
        {"messages": [{"role": "user", "content": "Describe <image 1>."}], "image_1": "img/blue.png",
         "answer": "a blue square"},
        {"messages": [{"role": "user", "content": [
            {"type": "text", "text": "And this?"},
            {"type": "image_url", "image_url": {"url": "img/missing.png"}}]}],
         "answer": "a green square"},
    ]  # fmt: skip
    _write_jsonl(folder / "default.jsonl", rows)
    model = VisionModel()
    with InProcessServer({"model": "scripted"}, chat=model) as server:
        report = _run(tmp_path, server, "general_vqa", {"local_path": str(folder)})
    assert report.num_samples == 3 and report.num_errors == 1
    (error,) = report.errors
    assert error.id == "default/2" and "img/missing.png does not exist" in error.error
    assert report.metrics[0].name == "mean_Rouge-L-R"
    assert report.score() == pytest.approx(2 / 3)  # the failed sample counts 0
    assert sorted(model.received) == sorted([images["red"], images["blue"]])
    reviews = _reviews(tmp_path, "general_vqa")
    assert reviews[1].prediction == "a blue square" and reviews[1].scores["Rouge-L-R"] == 1.0


# --- mmmu ---------------------------------------------------------------------------------------


def _mmmu_rows() -> dict[str, list[dict[str, Any]]]:
    def mc(i: int, subject: str, colour: str, answer: str) -> dict[str, Any]:
        return {
            "id": f"validation_{subject}_{i}", "question": "Which colour fills <image 1>?",
            "options": "['red', 'green', 'blue']", "answer": answer, "question_type": "multiple-choice",
            "image_1": f"img/{colour}.png", "subfield": "Colour", "img_type": "['Diagrams']",
            "explanation": "", "topic_difficulty": "Easy",
        }  # fmt: skip

    open_q = {
        "id": "validation_Math_2", "question": "MMMU-OPEN: six per picture; <image 1> <image 2> How many?",
        "options": "[]", "answer": "12", "question_type": "open",
        "image_1": "img/green.png", "image_2": "img/blue.png", "subfield": "Counting", "img_type": "[]",
        "explanation": "", "topic_difficulty": "Medium",
    }  # fmt: skip
    return {
        "Art": [mc(1, "Art", "red", "A"), mc(2, "Art", "blue", "A")],  # right; wrong (blue is C)
        "Math": [mc(1, "Math", "green", "B"), open_q],
    }


def test_mmmu_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "mmmu"
    _images(folder)
    for subject, rows in _mmmu_rows().items():
        _write_jsonl(folder / subject / "validation.jsonl", rows)
    model = VisionModel()
    with InProcessServer({"model": "scripted"}, chat=model) as server:
        report = _run(tmp_path, server, "mmmu", {"local_path": str(folder), "subset_list": ["Art", "Math"]})
    assert report.num_samples == 4 and report.num_errors == 0
    subsets = {s.name: s.score for c in report.metrics[0].categories for s in c.subsets}
    assert subsets == {"Art": 0.5, "Math": 1.0}
    reviews = {r.id: r for r in _reviews(tmp_path, "mmmu")}
    assert reviews["validation_Math_2"].extracted == "\\boxed{12}"
    assert reviews["validation_Art_2"].extracted == "C"
    first = reviews["validation_Art_1"].input[0]
    assert first.parts is not None and [p.type for p in first.parts] == ["text", "image", "text"]
    assert first.content.startswith("Answer the following multiple choice question.")
    assert len(model.received) == 5  # one image per multiple-choice question, two for the open one


# --- math_vista ---------------------------------------------------------------------------------


def test_math_vista_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "math_vista"
    images = _images(folder)
    rows: list[dict[str, Any]] = [
        {"pid": "1", "question": "Which colour is the square?", "choices": ["green", "red", "blue"],
         "answer": "red", "question_type": "multi_choice", "answer_type": "text", "precision": None,
         "decoded_image": "img/red.png", "metadata": {"category": "general-vqa"}},
        {"pid": "2", "question": "FREE-FORM: six per picture; how many?", "choices": None, "answer": "6",
         "question_type": "free_form", "answer_type": "integer", "precision": None,
         "decoded_image": "img/green.png", "metadata": {"category": "math-targeted-vqa"}},
        {"pid": "3", "question": "FREE-FORM: six per picture, plus one?", "choices": None, "answer": "7",
         "question_type": "free_form", "answer_type": "integer", "precision": None,
         "decoded_image": "img/blue.png", "metadata": {"category": "math-targeted-vqa"}},
    ]  # fmt: skip
    _write_jsonl(folder / "default" / "testmini.jsonl", rows)
    model = VisionModel()
    with InProcessServer({"model": "scripted"}, chat=model) as server:
        report = _run(tmp_path, server, "math_vista", {"local_path": str(folder)})
    assert report.num_samples == 3 and report.num_errors == 0
    assert report.score() == pytest.approx(2 / 3)  # pid 3 answers 6, the answer is 7
    reviews = {r.id: r for r in _reviews(tmp_path, "math_vista")}
    assert reviews["1"].target == "B" and reviews["1"].extracted == "B"
    assert reviews["2"].scores["acc"] == 1.0 and reviews["3"].scores["acc"] == 0.0
    assert reviews["2"].input[0].content.endswith("within \\boxed{} without units.")
    assert sorted(model.received) == sorted(images.values())


def test_hub_image_bytes_become_data_urls() -> None:
    from evalscope.registry import benchmarks, load_impl

    spec = benchmarks().resolve("mmmu")
    adapter = load_impl(spec)(spec)
    record = {**_mmmu_rows()["Art"][0], "image_1": {"bytes": png("red"), "path": "x.png"}}
    sample = adapter.record_to_sample(record, "Art", 0)
    (message,) = adapter.build_messages(sample, [])
    image = next(p for p in message.parts or () if isinstance(p, ImagePart))
    assert image.image == "data:image/png;base64," + base64.b64encode(png("red")).decode()


def test_urls_pass_through_and_completions_refuse_images() -> None:
    import asyncio

    from evalscope.config import GenerationConfig, TaskConfig
    from evalscope.contracts import GenerateRequest
    from evalscope_native.models.openai_api import OpenAIModel

    url = "https://example.org/cat.png"
    msg = ChatMessage.multimodal("user", [ImagePart(image=url, detail="low")])
    assert wire_messages([msg])[0]["content"] == [
        {"type": "image_url", "image_url": {"url": url, "detail": "low"}}
    ]
    config = TaskConfig(model="m", api_url="http://127.0.0.1:9/v1", model_args={"api": "completions"})
    model = OpenAIModel(config)
    request = GenerateRequest(messages=[msg], config=GenerationConfig())
    with pytest.raises(ModelError, match="use the chat API") as err:
        asyncio.run(model.generate(request))  # refused before any connection is tried
    assert err.value.kind == "bad_input"
    asyncio.run(model.aclose())
