"""The index of one review file (`reviews/<model>/<benchmark>.jsonl`, a `SampleRecord` per line).

Built once per file and kept while the file's size and mtime stay the same. It holds what the
browser filters and lists — per sample its subset, id, headline score, status, tags and the first
characters of question, answer, extracted answer and target — as columns (one JSON array per
field, subsets and tags dictionary-encoded), plus each line's byte offset: a drill-down reads one
line with one `seek`, never the whole file again.

The question shown is the last user message without what every sample of its subset starts with
(the prompt template, the few-shot examples), cut at a line break: `Answer the following multiple
choice question…\n\nWhich planet…` is listed as `Which planet…`.

Lines are read as plain JSON rather than validated as `SampleRecord`s: validating 100,000 records
costs seconds, and a viewer should show an older or newer record as it is (`schema_version` 1 and 2
records carry the same fields the index reads). A line that is not JSON is counted as a problem
with its line number and skipped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalscope_app.safety import redact_text, scrub

__all__ = ["PREVIEW_CHARS", "ReviewIndex", "build_review_index"]

#: Characters of each text kept in the index: what the table shows and the text filter searches.
PREVIEW_CHARS = 200
OK, ERROR, UNSCORED = 0, 1, 2


def _loads(raw: bytes) -> Any:
    """orjson when installed (3-4 times faster on 100,000 lines), else the standard library."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson ships wherever its wheels exist
        return json.loads(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # Python's json accepts NaN/Infinity (written by json.dumps), orjson does not: try it once more.
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise exc from None


def _preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " | ".join(str(v) for v in value)
    text = " ".join(str(value)[: limit * 2].split())[:limit]
    return redact_text(text)


def _last_user_message(messages: Any) -> str:
    if not isinstance(messages, list):
        return ""
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            content = m.get("content")
            if isinstance(content, list):  # multimodal parts: the text ones
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def _mapping(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (a record of another shape never raises)."""
    return value if isinstance(value, dict) else {}


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class _SubsetPrefixes:
    """Per subset, the text its prompts share, learnt from the subset's first `SAMPLE` prompts.

    Until a subset has `SAMPLE` prompts its rows wait (heads only, so memory stays bounded); then
    their previews are filled in and later rows are cut as they come.
    """

    SAMPLE = 16
    HEAD = 4000  # a longer shared prefix (many-shot prompts) is only partly cut

    def __init__(self, previews: list[str]) -> None:
        self.previews = previews
        self.prefix: dict[int, str] = {}
        self.pending: dict[int, list[tuple[int, str]]] = {}

    def add(self, subset: int, row: int, text: str) -> None:
        prefix = self.prefix.get(subset)
        if prefix is not None:
            self.previews[row] = _preview(text[len(prefix) :] if text.startswith(prefix) else text)
            return
        waiting = self.pending.setdefault(subset, [])
        waiting.append((row, text[: self.HEAD + 2 * PREVIEW_CHARS]))
        if len(waiting) >= self.SAMPLE:
            self._decide(subset)

    def _decide(self, subset: int) -> None:
        import os.path

        waiting = self.pending.pop(subset)
        shared = os.path.commonprefix([t[: self.HEAD] for _, t in waiting]) if len(waiting) > 1 else ""
        prefix = shared[: shared.rfind("\n") + 1]  # whole lines only: never half a question
        self.prefix[subset] = prefix
        for row, text in waiting:
            self.previews[row] = _preview(text[len(prefix) :] if text.startswith(prefix) else text)

    def finish(self) -> None:
        for subset in list(self.pending):
            self._decide(subset)


@dataclass
class _Dictionary:
    """Strings → small ints, so 100,000 rows carry a number instead of a repeated subset name."""

    values: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    def code(self, value: str) -> int:
        code = self.index.get(value)
        if code is None:
            code = self.index[value] = len(self.values)
            self.values.append(value)
        return code


@dataclass
class ReviewIndex:
    path: Path
    size: int
    mtime_ns: int
    metric: str
    offsets: list[int]
    lengths: list[int]
    columns: dict[str, Any]
    problems: list[str]
    _payload: bytes | None = None

    def payload(self, extra: dict[str, Any]) -> bytes:
        """The columns as JSON bytes, encoded once (the same bytes answer every later request)."""
        if self._payload is None:
            body = {**extra, **self.columns, "problems": self.problems}
            try:
                import orjson

                self._payload = orjson.dumps(body)
            except ImportError:  # pragma: no cover
                self._payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self._payload

    def records(self, lines: Iterable[int]) -> list[dict[str, Any] | None]:
        """Full records (scrubbed) of the given line numbers, in that order; None for a bad number."""
        wanted = list(lines)
        out: dict[int, dict[str, Any] | None] = {}
        with self.path.open("rb") as fh:
            for i in sorted(set(wanted)):
                if not 0 <= i < len(self.offsets):
                    out[i] = None
                    continue
                fh.seek(self.offsets[i])
                try:
                    data = _loads(fh.read(self.lengths[i]))
                except ValueError:
                    out[i] = None
                    continue
                record: dict[str, Any] = scrub(data) if isinstance(data, dict) else {"value": scrub(data)}
                record["_line"] = i
                out[i] = record
        return [out[i] for i in wanted]


def build_review_index(path: Path, metric: str | None) -> ReviewIndex:
    """Read `path` once into a `ReviewIndex`; `metric` is the report's headline (`acc` of `mean_acc`)."""
    st = path.stat()
    subsets, tags, models = _Dictionary(), _Dictionary(), _Dictionary()
    cols: dict[str, list[Any]] = {k: [] for k in ("subset", "id", "score", "status", "q", "pred", "ext",
                                                  "target", "tags")}  # fmt: skip
    arena: dict[str, list[Any]] = {k: [] for k in ("m1", "m2", "vo", "vs", "flip")}
    offsets: list[int] = []
    lengths: list[int] = []
    problems: list[str] = []
    prefixes = _SubsetPrefixes(cols["q"])
    headline, decided = metric, False
    offset = 0
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            start, offset = offset, offset + len(raw)
            if not raw.strip():
                continue
            try:
                rec = _loads(raw)
            except ValueError:  # orjson's and json's decode errors are ValueErrors
                problems.append(f"line {lineno}: truncated or invalid JSON")
                continue
            if not isinstance(rec, dict):
                problems.append(f"line {lineno}: not a JSON object")
                continue
            scores = _mapping(rec.get("scores"))
            if not decided and scores:  # the report's metric when the records carry it, else their first
                headline, decided = (metric if metric in scores else next(iter(scores))), True
            status = ERROR if rec.get("error") else UNSCORED if rec.get("unscored") else OK
            value = _finite(scores.get(headline)) if headline else None
            if status == ERROR and value is None:
                value = 0.0  # a failed sample counts 0 in every figure, as the report counts it
            meta = _mapping(rec.get("metadata"))
            offsets.append(start)
            lengths.append(len(raw))
            cols["subset"].append(subsets.code(str(rec.get("subset", ""))))
            cols["id"].append(redact_text(str(rec.get("id", lineno - 1))))
            cols["score"].append(None if status == UNSCORED else value)
            cols["status"].append(status)
            cols["q"].append("")
            prefixes.add(cols["subset"][-1], len(cols["q"]) - 1, _last_user_message(rec.get("input")))
            preds = rec.get("predictions") or []
            cols["pred"].append(_preview(rec.get("prediction") if rec.get("prediction") is not None
                                         else (preds[0] if preds else "")))  # fmt: skip
            cols["ext"].append(_preview(rec.get("extracted"), 100))
            cols["target"].append(_preview(rec.get("target"), 100))
            cols["tags"].append([tags.code(t) for t in _tags(rec, meta, status)])
            if "model_1" in meta and "model_2" in meta:
                _battle(arena, models, meta)
    prefixes.finish()
    columns: dict[str, Any] = {"n": len(offsets), "metric": headline or "", "subsets": subsets.values,
                               "tag_names": tags.values, **cols}  # fmt: skip
    if arena["m1"]:
        columns["arena"] = {**arena, "models": models.values}
    return ReviewIndex(path, st.st_size, st.st_mtime_ns, headline or "", offsets, lengths, columns, problems)


def _tags(rec: dict[str, Any], meta: dict[str, Any], status: int) -> list[str]:
    """What a sample can be filtered by besides its text: collection tags and task type, outcome kinds."""
    out: list[str] = []
    info = meta.get("collection_info")
    if isinstance(info, dict):
        out += [str(t) for t in info.get("tags") or []]
        if info.get("task_type"):
            out.append(f"task:{info['task_type']}")
        if info.get("dataset_name"):
            out.append(f"dataset:{info['dataset_name']}")
    if status == ERROR:
        out.append("error")
    elif status == UNSCORED:
        out.append("unscored")
    if isinstance(meta.get("judge"), dict):
        out.append("judged")
    if meta.get("executions"):
        out.append("sandbox")
    if rec.get("reasoning"):
        out.append("reasoning")
    if len(rec.get("predictions") or []) > 1:
        out.append("n>1")
    return list(dict.fromkeys(redact_text(t) for t in out))


def _battle(arena: dict[str, list[Any]], models: _Dictionary, meta: dict[str, Any]) -> None:
    """An arena record's pair and its verdicts in both orders (first judge, first repeat)."""
    verdicts: dict[str, str] = {}
    judge = _mapping(meta.get("judge"))
    for attempt in judge.get("attempts") or []:
        if not isinstance(attempt, dict):
            continue
        placement = str(attempt.get("placement", "original"))
        verdict = _mapping(attempt.get("parsed")).get("verdict")
        verdicts.setdefault(placement, str(verdict) if verdict is not None else "✗")
    arena["m1"].append(models.code(str(meta["model_1"])))
    arena["m2"].append(models.code(str(meta["model_2"])))
    arena["vo"].append(verdicts.get("original", ""))
    arena["vs"].append(verdicts.get("swapped", ""))
    arena["flip"].append(_finite(judge.get("position_flip")))
