"""VLMEvalKit's outputs (as the driver collected them) → EvalScope's report schema.

Per dataset the driver hands over VLMEvalKit's status (`metrics` such as `{"split=none|Overall": 0.75,
"split=none|cool": 1.0}`, the headline `primary_metric`) and the rows of its judged result file: `index`,
`question`, the options `A`..`D`, `answer`, `category`, `prediction` and, for multiple choice, `hit` (1/0).

Rows with a `hit` become scored SampleRecords and the report is built from them (metric `acc`, subsets =
the dataset's categories), after checking that their mean is VLMEvalKit's `Overall`; otherwise the engine's
metrics are copied as they are (VLMEvalKit reports fractions for multiple choice; other task types may use
another scale, kept unchanged). A row whose prediction is VLMEvalKit's "Failed to obtain answer via API"
is a failed sample: recorded with that error, scored 0, counted in the report's `errors`.
"""

from __future__ import annotations

import math
import string
from collections import Counter
from typing import Any

from evalscope.contracts import ChatMessage
from evalscope.engines.results import engine_metric, report_from_engine_metrics, report_from_rows, rows_agree
from evalscope.report import MetricScore, Report, SampleRecord, SubsetScore

FAIL_MESSAGE = "Failed to obtain answer via API"
_OPTION_KEYS = tuple(string.ascii_uppercase[:10])


def dataset_records(name: str, entry: dict[str, Any]) -> list[SampleRecord]:
    rows = entry.get("rows") or []
    records = []
    for i, row in enumerate(rows):
        options = [(k, str(row[k])) for k in _OPTION_KEYS if row.get(k) not in (None, "")]
        text = str(row.get("question", ""))
        if options:
            text += "\n" + "\n".join(f"{k}. {v}" for k, v in options)
        prediction = "" if row.get("prediction") is None else str(row["prediction"])
        failed = prediction.startswith(FAIL_MESSAGE)
        hit = row.get("hit")
        index = row.get("index", i)
        subset = str(row["category"]) if row.get("category") not in (None, "") else "default"
        records.append(
            SampleRecord(
                benchmark=name,
                subset=subset,
                index=i,
                id=f"{name}/{index}",
                cache_key="",
                input=[ChatMessage(role="user", content=text)],
                target="" if row.get("answer") is None else str(row["answer"]),
                choices=[v for _, v in options] or None,
                prediction=prediction,
                predictions=[prediction],
                scores={} if hit is None or failed else {"acc": float(hit)},
                error=f"VLMEvalKit: {prediction}" if failed else None,
                metadata={"engine": "vlmeval", "index": index},
            )
        )
    return records


def dataset_report(
    name: str, entry: dict[str, Any], records: list[SampleRecord], *, model_name: str, fields: dict[str, Any]
) -> Report:
    metrics: dict[str, float] = {k: float(v) for k, v in (entry.get("metrics") or {}).items()}
    where: dict[str, Any] = {
        "backend": "vlmeval",
        "dataset": name,
        "model_name": model_name,
        "fields": fields,
    }
    scored = bool(records) and all("acc" in r.scores or r.error for r in records)
    overall = _overall(metrics)
    if scored and (overall is None or rows_agree(name, records, overall, engine="VLMEvalKit")):
        return report_from_rows(records, **where)  # with no Overall to compare, the rows are all there is
    return report_from_engine_metrics(records, [_engine_metric(entry, records, metrics)], **where)


def _overall(metrics: dict[str, float]) -> float | None:
    for key, value in metrics.items():
        if key.rsplit("|", 1)[-1] == "Overall":
            return value
    return None


def _engine_metric(
    entry: dict[str, Any], records: list[SampleRecord], metrics: dict[str, float]
) -> MetricScore:
    """VLMEvalKit's metrics as they are: `split=none|<category>` per subset, `Overall` the headline."""
    counts = Counter(r.subset for r in records)
    subsets = [
        SubsetScore(name=k.rsplit("|", 1)[-1], num=counts.get(k.rsplit("|", 1)[-1], len(records)), score=v)
        for k, v in metrics.items()
        if k.rsplit("|", 1)[-1] != "Overall"
    ]
    overall = _overall(metrics)
    headline = overall if overall is not None else (subsets[0].score if subsets else math.nan)
    primary = str(entry.get("primary_metric") or "")
    metric_name = "mean_acc" if "acc" in primary.lower() else (primary or "score")
    return engine_metric(metric_name, subsets, num=len(records), score=headline)
