"""The full GSM8K test set against a real HTTP server that injects faults.

Every one of the 1,319 samples must be accounted for: answered (after retries through 500s, 429s
with Retry-After, dropped connections and stalls) or recorded as failed — and the accuracy must be
exactly what the scripted table implies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.testing import ScriptedServer, fault_for
from native_helpers import GSM8K_SUFFIX, gsm8k_table

pytestmark = pytest.mark.slow


def test_full_gsm8k_with_faults(tmp_path: Path, data_dir: Path, gsm8k_rows: list[dict[str, Any]]) -> None:
    n = len(gsm8k_rows)
    assert n == 1319
    wrong = set(range(0, n, 7))  # every 7th answer is wrong
    always_fail = {5, 500, 1000}  # the server 500s these forever: they must be recorded, not dropped
    faults = {
        "seed": 3,
        "rate": {"500": 0.05, "429": 0.03, "drop": 0.02, "stall": 0.01},
        "attempts": 1,
        "retry_after_s": 0.2,
        "stall_s": 30.0,
        "always_fail": [gsm8k_rows[i]["question"] for i in always_fail],
    }
    config = {"model": "scripted", "entries": gsm8k_table(gsm8k_rows, wrong), "faults": faults}
    keys = [row["question"] + GSM8K_SUFFIX for row in gsm8k_rows]
    kinds = [fault_for(k, faults) for k in keys]
    assert {"500", "429", "drop", "stall"} <= set(kinds), "the fault mix must exercise every kind"

    with ScriptedServer(config) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "api_key": "sk-test-secret-key",
                "datasets": ["gsm8k"],
                "dataset_args": {"gsm8k": {"few_shot_num": 0}},
                "data_dir": str(data_dir),
                "eval_batch_size": 32,
                "timeout": 1.5,
                "retry": {"max_retries": 3, "backoff_base_s": 0.01, "backoff_max_s": 0.05},
                "work_dir": str(tmp_path / "out"),
            }
        )
        stats = server.stats()

    report = reports["gsm8k"]
    assert report.num_samples == n
    assert report.num_errors == len(always_fail)
    assert sorted(e.id for e in report.errors) == sorted(f"main/{i}" for i in always_fail)
    correct = n - len(wrong | always_fail)
    assert report.score() == pytest.approx(correct / n, abs=1e-12)

    # Faulted keys were retried exactly once (attempts=1); the always-failing ones max_retries+1 times.
    by_key = stats["by_key"]
    for i, key in enumerate(keys):
        expected = 4 if i in always_fail else 2 if kinds[i] else 1
        assert by_key.get(key) == expected, (i, kinds[i], by_key.get(key))

    run_dir = next((tmp_path / "out").iterdir())
    reviews = [
        json.loads(x)
        for x in (run_dir / "reviews" / "scripted" / "gsm8k.jsonl").read_text().split("\n")
        if x.strip()
    ]
    assert len(reviews) == n and all(r["error"] for r in reviews if r["index"] in always_fail)
    assert "HTTP 500" in reviews[5]["error"]
    # The API key never reaches a file.
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert "sk-test-secret-key" not in path.read_text(encoding="utf-8", errors="replace"), path
