"""Every run under the root, read once and kept: what the server answers from.

A run's summary is rebuilt only when one of the files it came from changes size or mtime
(`eval_fingerprint` / `perf_fingerprint`, a few `stat` calls); a review file's index only when that
file changes. So the first look at a 100,000-sample run reads it once, and every later filter, page
or drill-down is answered from memory (the drill-down with one `seek`). Requests run on several
threads: each cache entry has its own lock, so two requests for the same run build it once and
requests for other runs are not held up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from evalscope_app.discovery import FoundRun, find_runs, run_kind
from evalscope_app.eval_runs import eval_fingerprint, load_eval_run
from evalscope_app.perf_runs import load_perf_run, perf_fingerprint
from evalscope_app.reviews import ReviewIndex, build_review_index
from evalscope_app.safety import SafeRoot

__all__ = ["ROOT_ID", "Catalog"]

#: The id of a run that is the root folder itself (`--outputs outputs/20250101_120000`).
ROOT_ID = "."
T = TypeVar("T")


class _Cache:
    """key → (fingerprint, value), with one lock per key so a value is built once at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._values: dict[str, tuple[Any, Any]] = {}

    def get(self, key: str, fingerprint: Any, build: Callable[[], T]) -> T:
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._values.get(key)
            if hit is not None and hit[0] == fingerprint:
                value: T = hit[1]
                return value
            value = build()
            self._values[key] = (fingerprint, value)
            return value


class Catalog:
    """The runs under `root` (or only under `only`, for an export of chosen folders)."""

    def __init__(self, root: Path, only: Iterable[Path] | None = None) -> None:
        self.safe = SafeRoot(root)
        self.only = [p.resolve() for p in only] if only is not None else None
        self._summaries = _Cache()
        self._reviews = _Cache()

    # ---- runs ---------------------------------------------------------------------------------
    def discover(self) -> list[FoundRun]:
        if self.only is None:
            return find_runs(self.safe.root)
        found: dict[Path, FoundRun] = {}
        for folder in self.only:
            for run in find_runs(folder):
                found.setdefault(run.path, run)
        return [found[k] for k in sorted(found)]

    def run_id(self, path: Path) -> str:
        return self.safe.relative(path) or ROOT_ID

    def _run_path(self, run_id: str) -> tuple[Path, str] | None:
        path = self.safe.root if run_id == ROOT_ID else self.safe.resolve(run_id)
        if path is None or not path.is_dir():
            return None
        if self.only is not None and not any(path == o or path.is_relative_to(o) for o in self.only):
            return None
        kind = run_kind(path)
        return (path, kind) if kind else None

    def run(self, run_id: str) -> dict[str, Any] | None:
        """The run's detail (`summary` plus reports or perf runs), or None for no such run."""
        found = self._run_path(run_id)
        if found is None:
            return None
        path, kind = found
        if kind == "perf":
            return self._summaries.get(run_id, ("perf", perf_fingerprint(path)),
                                       lambda: load_perf_run(path, self.safe, run_id))  # fmt: skip
        return self._summaries.get(run_id, ("eval", eval_fingerprint(path)),
                                   lambda: load_eval_run(path, self.safe, run_id))  # fmt: skip

    def runs(self) -> dict[str, Any]:
        """The overview: every run's summary, newest first."""
        summaries = []
        for found in self.discover():
            detail = self.run(self.run_id(found.path))
            if detail is not None:
                summaries.append(detail["summary"])
        summaries.sort(key=lambda s: (s["date"], s["id"]), reverse=True)
        return {"root": str(self.safe.root), "runs": summaries}

    # ---- samples ------------------------------------------------------------------------------
    def _review_index(self, run_id: str, model: str, bench: str) -> tuple[ReviewIndex, dict[str, Any]] | None:
        detail = self.run(run_id)
        if detail is None or detail["summary"]["kind"] != "eval":
            return None
        source = next((s for s in detail["summary"]["sources"] if s["model"] == model and s["bench"] == bench),
                      None)  # fmt: skip
        if source is None or not source.get("reviews"):
            return None
        path = self.safe.resolve(source["reviews"]["file"])
        if path is None or not path.is_file() or path.is_symlink():
            return None
        report = next(
            (r for r in detail["reports"] if r["_source"] == {"model": model, "bench": bench}), None
        )
        metric = None
        if report and report["metrics"]:
            name = str(report["metrics"][0]["name"])
            metric = name.removeprefix("mean_")
        try:
            st = path.stat()
        except OSError:
            return None
        index = self._reviews.get(str(path), (st.st_size, st.st_mtime_ns, metric),
                                  lambda: build_review_index(path, metric))  # fmt: skip
        return index, source

    def samples(self, run_id: str, model: str, bench: str) -> bytes | None:
        """The review file's index columns as JSON bytes (see `reviews.py`)."""
        found = self._review_index(run_id, model, bench)
        if found is None:
            return None
        index, source = found
        extra = {"run": run_id, "model": model, "bench": bench, "model_name": source["model_name"],
                 "benchmark": source["benchmark"]}  # fmt: skip
        return index.payload(extra)

    def records(self, run_id: str, model: str, bench: str, lines: Iterable[int]) -> list[Any] | None:
        """Full records (secrets scrubbed) of the given lines of one review file."""
        found = self._review_index(run_id, model, bench)
        if found is None:
            return None
        return found[0].records(lines)

    # ---- files --------------------------------------------------------------------------------
    def file(self, rel: str) -> Path | None:
        """A file under the root that may be shown raw (symlinks to outside refused), else None."""
        path = self.safe.resolve(rel)
        if path is None or not path.is_file():
            return None
        if self.only is not None and not any(path.resolve().is_relative_to(o) for o in self.only):
            return None
        return path

    def warm(self, reviews: bool = True) -> None:
        """Build every summary (and review index): called on a background thread at start-up."""
        for found in self.discover():
            run_id = self.run_id(found.path)
            detail = self.run(run_id)
            if not reviews or detail is None:
                continue
            for source in detail["summary"]["sources"]:
                if source.get("reviews"):
                    self.samples(run_id, source["model"], source["bench"])
