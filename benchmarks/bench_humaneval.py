"""Wall time of HumanEval scoring in the sandbox: the 164 canonical solutions, then n=10 each.

Usage: ``EVALSCOPE_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/bench_humaneval.py``.
Runs the adapter's own check programs (prompt + completion + test + check) with ``run_many`` and
no cache, so every program is executed. Goal: 164 under 15 s.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from evalscope import registry
from evalscope.config import DatasetArgs
from evalscope_native.sandbox import run_many


def main() -> None:
    data = Path(os.environ.get("EVALSCOPE_DATA_DIR", "/work/shared/data"))
    rows = [
        json.loads(x) for x in (data / "humaneval/openai_humaneval/test.jsonl").read_text().splitlines() if x
    ]
    spec = registry.benchmarks().resolve("humaneval")
    adapter = registry.load_impl(spec)(spec, DatasetArgs())
    samples = [adapter.record_to_sample(r, "openai_humaneval", i) for i, r in enumerate(rows)]
    programs = [adapter.program_for(adapter.extract_answer(str(s.target), s), s) for s in samples]
    for label, batch in (("164 canonical", programs), ("164 x 10 (n=10)", programs * 10)):
        start = time.monotonic()
        results = run_many(batch, limits=adapter.limits())
        wall = time.monotonic() - start
        passed = sum(r.passed for r in results)
        print(
            f"{label}: {len(batch)} programs, {passed} passed, {wall:.2f} s ({len(batch) / wall:.0f}/s), "
            f"{os.cpu_count()} CPUs, isolation={results[0].isolation}"
        )


if __name__ == "__main__":
    main()
