"""Reading both engines' per-sample reviews, pairing samples by content, comparing scores.

Samples are paired by question text, not by position: EvalScope filters some datasets
(`sample_filter`), regroups others by a record field (`reformat_subset`) and names subsets its own
way, so positions need not line up, while the question text is in both prompts whenever the two
engines ask the same thing. Pairing is greedy, longest key first, so a short question that is a
substring of a longer one never takes the longer one's sample; duplicate questions pair in order.

Pure functions on plain data (no engine imports): the fast pytest test exercises them offline.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fidelity.replies import Reply

__all__ = [
    "Planned",
    "Scored",
    "Row",
    "read_theirs",
    "read_ours",
    "pair",
    "compare",
    "METRIC_ALIASES",
    "first_difference",
]

#: our metric name -> EvalScope's score keys that mean the same (`acc` is shown as `accuracy` there)
METRIC_ALIASES: dict[str, tuple[str, ...]] = {"acc": ("acc", "accuracy")}
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Planned:
    """One sample of ours as planned: the reply scripted for it and the prompt we send."""

    index: int
    subset: str
    key: str
    reply: Reply
    prompt: str


@dataclass(frozen=True)
class Scored:
    """One engine's review of one sample."""

    subset: str
    index: int
    prompt: str
    prediction: str
    extracted: str | None
    scores: dict[str, float]
    error: str | None = None


@dataclass
class Row:
    planned: Planned
    theirs: Scored | None
    ours: Scored | None
    equal: bool
    reason: str = ""
    compared: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    round: int = 0  # run.py's round (benchmarks with fewer samples than reply formats run again)

    @property
    def prompt_equal(self) -> bool:
        return self.theirs is not None and self.ours is not None and self.theirs.prompt == self.ours.prompt

    def to_json(self) -> dict[str, Any]:
        """The difference record written to results/: enough to see why without rerunning."""
        out: dict[str, Any] = {
            "round": self.round,
            "subset": self.planned.subset,
            "index": self.planned.index,
            "question": _clip(self.planned.key, 300),
            "reply_format": self.planned.reply.fmt,
            "reply": self.planned.reply.text,
            "reason": self.reason,
            "scores": {m: {"theirs": t, "ours": o} for m, (t, o) in self.compared.items()},
        }
        for side, scored in (("theirs", self.theirs), ("ours", self.ours)):
            if scored is not None:
                out[side] = {
                    "extracted": scored.extracted,
                    "prediction": scored.prediction,
                    "error": scored.error,
                }
        if self.theirs is not None and self.ours is not None and not self.prompt_equal:
            out["prompt_difference"] = first_difference(self.theirs.prompt, self.ours.prompt)
        return out


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def first_difference(theirs: str, ours: str, context: int = 60) -> dict[str, Any]:
    """Where two prompts first differ, with a little context on each side."""
    i = next(
        (k for k, (a, b) in enumerate(zip(theirs, ours, strict=False)) if a != b), min(len(theirs), len(ours))
    )
    lo = max(0, i - context)
    return {
        "offset": i,
        "theirs": theirs[lo : i + context],
        "ours": ours[lo : i + context],
        "lengths": [len(theirs), len(ours)],
    }


def _last_user(messages: Iterable[Mapping[str, Any]]) -> str:
    users = [m for m in messages if m.get("role") == "user"]
    content = users[-1].get("content", "") if users else ""
    if isinstance(content, list):  # content parts
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def read_theirs(reviews_dir: Path, benchmark: str, others: Iterable[str] = ()) -> list[Scored]:
    """EvalScope 1.14.1 reviews: `reviews/<model>/<benchmark>_<subset>.jsonl`, one line per sample.

    Each line holds the chat `messages` and `sample_score.score` with `value` (metric -> score),
    `prediction` (the reply with its first `<think>…</think>` block removed) and
    `extracted_prediction`. `others`: benchmarks run in the same folder, so that `mmlu_pro_law.jsonl`
    is not read as MMLU's subset `pro_law`.
    """
    out: list[Scored] = []
    prefix = f"{benchmark}_"
    longer = [f"{o}_" for o in others if o.startswith(prefix)]
    for path in sorted(reviews_dir.glob(f"{benchmark}_*.jsonl")):
        if any(path.name.startswith(o) for o in longer):
            continue
        subset = path.name[len(prefix) : -len(".jsonl")]
        # "\n" only: str.splitlines() also splits at U+2028 & co., which JSON strings may hold raw.
        for line in path.read_text(encoding="utf-8").split("\n"):
            if not line.strip():
                continue
            row = json.loads(line)
            score = (row.get("sample_score") or {}).get("score") or {}
            status = score.get("status")
            out.append(
                Scored(
                    subset=subset,
                    index=int(row.get("index", len(out))),
                    prompt=_last_user(row.get("messages") or []),
                    prediction=str(score.get("prediction") or ""),
                    extracted=score.get("extracted_prediction"),
                    scores={k: float(v) for k, v in (score.get("value") or {}).items() if _numeric(v)},
                    error=None if status in (None, "success") else str(status),
                )
            )
    return out


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float, bool))


