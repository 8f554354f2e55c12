"""An `evalscope perf` output folder as the app shows it (see docs/perf.md, "Outputs").

Read as plain JSON, not through evalscope-perf's models, so the app needs no perf install and also
reads folders written by EvalScope 1.x, whose summaries carry only EvalScope's keys
(`Concurrency`, `Req Throughput (req/s)`, ...): `_KEYS` maps them onto our field names. The SQLite
request log is not read: the summary and percentile files hold every figure the views draw.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from evalscope_app.eval_runs import Problem, run_date
from evalscope_app.safety import SafeRoot, scrub

__all__ = ["load_perf_run", "perf_fingerprint"]

#: Our `RunSummary` field ← EvalScope 1.10+ and 1.0-1.6 spellings (values as EvalScope writes them).
_KEYS: dict[str, tuple[str, ...]] = {
    "parallel": ("Concurrency", "Number of concurrency"),
    "rate": ("Request Rate (req/s)", "Request rate (req/s)"),
    "total_requests": ("Total Requests", "Total requests"),
    "succeeded": ("Success Requests", "Succeed requests"),
    "failed": ("Failed Requests", "Failed requests"),
    "request_throughput": ("Req Throughput (req/s)", "Request throughput (req/s)"),
    "output_throughput": ("Output Throughput (tok/s)", "Output token throughput (tok/s)"),
    "total_token_throughput": ("Total Throughput (tok/s)", "Total token throughput (tok/s)"),
    "duration_s": ("Test Duration (s)", "Time taken for tests (s)"),
}
_MS_KEYS = {"ttft_ms": "Avg TTFT (ms)", "tpot_ms": "Avg TPOT (ms)", "itl_ms": "Avg ITL (ms)"}


def _run_folders(path: Path) -> list[Path]:
    out: list[Path] = []
    for base in (path, path / "sla"):
        try:
            entries = sorted(os.scandir(base), key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False) and (Path(e.path) / "benchmark_summary.json").is_file():
                out.append(Path(e.path))
    return out


def perf_fingerprint(path: Path) -> tuple[Any, ...]:
    files = [path / n for n in ("perf_config.json", "sweep_summary.json", "sla_summary.json")]
    for run in _run_folders(path):
        files += [run / "benchmark_summary.json", run / "benchmark_percentile.json"]
    stats: list[Any] = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        stats.append((str(f), st.st_size, st.st_mtime_ns))
    return tuple(stats)


def _read_json(file: Path, root: SafeRoot, problems: list[Problem]) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
        return scrub(json.loads(text))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.append(
            Problem(root.relative(file), f"unreadable or truncated JSON: {str(exc).splitlines()[0]}")
        )
        return None


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    """Our field names, filled from EvalScope's keys where a folder was written by EvalScope itself."""
    out = dict(data)
    for ours, theirs in _KEYS.items():
        if out.get(ours) is None:
            out[ours] = next((data[k] for k in theirs if k in data), None)
    for ours, key in _MS_KEYS.items():
        if not isinstance(out.get(ours), dict) and key in data:
            out[ours] = {"mean": data[key]}
    if not isinstance(out.get("e2el_ms"), dict):
        latency = data.get("Avg Latency (s)", data.get("Average latency (s)"))
        out["e2el_ms"] = {"mean": latency * 1000 if isinstance(latency, (int, float)) else None}
    return out


def load_perf_run(path: Path, root: SafeRoot, run_id: str) -> dict[str, Any]:
    problems: list[Problem] = []
    config = None
    if (path / "perf_config.json").is_file():
        config = _read_json(path / "perf_config.json", root, problems)
    runs: list[dict[str, Any]] = []
    for folder in _run_folders(path):
        data = _read_json(folder / "benchmark_summary.json", root, problems)
        if not isinstance(data, dict):
            if data is not None:
                problems.append(
                    Problem(root.relative(folder / "benchmark_summary.json"), "not a perf summary")
                )
            continue
        percentiles = None
        if (folder / "benchmark_percentile.json").is_file():
            percentiles = _read_json(folder / "benchmark_percentile.json", root, problems)
        rel = root.relative(folder)
        runs.append({"label": rel.removeprefix(run_id + "/") if run_id else rel,
                     "summary": _normalise(data),
                     "percentiles": percentiles if isinstance(percentiles, list) else []})  # fmt: skip
    sla = (
        _read_json(path / "sla_summary.json", root, problems)
        if (path / "sla_summary.json").is_file()
        else None
    )
    first: dict[str, Any] = runs[0]["summary"] if runs else {}
    model = (config or {}).get("model") or first.get("model") or path.name
    best = max((r["summary"].get("request_throughput") or 0 for r in runs), default=None)
    files = [root.relative(p) for p in (path / "perf_config.json", path / "sweep_summary.json",
                                         path / "sweep_plots.png", path / "sla_summary.json") if p.is_file()]  # fmt: skip
    summary = {
        "id": run_id,
        "kind": "perf",
        "date": run_date(path, first.get("started_at")),
        "backend": "perf",
        "models": [str(model)],
        "benchmarks": sorted(
            {str(r["summary"].get("dataset") or (config or {}).get("dataset") or "-") for r in runs}
        )
        or ["-"],  # fmt: skip
        "scores": [],
        "perf": {
            "runs": len(runs),
            "best_request_throughput": best,
            "parallel": [r["summary"].get("parallel") for r in runs],
        },  # fmt: skip
        "num_samples": sum(int(r["summary"].get("total_requests") or 0) for r in runs),
        "sources": [],
        "features": ["perf"],
        "problems": [p.to_json() for p in problems],
        "config": config if isinstance(config, dict) else None,
    }
    return {"summary": summary, "runs": runs, "sla": sla, "files": files}
