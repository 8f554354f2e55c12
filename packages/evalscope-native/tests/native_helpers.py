"""Helpers for the native package's tests (importable: pytest's `pythonpath` names this folder)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
DATA_DIR = Path(os.environ.get("EVALSCOPE_DATA_DIR") or REPO.parent / "shared" / "data")
GSM8K_SUFFIX = "\nPlease reason step by step, and put your final answer within \\boxed{}."


def gsm8k_target(row: dict[str, Any]) -> str:
    return str(row["answer"].split("####")[-1].strip())


def gsm8k_table(rows: list[dict[str, Any]], wrong: set[int]) -> list[dict[str, str]]:
    """Answer every question: right (as the target) unless its index is in `wrong`.

    Keys are the whole rendered zero-shot prompt, so one question never matches another's entry.
    """
    entries = []
    for i, row in enumerate(rows):
        target = gsm8k_target(row)
        # Clearly wrong: EvalScope compares numbers with rel_tol=1e-4, so 95201 would count for 95200.
        answer = target if i not in wrong else str(int(target.replace(",", "")) * 2 + 7)
        entries.append(
            {
                "contains": row["question"] + GSM8K_SUFFIX,
                "reply": f"Step by step... so the answer is \\boxed{{{answer}}}.",
            }
        )
    return entries


def accuracy(extracted: str, sample: Any) -> float:
    """The registered `acc` scorer's verdict on an extracted answer (through the registry, as a run)."""
    from evalscope import registry

    factory = registry.load_impl(registry.scorers().resolve("acc"))
    return float(factory(None)(sample, extracted, extracted).values["acc"])


def score_with(adapter: Any, extracted: str, sample: Any, reply: str = "") -> dict[str, float]:
    """What the engine's scorers give one completion of `adapter` (sync scorers, as a run builds them)."""
    from evalscope_native.engine.plan import build_scorers

    values: dict[str, float] = {}
    for bound in build_scorers(adapter):
        values |= bound.scorer(sample, reply, extracted).values  # type: ignore[union-attr]
    return values


def fast_retry_config(folder: Path, max_retries: int = 5) -> Path:
    """A config file whose retries back off in milliseconds: failure tests then take no retry time."""
    path = folder / "fast_retry.yaml"
    path.write_text(
        f"retry:\n  max_retries: {max_retries}\n  backoff_base_s: 0.005\n  backoff_max_s: 0.02\n",
        encoding="utf-8",
    )
    return path


def evalscope_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "evalscope.cli.main", *args]
