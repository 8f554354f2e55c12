"""`RunRecord`: a finished run as an experiment tracker sees it, for `evalscope eval` and `perf` alike.

Why a record rather than the reports: a tracker (MLflow, W&B, SwanLab) logs figures, tables, a config
and files; it need not know what an eval `Report` or a perf summary is, and a plugin never imports
another plugin. So the core defines this one shape: `record_from_reports` makes it from an eval run,
perf builds its own from its summaries, and `send_record` hands it to every reporter whose spec says
`accepts="record"`. `send_record` is the one place that redacts (every string passes
`evalscope.secrets`, secret-named keys are masked) and isolates failures: a tracker that raises or
is not installed logs one error naming the fix, and the run still succeeds.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

if TYPE_CHECKING:
    from evalscope.config import TaskConfig
    from evalscope.report import Report
    from evalscope.run_context import RunInfo
    from evalscope.specs import ReporterSpec

__all__ = [
    "MAX_TABLE_ROWS",
    "RecordTable",
    "RunRecord",
    "SCHEMA_VERSION",
    "flatten_figures",
    "record_from_reports",
    "resolve_reporters",
    "send_record",
]

log = logging.getLogger("evalscope.run_record")

SCHEMA_VERSION = 1

#: Rows kept per table (the rest is counted in `RecordTable.truncated`): trackers render tables in a
#: browser, and a 100,000-sample run would make one unusable while the full reviews stay on disk.
MAX_TABLE_ROWS = 10_000


class RecordTable(BaseModel):
    """A table for the tracker (per-sample answers, perf percentiles): named columns, JSON scalar cells."""

    model_config = ConfigDict(extra="forbid")

    name: str
    columns: list[str]
    rows: list[list[Any]] = Field(default_factory=list)
    truncated: int = Field(default=0, description="Rows left out beyond MAX_TABLE_ROWS.")


class RunRecord(BaseModel):
    """What a finished run hands to the `accepts="record"` reporters."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    kind: Literal["eval", "perf"]
    name: str = Field(description="The run's name in the tracker.")
    project: str = Field(description="The tracker's project / experiment name.")
    run_dir: str = Field(description="The run folder (or perf's output folder).")
    work_dir: str = Field(description="Where a tracker with a local store keeps it unless told otherwise.")
    config: dict[str, Any] = Field(default_factory=dict, description="The run's settings, secrets masked.")
    figures: dict[str, float] = Field(
        default_factory=dict,
        description="Final figures, keys like 'gsm8k/mean_acc'. No key may be a path prefix of another "
        "(MLflow's file store keeps each key as a file).",
    )
    steps: list[dict[str, float]] = Field(
        default_factory=list, description="A series, one entry per step (perf: one per run of a sweep)."
    )
    tables: list[RecordTable] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list, description="Files to attach (reports, plots).")
    tags: dict[str, str] = Field(default_factory=dict)
    credentials: dict[str, SecretStr] = Field(
        default_factory=dict,
        exclude=True,
        repr=False,
        description="Tracker name → API key given on the command line (perf's --wandb-api-key); never logged.",
    )

    def redacted(self) -> RunRecord:
        """A copy whose every string passed `evalscope.secrets` (known values and secret-named keys)."""
        from evalscope.secrets import redact_data, redact_message

        data = self.model_dump(mode="json")
        for key in ("config", "tables", "files", "tags", "run_dir", "work_dir", "project"):
            data[key] = redact_data(data[key])  # figures and steps are numbers: nothing to hide
        data["name"] = redact_message(self.name)
        out = RunRecord.model_validate(data)
        out.credentials = dict(self.credentials)
        return out


