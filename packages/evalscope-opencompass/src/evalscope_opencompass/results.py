"""OpenCompass's outputs → EvalScope's report schema (one `Report` per dataset, one `SampleRecord` per row).

What OpenCompass writes under its output folder (`<run>/opencompass/outputs/<timestamp>/`), per model abbr and
dataset abbr (MMLU has one abbr per subject, `lukaemon_mmlu_anatomy`):

* `predictions/<model>/<abbr>.json`: `{"0": {"origin_prompt", "prediction", "gold"}, ...}` (the raw replies);
* `results/<model>/<abbr>.json`: the evaluator's metrics (`{"accuracy": 50.0, ...}`, percentages) and, with
  `--dump-eval-details` (the default), `details`: per row the extracted answer (`pred`) and whether it was
  right (`correct` or `is_correct`, a bool or one bool per repeat);
* `summary/summary_<time>.csv`: one row per abbr and metric, the table OpenCompass prints.

Each abbr becomes a subset of its dataset (its config's `name`, e.g. MMLU's subject). Where the details
give every row's correctness, the report is built from the rows with `build_report` (metric `acc`,
`mean_acc` in the table, like the native backend) and checked against the engine's own accuracy; where they
do not (other evaluators), the engine's metrics are copied as they are, divided by 100 (OpenCompass reports
percentages).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalscope.contracts import ChatMessage
from evalscope.engines.job import read_engine_json
from evalscope.engines.results import engine_metric, report_from_engine_metrics, report_from_rows, rows_agree
from evalscope.errors import EvalScopeError
from evalscope.report import MetricScore, Report, SampleRecord, SubsetScore

_ROLES = {"HUMAN": "user", "BOT": "assistant", "SYSTEM": "system", "user": "user", "assistant": "assistant"}


@dataclass(frozen=True)
class PlanEntry:
    dataset: str
    abbr: str
    subset: str


@dataclass
class SubsetResult:
    """One abbr's rows and the engine's metrics for it."""

    entry: PlanEntry
    records: list[SampleRecord]
    metrics: dict[str, float]  # as the engine reports them (percentages)
    per_row: bool  # every row has a correctness verdict


def read_json(path: Path) -> Any:
    return read_engine_json(path, "OpenCompass")


def load_subset(output_dir: Path, model_abbr: str, entry: PlanEntry) -> SubsetResult:
    """Read one abbr's predictions and results into records."""
    preds = _predictions(output_dir / "predictions" / model_abbr, entry.abbr)
    results = read_json(output_dir / "results" / model_abbr / f"{entry.abbr}.json")
    if not isinstance(results, dict):
        raise EvalScopeError(f"results for {entry.abbr}: expected a mapping, got {type(results).__name__}")
    if "error" in results:
        raise EvalScopeError(f"OpenCompass could not evaluate {entry.abbr}: {results['error']}")
    metrics = {
        k: float(v) for k, v in results.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    details = _details(results.get("details"))
    verdicts = [_verdict(d) for d in details] if len(details) == len(preds) else []
    per_row = bool(preds) and len(verdicts) == len(preds) and all(v is not None for v in verdicts)
    records = []
    for i, row in enumerate(preds):
        detail = details[i] if i < len(details) else {}
        verdict = verdicts[i] if per_row else None
        records.append(
            SampleRecord(
                benchmark=entry.dataset,
                subset=entry.subset,
                index=i,
                id=f"{entry.subset}/{i}",
                cache_key="",
                input=_messages(row.get("origin_prompt")),
                target=_text_or_list(row.get("gold")),
                prediction=_text(row.get("prediction")),
                predictions=[_text(row.get("prediction"))],
                extracted=_first(detail.get("pred")),
                scores={} if verdict is None else {"acc": verdict},
                metadata={"engine": "opencompass", "abbr": entry.abbr}
                | ({"example_abbr": detail["example_abbr"]} if "example_abbr" in detail else {}),
            )
        )
    return SubsetResult(entry=entry, records=records, metrics=metrics, per_row=per_row)


def build_dataset_report(
    dataset: str, subsets: list[SubsetResult], *, model_name: str, fields: dict[str, Any]
) -> Report:
    """One Report for a dataset from its subsets (abbrs): from the rows where each subset's rows are its
    `accuracy` (the engine's headline; other evaluators' F1, BLEU, pass@k ... keep the engine's numbers)."""
    records = [r for s in subsets for r in s.records]
    where: dict[str, Any] = {
        "backend": "opencompass",
        "dataset": dataset,
        "model_name": model_name,
        "fields": fields,
    }
    if subsets and all(s.per_row and _agrees(s) for s in subsets):
        report = report_from_rows(records, **where)
    else:
        report = report_from_engine_metrics(records, _engine_metrics(subsets), **where)
    report.extra["engine_scores"] = {s.entry.abbr: s.metrics for s in subsets}
    return report


def _agrees(s: SubsetResult) -> bool:
    engine = s.metrics.get("accuracy")
    return engine is not None and rows_agree(
        s.entry.abbr, s.records, engine, engine="OpenCompass", scale=100.0
    )


def _engine_metrics(subsets: list[SubsetResult]) -> list[MetricScore]:
    """OpenCompass's metrics as they are, but fractions (it reports percentages); `accuracy` is `mean_acc`."""
    names = list(dict.fromkeys(m for s in subsets for m in s.metrics))
    return [
        engine_metric(
            "mean_acc" if metric == "accuracy" else metric,
            [
                SubsetScore(name=s.entry.subset, num=len(s.records), score=s.metrics[metric] / 100.0)
                for s in subsets
                if metric in s.metrics
            ],
        )
        for metric in names
    ]


def _predictions(folder: Path, abbr: str) -> list[dict[str, Any]]:
    """`<abbr>.json`, or the `<abbr>_0.json`, `<abbr>_1.json` ... parts of a split dataset, in order."""
    single = folder / f"{abbr}.json"
    parts = [single] if single.is_file() else _parts(folder, abbr)
    if not parts:
        raise EvalScopeError(
            f"OpenCompass wrote no predictions for {abbr} under {folder}; the engine log says why."
        )
    rows: list[dict[str, Any]] = []
    for part in parts:
        data = read_json(part)
        items = sorted(data.items(), key=lambda kv: int(kv[0])) if isinstance(data, dict) else enumerate(data)
        rows += [dict(v) for _, v in items]
    return rows


def _parts(folder: Path, abbr: str) -> list[Path]:
    found = []
    for p in folder.glob(f"{abbr}_*.json"):
        tail = p.stem[len(abbr) + 1 :]
        if tail.isdigit():
            found.append((int(tail), p))
    return [p for _, p in sorted(found)]


def _details(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, dict):
        items = sorted(raw.items(), key=lambda kv: int(kv[0]) if str(kv[0]).isdigit() else 0)
        return [dict(v) if isinstance(v, dict) else {} for _, v in items]
    if isinstance(raw, list):
        return [dict(v) if isinstance(v, dict) else {} for v in raw]
    return []


def _verdict(detail: dict[str, Any]) -> float | None:
    """1.0 / 0.0 from `correct` or `is_correct` (a list: the mean over repeats); None when absent."""
    for key in ("correct", "is_correct"):
        if key in detail:
            value = detail[key]
            if isinstance(value, list):
                return sum(bool(v) for v in value) / len(value) if value else None
            return 1.0 if bool(value) else 0.0
    return None


def _messages(prompt: Any) -> list[ChatMessage]:
    if isinstance(prompt, list):
        out = []
        for item in prompt:
            if isinstance(item, dict):
                role = _ROLES.get(str(item.get("role", "HUMAN")), "user")
                out.append(ChatMessage(role=role, content=_text(item.get("prompt", item.get("content")))))
        return out
    return [ChatMessage(role="user", content=_text(prompt))]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else json.dumps(value, ensure_ascii=False)


def _text_or_list(value: Any) -> str | list[str]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return _text(value)


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else _text(value)
