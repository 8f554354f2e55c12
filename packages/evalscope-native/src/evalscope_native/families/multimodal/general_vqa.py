"""general_vqa: your own image questions, in EvalScope 1.14.1's custom VQA format.

Files (`local_path`, or `<data dir>/general_vqa/`): `<subset>.jsonl` (or `.tsv`/`.csv`, where
`messages` is a JSON string), one record per line:

    {"messages": [{"role": "user", "content": [
         {"type": "text", "text": "What animal is this?"},
         {"type": "image_url", "image_url": {"url": "images/cat.png"}}]}],
     "answer": "a cat"}

`url` is a local path (relative: to the data folder), an `http(s)://` URL or a `data:` URL. A plain-text
user message may instead say `<image 1>` and the record carry `image_1` … `image_7` (EvalScope's media
placeholders). The reply is scored like general_qa: BLEU-1..4 and ROUGE-1/2/L against `answer`, ROUGE-L
recall the headline (EvalScope's primary metric).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs
from evalscope.contracts import ChatMessage, Sample
from evalscope.errors import ConfigError
from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks.general_qa import METRIC_GROUPS
from evalscope_native.benchmarks.metric_selection import select_metrics
from evalscope_native.families.multimodal.media import (
    PLACEHOLDER,
    data_root,
    image_ref,
    record_images,
    text_with_images,
    to_message,
)

_ROLES = ("system", "user", "assistant")


class GeneralVQA(Benchmark):
    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None, seed: int | None = None) -> None:
        super().__init__(spec, args, seed)
        if self.args.few_shot_num:
            raise ConfigError(
                "general_vqa has no few-shot examples (as in EvalScope, each record is sent as it is).",
                hint="put examples into the record's messages, or drop few_shot_num",
            )
        self._metrics = select_metrics(self.name, self.args.metric_list, spec.metrics, METRIC_GROUPS)
        self._root: Path | None = None
        self._root_known = False

    @property
    def metrics(self) -> list[str]:
        return list(self._metrics)

    def _image_root(self) -> Path | None:
        if not self._root_known:  # data_dir is set by the engine after __init__
            self._root, self._root_known = data_root(self), True
        return self._root

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        raw = record["messages"]
        if isinstance(raw, str):
            raw = json.loads(raw)
        if not isinstance(raw, list) or not raw:
            raise ValueError("'messages' must be a non-empty list of OpenAI chat messages")
        root = self._image_root()
        placeholders = any(
            isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str)
            and PLACEHOLDER.search(m["content"])
            for m in raw
        )  # fmt: skip
        images = record_images(record, root) if placeholders else {}
        messages = [self._message(m, i, images, root) for i, m in enumerate(raw)]
        users = [m for m in messages if m["role"] == "user"]
        last = users[-1]["content"] if users else messages[-1]["content"]
        text = last if isinstance(last, str) else "\n".join(p["text"] for p in last if p["type"] == "text")
        return Sample(
            id=f"{subset}/{index}",
            input=text,
            target=str(record.get("answer") or ""),
            subset=subset,
            metadata={"messages": messages},
        )

    @staticmethod
    def _message(m: Any, i: int, images: dict[int, str], root: Path | None) -> dict[str, Any]:
        if not isinstance(m, dict) or m.get("role") not in _ROLES:
            raise ValueError(
                f'messages[{i}] must be {{"role": "system"|"user"|"assistant", "content": ...}}, got {m!r}'
            )
        content = m.get("content")
        if isinstance(content, str):
            if m["role"] == "user" and images and PLACEHOLDER.search(content):
                return {"role": m["role"], "content": text_with_images(content, images)}
            return {"role": m["role"], "content": content}
        if not isinstance(content, list):
            raise ValueError(f"messages[{i}].content must be a string or a list of parts, got {content!r}")
        parts: list[dict[str, str]] = []
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text":
                parts.append({"type": "text", "text": str(part.get("text", ""))})
            elif kind == "image_url":
                url = part.get("image_url")
                parts.append(
                    {
                        "type": "image",
                        "image": image_ref(url.get("url") if isinstance(url, dict) else url, root),
                    }
                )
            elif kind == "image":
                parts.append({"type": "image", "image": image_ref(part.get("image"), root)})
            else:
                raise ValueError(
                    f"messages[{i}] has a {kind!r} part; general_vqa sends text and images only "
                    "(video and audio parts are not supported)"
                )
        return {"role": m["role"], "content": parts}

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        messages = [to_message(m["role"], m["content"]) for m in sample.metadata["messages"]]
        if self.args.system_prompt and not any(m.role == "system" for m in messages):
            messages.insert(0, ChatMessage(role="system", content=self.args.system_prompt))
        return messages

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        return prediction  # unchanged, as general_qa: whitespace is a token for jieba's BLEU