def flatten_figures(data: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The finite numbers of a nested mapping keyed `a/b/c` (booleans, strings and lists skipped)."""
    out: dict[str, float] = {}
    for key, value in data.items():
        name = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(flatten_figures(value, name))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = float(value)
    return out


def resolve_reporters(names: Iterable[str] | None, *, records_only: bool = False) -> list[ReporterSpec]:
    """The reporters named (None: the default ones); an unknown name says which package provides it.

    `records_only` (perf): a reporter that only renders eval reports is refused, naming the fix.
    """
    from evalscope import registry
    from evalscope.distributions import install_hint, provider_of
    from evalscope.errors import ConfigError, MissingDependencyError, UnknownNameError

    if names is None:
        specs = [s for s in registry.reporters().all() if s.default]
        return [s for s in specs if s.accepts == "record"] if records_only else specs
    out = []
    for name in names:
        try:
            spec = registry.reporters().resolve(name)
        except UnknownNameError:
            dist = provider_of("reporter", name.rsplit("/", 1)[-1])
            if dist is None:
                raise
            raise MissingDependencyError(
                f"The {name} reporter is provided by the {dist} distribution, which is not installed.",
                hint=install_hint(dist),
            ) from None
        if records_only and spec.accepts != "record":
            takers = sorted(s.canonical_name for s in registry.reporters().all() if s.accepts == "record")
            raise ConfigError(
                f"The {spec.canonical_name} reporter renders eval reports only; it cannot take this run.",
                hint=f"name one that takes a run record: {', '.join(takers)}"
                if takers
                else "install an experiment tracker plugin (`evalscope list reporters` shows what is installed)",
            )
        out.append(spec)
    return out


def send_record(record: RunRecord, reporters: Iterable[ReporterSpec]) -> list[str]:
    """Give the redacted record to each reporter on its own; returns the names of those that failed.

    A failure (the tracker's package missing, a refused login, a full disk) is logged as one error
    with its hint — never raised: the run's results are already on disk.
    """
    from evalscope import registry
    from evalscope.errors import EvalScopeError
    from evalscope.secrets import redact_message

    specs = [s for s in reporters if s.accepts == "record"]
    if not specs:
        return []
    safe = record.redacted()
    failed = []
    for spec in specs:
        try:
            registry.load_impl(spec)(safe)
        except Exception as exc:  # a tracker must never stop a run
            failed.append(spec.canonical_name)
            detail = str(exc) if isinstance(exc, EvalScopeError) else f"{type(exc).__name__}: {exc}"
            message = (
                f"reporter {spec.canonical_name} failed: {redact_message(detail)}\n  (the results are on "
                f"disk in {record.run_dir}; drop {spec.name} from the reporters to skip it)"
            )
            log.error("%s", message)
            if not _reaches_terminal(log):  # eval logs to the run's file only: the user must see it too
                print(f"evalscope: {message}", file=sys.stderr, flush=True)
            log.debug("reporter %s traceback", spec.canonical_name, exc_info=True)
    return failed


def _reaches_terminal(logger: logging.Logger) -> bool:
    """Whether an ERROR on `logger` is shown on the terminal: a stream handler on stdout/stderr, or no
    handler at all (Python's last-resort handler prints it then)."""
    handlers: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        handlers += current.handlers
        current = current.parent if current.propagate else None
    if not handlers:
        return True
    return any(
        isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) in (sys.stderr, sys.stdout)
        for h in handlers
    )


def record_from_reports(reports: list[Report], run: RunInfo, config: TaskConfig) -> RunRecord:
    """An eval run's record: each report's figures, a scores table and per-sample tables from reviews."""
    from evalscope.run import report_keys

    figures: dict[str, float] = {}
    score_rows: list[list[Any]] = []
    tables: list[RecordTable] = []
    for key, rep in report_keys(reports).items():
        figures[f"{key}/num_samples"] = float(rep.num_samples)
        figures[f"{key}/num_errors"] = float(rep.num_errors)
        for m in rep.metrics:
            figures[f"{key}/{m.name}"] = m.score
            for cat in m.categories:
                for sub in cat.subsets:
                    figures[f"{key}/subsets/{sub.name}/{m.name}"] = sub.score
                    score_rows.append(
                        [key, rep.model_name, m.name, cat.name, sub.name, sub.num, sub.score, sub.stderr]
                    )
        samples = _sample_table(f"samples/{key}", run.reviews_path(rep.dataset_name))
        if samples is not None:
            tables.append(samples)
    columns = ["dataset", "model", "metric", "category", "subset", "num", "score", "stderr"]
    tables.insert(0, RecordTable(name="scores", columns=columns, rows=score_rows))
    files = [
        str(run.report_path(rep.dataset_name, rep.model_name))
        for rep in reports
        if run.report_path(rep.dataset_name, rep.model_name).is_file()
    ]
    return RunRecord(
        kind="eval",
        name=f"{run.model_name}_{run.timestamp}",
        project="evalscope",
        run_dir=str(run.run_dir),
        work_dir=str(config.work_dir),
        config=config.public_dump(),
        figures={k: v for k, v in figures.items() if math.isfinite(v)},
        tables=tables,
        files=files,
        tags={"kind": "eval", "model": run.model_name, "backend": run.backend},
    )


def _sample_table(name: str, path: Any) -> RecordTable | None:
    """Per-sample rows from a reviews file (None when the backend wrote none)."""
    if not path.is_file():
        return None
    rows: list[dict[str, Any]] = []
    truncated = 0
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            if len(rows) >= MAX_TABLE_ROWS:
                truncated += 1
                continue
            try:
                rows.append(json.loads(line))
            except ValueError:
                log.warning("%s: skipped an unreadable line in the per-sample table", path)
    score_keys = sorted({k for r in rows for k in (r.get("scores") or {})})
    columns = ["id", "subset", "input", "target", "prediction", "extracted", *score_keys, "error"]
    table_rows = [
        [
            str(r.get("id", "")),
            str(r.get("subset", "")),
            _last_user_text(r.get("input") or []),
            _text(r.get("target")),
            _text(r.get("prediction")),
            _text(r.get("extracted")),
            *[(r.get("scores") or {}).get(k) for k in score_keys],
            _text(r.get("error")),
        ]
        for r in rows
    ]
    return RecordTable(name=name, columns=columns, rows=table_rows, truncated=truncated)


def _last_user_text(messages: list[Any]) -> str:
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            return _text(msg.get("content"))
    return ""


def _text(value: Any) -> str:
    """A cell's text: strings as they are, lists joined, content parts by their text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_text(v.get("text") if isinstance(v, dict) else v) for v in value)
    return str(value)
