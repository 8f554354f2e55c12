"""Helpers shared by the benchmark scripts: figures, tables, timing and a throw-away GSM8K folder."""

from __future__ import annotations

import json
import os
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VENV = REPO / ".venv"


@dataclass
class Figure:
    """One headline number of a benchmark, as it appears in run_all's summary table."""

    benchmark: str
    name: str
    value: float
    unit: str
    goal: str = ""
    ok: bool | None = None  # None: no goal, just information

    def row(self) -> list[str]:
        verdict = "" if self.ok is None else ("yes" if self.ok else "NO")
        return [self.benchmark, self.name, f"{_number(self.value)} {self.unit}".strip(), self.goal, verdict]


def _number(value: float) -> str:
    """Seconds and ratios with 3 decimals, rates and counts without."""
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table (numbers right-aligned) that reads well in a terminal and in a PR comment."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]

    def fmt(cells: Sequence[str]) -> str:
        out = []
        for cell, w in zip(cells, widths, strict=False):
            text = str(cell)
            numeric = re.fullmatch(r"-?[\d.]+( \S+)?", text) is not None  # "12", "0.31 s", "1.02 x"
            out.append(text.rjust(w) if numeric else text.ljust(w))
        return "| " + " | ".join(out) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([fmt(headers), rule, *(fmt(r) for r in rows)])


def summary(figures: Sequence[Figure]) -> str:
    return table(["benchmark", "figure", "value", "goal", "met"], [f.row() for f in figures])


def median_min(values: Sequence[float]) -> tuple[float, float]:
    return statistics.median(values), min(values)


def data_dir() -> Path:
    """The shared benchmark data (EVALSCOPE_DATA_DIR, else ../shared/data next to the checkout)."""
    env = os.environ.get("EVALSCOPE_DATA_DIR")
    return Path(env) if env else REPO.parent / "shared" / "data"


def write_gsm8k_folder(root: Path, n: int) -> Path:
    """A local GSM8K folder (`<root>/main/test.jsonl`) with `n` distinct questions.

    Real GSM8K rows are cycled when the shared data is there (a suffix keeps repeats distinct, so
    the engine's de-duplication of identical requests never shortcuts the measurement); otherwise
    synthetic arithmetic questions of a similar length are used.
    """
    source = data_dir() / "gsm8k" / "main" / "test.jsonl"
    rows: list[dict[str, str]] = []
    if source.is_file():
        with source.open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    if not rows:
        rows = [
            {
                "question": f"A farmer has {i} sheep and buys {i % 7 + 2} more. How many sheep now?",
                "answer": f"{i} + {i % 7 + 2} = {i + i % 7 + 2}\n#### {i + i % 7 + 2}",
            }
            for i in range(1000)
        ]
    folder = root / "main"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "test.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(n):
            row = rows[i % len(rows)]
            rep = i // len(rows)
            question = row["question"] + (f" (variant {rep})" if rep else "")
            fh.write(json.dumps({"question": question, "answer": row["answer"]}) + "\n")
    return root


def write_arc_folder(root: Path, n: int) -> Path:
    """A local ARC folder (`<root>/ARC-Easy/test.jsonl`) with `n` distinct questions.

    Multiple choice is scored by a letter parser, so a run of it measures the engine and the HTTP
    client rather than a scorer (GSM8K's Math-Verify costs ~1.5 ms a sample).
    """
    source = data_dir() / "arc" / "ARC-Easy" / "test.jsonl"
    with source.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    folder = root / "ARC-Easy"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "test.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(n):
            row = dict(rows[i % len(rows)])
            rep = i // len(rows)
            row["question"] = row["question"] + (f" (variant {rep})" if rep else "")
            row["id"] = f"{row['id']}-{rep}"
            fh.write(json.dumps(row) + "\n")
    return root
