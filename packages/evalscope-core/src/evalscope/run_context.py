"""The run folder, logging, and lifecycle-hook dispatch shared by every backend.

Layout (as EvalScope's, so its users find things where they expect):

    <work_dir>/<YYYYmmdd_HHMMSS>/
        configs/task_config.yaml     the resolved config, secrets redacted
        logs/eval_log.log
        predictions/<model>/<benchmark>.jsonl   raw model outputs, appended as they finish (the cache)
        reviews/<model>/<benchmark>.jsonl       scored per-sample records
        reports/<model>/<benchmark>.json        the aggregated Report
        shards/<model>/<benchmark>/<key>.jsonl  a distributed run's finished shards (`--runner ray`)

With `use_cache=<folder>` that folder *is* the run folder: the run resumes in place.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = [
    "RunInfo",
    "SecretFilter",
    "atomic_write_json",
    "atomic_write_text",
    "call_lifecycle",
    "check_run_paths",
    "choose_run_dir",
    "is_run_folder",
    "reset_lifecycle_failures",
    "setup_run_logging",
]

log = logging.getLogger("evalscope")


@dataclass
class RunInfo:
    """What lifecycle hooks learn about a run."""

    run_dir: Path
    model_name: str
    backend: str
    benchmarks: list[str] = field(default_factory=list)

    @property
    def timestamp(self) -> str:
        return self.run_dir.name

    def predictions_path(self, benchmark: str) -> Path:
        return self.run_dir / "predictions" / _safe(self.model_name) / f"{_safe(benchmark)}.jsonl"

    def reviews_path(self, benchmark: str) -> Path:
        return self.run_dir / "reviews" / _safe(self.model_name) / f"{_safe(benchmark)}.jsonl"

    def shard_path(self, benchmark: str, key: str) -> Path:
        """A finished shard's scored records (`evalscope.sharding`), written at once when it ends."""
        return self.run_dir / "shards" / _safe(self.model_name) / _safe(benchmark) / f"{key}.jsonl"

    def report_path(self, benchmark: str, model_name: str | None = None) -> Path:
        """`reports/<model>/<benchmark>.json`; a backend that runs several models names each report's."""
        return self.run_dir / "reports" / _safe(model_name or self.model_name) / f"{_safe(benchmark)}.json"

    @property
    def log_path(self) -> Path:
        return self.run_dir / "logs" / "eval_log.log"


def check_run_paths(work_dir: Path, use_cache: Path | None) -> None:
    """Fail before any work if the run folder cannot be where the user said (exit code 2).

    `--use-cache` names an earlier run to resume: a folder that does not exist is a typo, and
    silently starting a fresh run there would throw away the resume the user asked for, so the error
    names the run folders that do exist nearby. A file given as a folder is named as such.
    """
    from evalscope.errors import ConfigError

    if use_cache is not None:
        if use_cache.is_file():
            raise ConfigError(
                f"--use-cache {use_cache} is a file; it must be the folder of an earlier run.",
                hint="e.g. --use-cache outputs/20250101_120000 (the folder printed when that run started)",
            )
        if not use_cache.is_dir():
            raise ConfigError(
                f"--use-cache {use_cache}: no such run folder." + _nearby_runs(use_cache, work_dir),
                hint="pass the folder an earlier run printed, or drop --use-cache to start a new run",
            )
        _check_writable(use_cache, "--use-cache")
        return
    if work_dir.exists() and not work_dir.is_dir():
        raise ConfigError(
            f"--work-dir {work_dir} is a file; it must be a folder (run folders are created inside it).",
            hint="e.g. --work-dir ./outputs",
        )
    existing = work_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"--work-dir {work_dir}: {existing} is a file, so the folder cannot be created.")
    _check_writable(existing, "--work-dir")


def _check_writable(folder: Path, flag: str) -> None:
    from evalscope.errors import ConfigError

    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{flag}: cannot write into {folder} (permission denied).", hint="choose a folder you own"
        )


def is_run_folder(path: Path) -> bool:
    """A folder an earlier run wrote (it has the config, predictions or reports that runs leave)."""
    return any((path / part).exists() for part in ("configs", "predictions", "reports", "reviews"))


def _nearby_runs(missing: Path, work_dir: Path) -> str:
    import difflib

    candidates: dict[str, Path] = {}
    for parent in dict.fromkeys([missing.parent, work_dir]):
        try:
            entries = [p for p in parent.iterdir() if p.is_dir() and is_run_folder(p)]
        except OSError:
            continue
        for p in entries:
            candidates.setdefault(str(p), p)
    if not candidates:
        return f" There are no run folders in {missing.parent}."
    close = difflib.get_close_matches(str(missing), list(candidates), n=3, cutoff=0.5)
    if not close:  # nothing alike: the latest runs are the likeliest intent
        close = sorted(candidates, key=lambda k: candidates[k].name, reverse=True)[:3]
        return " The latest run folders there: " + ", ".join(close) + "."
    return " Did you mean: " + ", ".join(close) + "?"


def choose_run_dir(work_dir: Path, use_cache: Path | None) -> Path:
    if use_cache is not None:
        return use_cache
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    path = work_dir / stamp
    i = 1
    while path.exists():  # two runs in the same second must not share a folder
        path = work_dir / f"{stamp}_{i}"
        i += 1
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file + rename so readers never see a half-written file; known secrets masked."""
    from evalscope.secrets import redact

    text = redact(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


class SecretFilter(logging.Filter):
    """Every log line passes `secrets.redact_message`: known secrets and credential shapes are masked.

    The traceback of a logged exception is rendered here too, so a key inside an exception's
    message (a server echoing it) is masked before any handler formats the record.
    """

    def __init__(self, secrets: list[str] | None = None) -> None:
        from evalscope.secrets import register_secrets

        super().__init__()
        register_secrets(secrets or [])

    def filter(self, record: logging.LogRecord) -> bool:
        from evalscope.secrets import redact_message

        msg = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        clean = redact_message(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        if record.exc_text:
            record.exc_text = redact_message(record.exc_text)
        return True


def setup_run_logging(log_path: Path, debug: bool, secrets: list[str]) -> logging.Handler:
    """Log to the run's file (always DEBUG if --debug, else INFO); returns the handler to remove later."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(secrets))
    handler.setLevel(logging.DEBUG if debug else logging.INFO)
    root = logging.getLogger("evalscope")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for h in root.handlers:
        if not any(isinstance(f, SecretFilter) for f in h.filters):
            h.addFilter(SecretFilter(secrets))
    return handler


def reset_lifecycle_failures() -> None:
    """Each run logs its plugins' first lifecycle failure with a traceback again."""
    from evalscope.hooks import reset_failures

    reset_failures()


def call_lifecycle(hook_name: str, **kwargs: Any) -> None:
    """Call every implementation of a lifecycle hook in isolation (`evalscope.hooks.notify`)."""
    from evalscope.hooks import notify

    notify(hook_name, **kwargs)


def _safe(name: str) -> str:
    return name.replace("/", "_").replace("\\", "_").replace(":", "_")