def read_ours(review_file: Path) -> dict[int, Scored]:
    """Our reviews (`SampleRecord` lines of `reviews/<model>/<benchmark>.jsonl`) by sample index."""
    out: dict[int, Scored] = {}
    for line in review_file.read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        rec = json.loads(line)
        out[int(rec["index"])] = Scored(
            subset=str(rec.get("subset", "")),
            index=int(rec["index"]),
            prompt=_last_user(rec.get("input") or []),
            prediction=str(rec.get("prediction") or ""),
            extracted=rec.get("extracted"),
            scores={k: float(v) for k, v in (rec.get("scores") or {}).items()},
            error=rec.get("error"),
        )
    return out


def pair(planned: list[Planned], theirs: list[Scored]) -> dict[int, Scored]:
    """Our sample index -> their review whose prompt contains our question text.

    Longest key first; same subset name preferred, then any subset (their names may differ); among
    candidates the lowest (subset, index), so repeated questions pair in dataset order.
    """
    taken: set[int] = set()
    result: dict[int, Scored] = {}
    order = sorted(theirs, key=lambda s: (s.subset, s.index))
    for p in sorted(planned, key=lambda p: (-len(p.key), p.index)):
        best: int | None = None
        for pos, s in enumerate(order):
            if pos in taken or p.key not in s.prompt:
                continue
            if s.subset == p.subset:
                best = pos
                break
            if best is None:
                best = pos
        if best is not None:
            taken.add(best)
            result[p.index] = order[best]
    return result


def _their_score(metric: str, theirs: Mapping[str, float], mapping: Mapping[str, str]) -> float | None:
    names = (mapping[metric],) if metric in mapping else METRIC_ALIASES.get(metric, (metric,))
    for name in names:
        if name in theirs:
            return theirs[name]
    return None


def compare(
    planned: list[Planned],
    theirs: Mapping[int, Scored],
    ours: Mapping[int, Scored],
    metrics: Mapping[str, str] | None = None,
    no_reply: str | None = None,
) -> list[Row]:
    """One row per planned sample: equal when both engines scored it and every metric agrees.

    `no_reply` is the server's default reply: a side that got it sent a prompt without the question
    text, so its score says nothing about answer parsing and the row is a difference whatever it scored.
    """
    mapping = metrics or {}
    rows: list[Row] = []
    for p in sorted(planned, key=lambda p: p.index):
        t, o = theirs.get(p.index), ours.get(p.index)
        if t is None or o is None:
            why = "not scored by EvalScope (no review whose prompt holds the question)" if t is None else ""
            why = why or "not scored by us"
            rows.append(Row(p, t, o, False, why))
            continue
        compared: dict[str, tuple[float | None, float | None]] = {}
        for metric in o.scores or dict.fromkeys(mapping):
            compared[metric] = (_their_score(metric, t.scores, mapping), o.scores.get(metric))
        if not compared:
            rows.append(Row(p, t, o, False, "no score on our side", compared))
            continue
        bad = [m for m, (a, b) in compared.items() if a is None or b is None or abs(a - b) > TOLERANCE]
        reason = ""
        unscripted = [
            side for side, x in (("theirs", t), ("ours", o)) if no_reply and no_reply in x.prediction
        ]
        if unscripted:
            reason = (
                f"no scripted reply reached {' and '.join(unscripted)}: the prompt lacks the question text"
            )
        elif bad:
            reason = "score differs: " + ", ".join(bad)
        elif bool(t.error) != bool(o.error):  # one engine failed the sample, the other scored it
            reason = f"error: theirs={t.error!r} ours={o.error!r}"
        rows.append(Row(p, t, o, not reason, reason, compared))
    return rows
