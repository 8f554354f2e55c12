"""`evalscope perf` results as the core's `RunRecord`, for the experiment-tracker reporters.

Perf never imports a tracker: it builds the record (figures, a series per run of a sweep, tables,
files) and `evalscope.run_record.send_record` hands it to whichever reporters `--visualizer`,
`--wandb-api-key` or `--swanlab-api-key` named (evalscope-tracking provides wandb, swanlab, mlflow).
The project is EvalScope's, `perf_benchmark`; the run name is `--name`, else `<model>_<time>`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalscope.run_record import MAX_TABLE_ROWS, RecordTable, RunRecord, flatten_figures, send_record
from pydantic import SecretStr

from evalscope_perf.config import PerfConfig
from evalscope_perf.summary import RunSummary

if TYPE_CHECKING:
    from evalscope_perf.benchmark import PerfResult

__all__ = ["perf_record", "send_to_trackers"]

log = logging.getLogger("evalscope.perf")

#: Per-request columns worth a table (the streamed text and inter-token gaps stay in SQLite).
_REQUEST_COLUMNS = (
    "idx", "success", "status", "error", "latency", "ttft", "tpot", "n_chunks", "prompt_tokens",
    "completion_tokens",
)  # fmt: skip


#: Numbers of the summaries that are not measurements (the runs of a sweep are its steps).
_NOT_FIGURES = {"schema_version", "runs"}


def send_to_trackers(cfg: PerfConfig, result: PerfResult, trackers: list[Any]) -> None:
    """Build the record and send it; a failure is logged, never raised (the results are on disk)."""
    try:
        record = perf_record(cfg, result)
    except Exception:
        log.exception("could not build the results record for the trackers; the results are in %s",
                      result.output_dir)  # fmt: skip
        return
    send_record(record, trackers)


def perf_record(cfg: PerfConfig, result: PerfResult) -> RunRecord:
    """Figures of the last run (a sweep: one step per run), the runs, percentiles and requests as tables."""
    runs = result.runs
    labels = [_label(r, result.output_dir) for r in runs]
    steps = [_figures(r) for r in runs] if len(runs) > 1 else []
    figures = _figures(runs[-1])
    for prefix, summary in (("sweep", result.sweep), ("sla", result.sla)):
        if summary is not None:  # e.g. sweep/saturation_rate; the runs themselves are the steps
            figures.update(flatten_figures(summary.model_dump(mode="json", exclude=_NOT_FIGURES), prefix))
    tables = [_runs_table(runs, labels)]
    files = [*result.plots, *([result.report] if result.report else [])]
    for run, label in zip(runs, labels, strict=True):
        run_dir = Path(run.run_dir)
        percentiles = _percentile_table(label, run_dir / "benchmark_percentile.json")
        if percentiles is not None:
            tables.append(percentiles)
        requests = _request_table(label, run_dir / "benchmark_data.db")
        if requests is not None:
            tables.append(requests)
        files.append(str(run_dir / "benchmark_summary.json"))
    name = cfg.name or f"{cfg.display_name}_{datetime.now().strftime('%Y%m%d_%H%M%S')}"
    keys = {"wandb": cfg.wandb_api_key, "swanlab": cfg.swanlab_api_key}
    return RunRecord(
        kind="perf",
        name=name,
        project="perf_benchmark",
        run_dir=result.output_dir,
        work_dir=cfg.outputs_dir,
        config=cfg.redacted(),
        figures=figures,
        steps=steps,
        tables=tables,
        files=[f for f in files if Path(f).is_file()],
        tags={"kind": "perf", "model": str(cfg.model), "api": cfg.api},
        credentials={k: SecretStr(v) for k, v in keys.items() if v},
    )


def _figures(run: RunSummary) -> dict[str, float]:
    return flatten_figures(run.model_dump(mode="json", exclude=_NOT_FIGURES))


def _label(run: RunSummary, output_dir: str) -> str:
    """The run's folder under the output folder (`parallel_8_number_80`, `sla/parallel_4_run2`): unique
    where `RunSummary.label` repeats (an SLA probe's runs, --repeats)."""
    try:
        return Path(run.run_dir).relative_to(output_dir).as_posix()
    except ValueError:
        return run.label


def _runs_table(runs: list[RunSummary], labels: list[str]) -> RecordTable:
    rows = [_figures(r) for r in runs]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return RecordTable(
        name="runs",
        columns=["run", *columns],
        rows=[[label, *[row.get(c) for c in columns]] for label, row in zip(labels, rows, strict=True)],
    )


def _percentile_table(label: str, path: Path) -> RecordTable | None:
    """EvalScope's percentile rows (`benchmark_percentile.json`), as `percentiles/<run>`."""
    if not path.is_file():
        return None
    rows = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
        return None
    columns = list(rows[0])
    return RecordTable(
        name=f"percentiles/{label}", columns=columns, rows=[[r.get(c) for c in columns] for r in rows]
    )


def _request_table(label: str, path: Path) -> RecordTable | None:
    """The measured requests (warm-up excluded) from the run's SQLite, as `requests/<run>`."""
    if not path.is_file():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        present = {row[1] for row in db.execute("PRAGMA table_info(requests)")}
        columns = [c for c in _REQUEST_COLUMNS if c in present]
        if not columns:
            return None
        where = " WHERE warmup = 0" if "warmup" in present else ""
        total = db.execute(f"SELECT COUNT(*) FROM requests{where}").fetchone()[0]
        rows = db.execute(
            f"SELECT {', '.join(columns)} FROM requests{where} ORDER BY id LIMIT ?", (MAX_TABLE_ROWS,)
        )
        data = [list(r) for r in rows]
    finally:
        db.close()
    return RecordTable(
        name=f"requests/{label}", columns=columns, rows=data, truncated=max(0, total - len(data))
    )
