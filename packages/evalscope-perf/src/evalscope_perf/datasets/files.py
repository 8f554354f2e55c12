"""File-based prompt datasets, with EvalScope's names and file formats.

* `openqa` — JSONL with a `question` per line (HC3-Chinese's open_qa.jsonl);
* `longalpaca` — a JSON list (or JSONL) of objects with an `instruction` (LongAlpaca-12k.json);
* `line_by_line` — a text file, one prompt per line (a JSON array line is a message list, a JSON
  object line a complete request body);
* `custom` — JSONL: objects with `prompt` / `query` / `question` (text), `messages` (a chat), or a
  full request body under `body`; a line that is not JSON is a plain-text prompt.

`openqa` and `longalpaca` download their file from the hub when no `--dataset-path` is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalscope.data_files import iter_jsonl, iter_lines, parse_json_line, read_json
from evalscope.errors import DataFormatError

from evalscope_perf.apis.base import Prompt
from evalscope_perf.datasets.base import DatasetContext, download_hub_file, filter_by_length, require_path

__all__ = ["custom", "line_by_line", "longalpaca", "openqa"]


def _done(ctx: DatasetContext, path: Path, prompts: list[Prompt]) -> list[Prompt]:
    kept = filter_by_length(ctx, prompts)
    if not kept:
        why = " within --min/--max-prompt-length" if prompts else ""
        raise DataFormatError(str(path), f"no usable prompts{why} for --dataset {ctx.dataset}")
    return kept


def _hub_or_path(ctx: DatasetContext, dataset_id: str, hf_id: str, filename: str) -> Path:
    if not ctx.path:
        return download_hub_file(ctx, dataset_id, hf_id, filename)
    path = require_path(ctx, filename)
    return path / filename if path.is_dir() else path


def openqa(ctx: DatasetContext) -> list[Prompt]:
    path = _hub_or_path(ctx, "AI-ModelScope/HC3-Chinese", "Hello-SimpleAI/HC3-Chinese", "open_qa.jsonl")
    prompts: list[Prompt] = []
    for lineno, item in iter_jsonl(path):
        if not isinstance(item.get("question"), str):
            raise DataFormatError(str(path), "each line needs a string 'question'", line=lineno)
        prompts.append(item["question"].strip())
        if len(prompts) >= ctx.count * 4:  # enough to cycle through; skip reading a huge file
            break
    return _done(ctx, path, prompts)


def longalpaca(ctx: DatasetContext) -> list[Prompt]:
    path = _hub_or_path(ctx, "AI-ModelScope/LongAlpaca-12k", "Yukang/LongAlpaca-12k", "LongAlpaca-12k.json")
    first = next(iter_lines(path), (0, ""))[1]
    items: list[tuple[int | None, Any]]
    if first.startswith("["):  # the hub's file: one JSON list
        items = [(None, x) for x in read_json(path)]
    else:
        items = list(iter_jsonl(path))
    prompts: list[Prompt] = []
    for i, (lineno, item) in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("instruction"), str):
            where = f"line {lineno}" if lineno else f"item {i}"
            raise DataFormatError(str(path), f"{where} needs a string 'instruction'", line=lineno)
        prompts.append(item["instruction"].strip())
    return _done(ctx, path, prompts)


def line_by_line(ctx: DatasetContext) -> list[Prompt]:
    path = require_path(ctx, "a text file with one prompt per line")
    prompts: list[Prompt] = []
    for lineno, line in iter_lines(path):
        if line[0] in "[{":
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError:
                parsed = line  # text that merely starts with a bracket
            if isinstance(parsed, list) and not all(isinstance(m, dict) for m in parsed):
                raise DataFormatError(str(path), "a JSON array line must be a list of messages", line=lineno)
            prompts.append(parsed)
        else:
            prompts.append(line)
    return _done(ctx, path, prompts)


_TEXT_KEYS = ("prompt", "query", "question", "input")


def custom(ctx: DatasetContext) -> list[Prompt]:
    path = require_path(ctx, "a JSONL file with a 'prompt' (or 'messages') per line")
    prompts: list[Prompt] = []
    for lineno, line in iter_lines(path):
        if not line.startswith("{"):
            prompts.append(line)
            continue
        item = parse_json_line(path, lineno, line)
        if isinstance(item.get("messages"), list):
            prompts.append(item["messages"])
        elif isinstance(item.get("body"), dict):
            prompts.append(item["body"])
        else:
            text = next((item[k] for k in _TEXT_KEYS if isinstance(item.get(k), str)), None)
            if text is None:
                raise DataFormatError(
                    str(path), f"needs one of {', '.join(_TEXT_KEYS)}, 'messages' or 'body'", line=lineno
                )
            prompts.append(text)
    return _done(ctx, path, prompts)
