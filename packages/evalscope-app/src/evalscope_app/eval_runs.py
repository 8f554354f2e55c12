"""An evaluation run folder as the app shows it: config, reports, the review files, what failed to load.

Reports are validated with the core's `Report` model, so version 1 files (no uncertainty fields)
load with their defaults and a version 2 file is read as written. A file that cannot be read — cut
short by a crash, not JSON, or JSON of another shape — becomes a `Problem` naming the file, and the
rest of the run still shows. Reading a run costs its config and reports only (kilobytes); the
per-sample reviews are indexed separately (`reviews.py`) when someone opens them.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from evalscope_app.safety import SafeRoot, scrub

__all__ = ["Problem", "eval_fingerprint", "load_eval_run", "run_date"]

#: Files `Benchmark.report_files` writes next to a report: not reports, but worth a link.
EXTRA_FILES = {"leaderboard.txt", "battles.jsonl", "collection_detailed_report.json"}
_STAMP = re.compile(r"^(\d{8})_(\d{6})")


@dataclass(frozen=True)
class Problem:
    file: str
    error: str

    def to_json(self) -> dict[str, str]:
        return {"file": self.file, "error": self.error}


def run_date(path: Path, fallback: str | None = None) -> str:
    """ISO date of a run: its `YYYYmmdd_HHMMSS` folder name (or its parent's), else `fallback`, else mtime."""
    for name in (path.name, path.parent.name):
        m = _STAMP.match(name)
        if m:
            try:
                return datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S").isoformat()
            except ValueError:
                pass
    if fallback:
        return fallback
    try:
        return datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds")
    except OSError:
        return ""


def _listing(folder: Path, suffix: str) -> list[tuple[str, str, Path]]:
    """(model folder, file stem, path) of `<folder>/<model>/<stem><suffix>`, sorted; no symlinks."""
    out = []
    try:
        models = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    for m in models:
        if not m.is_dir(follow_symlinks=False):
            continue
        try:
            files = sorted(os.scandir(m.path), key=lambda e: e.name)
        except OSError:
            continue
        for f in files:
            if f.name.endswith(suffix) and f.is_file(follow_symlinks=False) and not f.name.startswith("."):
                out.append((m.name, f.name[: len(f.name) - len(suffix)], Path(f.path)))
    return out


def eval_fingerprint(path: Path) -> tuple[Any, ...]:
    """(name, size, mtime) of every file the run summary is built from: a change rebuilds it."""
    stats: list[Any] = []
    files = [path / "configs" / "task_config.yaml"]
    files += [p for _, _, p in _listing(path / "reports", "")]
    files += [p for _, _, p in _listing(path / "reviews", ".jsonl")]
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        stats.append((str(f), st.st_size, st.st_mtime_ns))
    return tuple(stats)


def _read_config(path: Path, root: SafeRoot, problems: list[Problem]) -> dict[str, Any] | None:
    cfg = path / "configs" / "task_config.yaml"
    if not cfg.is_file():
        return None
    import yaml

    try:
        data = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(Problem(root.relative(cfg), f"unreadable config: {_first_line(exc)}"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(root.relative(cfg), "not a config (expected a mapping)"))
        return None
    result: dict[str, Any] = scrub(data)
    return result


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def read_report(file: Path) -> dict[str, Any]:
    """The report in `file` as JSON data (secrets scrubbed); ValueError says why it is not one."""
    from evalscope.report import Report
    from pydantic import ValidationError

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"unreadable: {_first_line(exc)}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        why = "truncated JSON" if exc.pos >= len(text.rstrip()) else "invalid JSON"
        raise ValueError(f"{why} ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(data, dict) or "metrics" not in data or "model_name" not in data:
        raise ValueError("not an EvalScope report (no 'metrics' / 'model_name'); skipped")
    try:
        report = Report.model_validate(data)
    except ValidationError as exc:
        if all(e["type"] == "extra_forbidden" for e in exc.errors()):
            # A newer writer added fields: show what this version knows rather than nothing.
            for e in exc.errors():
                _drop(data, e["loc"])
            report = Report.model_validate(data)
            dumped: dict[str, Any] = scrub(report.model_dump(mode="json"))
            return dumped
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ValueError(f"not a valid report (schema_version {data.get('schema_version')}): "
                         f"{where}: {first.get('msg')}") from None  # fmt: skip
    result: dict[str, Any] = scrub(report.model_dump(mode="json"))
    return result


def _drop(data: Any, loc: tuple[int | str, ...]) -> None:
    """Delete the value at `loc` (a pydantic error location) from nested dicts and lists."""
    for key in loc[:-1]:
        data = data[key]
    data.pop(loc[-1], None)


def load_eval_run(path: Path, root: SafeRoot, run_id: str) -> dict[str, Any]:
    """The run's summary (the overview's row) and detail (reports, files), as JSON data."""
    problems: list[Problem] = []
    config = _read_config(path, root, problems)
    reports: list[dict[str, Any]] = []
    extras: list[str] = []
    sources: dict[tuple[str, str], dict[str, Any]] = {}
    for folder, name, file in _listing(path / "reports", ""):
        rel = root.relative(file)
        if name in EXTRA_FILES or not name.endswith(".json"):
            extras.append(rel)
            continue
        try:
            report = read_report(file)
        except ValueError as exc:
            problems.append(Problem(rel, str(exc)))
            continue
        stem = name[: -len(".json")]
        report["_source"] = {"model": folder, "bench": stem}
        reports.append(report)
        sources[(folder, stem)] = {"model": folder, "bench": stem, "model_name": report["model_name"],
                                   "benchmark": report["dataset_name"], "has_report": True, "reviews": None}  # fmt: skip
    for folder, stem, file in _listing(path / "reviews", ".jsonl"):
        src = sources.setdefault(
            (folder, stem),
            {"model": folder, "bench": stem, "model_name": folder, "benchmark": stem, "has_report": False},
        )
        try:
            size = file.stat().st_size
        except OSError:
            size = 0
        src["reviews"] = {"file": root.relative(file), "bytes": size}
    scores = [_headline(r) for r in reports]
    backends = sorted({r["backend"] for r in reports} | ({str(config.get("backend"))} if config and config.get(
        "backend") else set()))  # fmt: skip
    created = min((r["created_at"] for r in reports if r.get("created_at")), default=None)
    features = sorted(
        {k for r in reports for k in ("arena", "collection", "judge") if isinstance(r["extra"].get(k), dict)}
    )
    files = [root.relative(p) for p in (path / "configs" / "task_config.yaml", path / "logs" / "eval_log.log")
             if p.is_file()] + extras  # fmt: skip
    summary = {
        "id": run_id,
        "kind": "eval",
        "date": run_date(path, created),
        "backend": ", ".join(backends) or "native",
        "models": sorted({s["model_name"] for s in sources.values()}),
        "benchmarks": sorted({s["benchmark"] for s in sources.values()}),
        "scores": scores,
        "num_samples": sum(r["num_samples"] for r in reports),
        "sources": sorted(sources.values(), key=lambda s: (s["model"], s["bench"])),
        "features": features,
        "problems": [p.to_json() for p in problems],
        "config": config,
    }
    return {"summary": summary, "reports": reports, "files": files}


def _headline(report: dict[str, Any]) -> dict[str, Any]:
    first = report["metrics"][0] if report["metrics"] else {}
    return {
        "model": report["_source"]["model"],
        "bench": report["_source"]["bench"],
        "model_name": report["model_name"],
        "benchmark": report["dataset_name"],
        "metric": first.get("name"),
        "score": first.get("score"),
        "stderr": first.get("stderr"),
        "ci_low": first.get("ci_low"),
        "ci_high": first.get("ci_high"),
        "num": first.get("num"),
        "version": report.get("benchmark_version", ""),
    }
