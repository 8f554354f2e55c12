"""A run killed with SIGKILL, then the same command: the identical report, nothing regenerated.

What "nothing regenerated" can honestly mean: every prediction that had come back before the kill
is never requested again. Requests in flight at the instant of the kill were never answered to us,
so they are the only ones sent twice — at most `eval_batch_size` of them.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from evalscope.testing import ScriptedServer
from native_helpers import GSM8K_SUFFIX, evalscope_cmd, gsm8k_table

pytestmark = pytest.mark.slow

LIMIT = 300
CONCURRENCY = 4


def _report(run_dir: Path) -> dict[str, Any]:
    data = json.loads((run_dir / "reports" / "scripted" / "gsm8k.json").read_text())
    data.pop("created_at")
    data["config"].pop("use_cache")
    data["config"].pop("work_dir")
    return dict(data)


def test_sigkill_then_same_command_resumes(
    tmp_path: Path, cli_env: dict[str, str], gsm8k_rows: list[dict[str, Any]]
) -> None:
    rows = gsm8k_rows[:LIMIT]
    config = {"model": "scripted", "entries": gsm8k_table(rows, wrong={1, 2, 3, 50}), "delay_s": 0.02}
    with ScriptedServer(config) as server:
        run_dir = tmp_path / "run"
        run_dir.mkdir()  # --use-cache names an existing folder (a missing one is a typo)

        def command(cache: Path) -> list[str]:
            return evalscope_cmd(
                "eval", "--model", "scripted", "--api-url", server.base_url, "--api-key", "EMPTY",
                "--datasets", "gsm8k", "--dataset-args", '{"gsm8k": {"few_shot_num": 0}}',
                "--limit", str(LIMIT), "--eval-batch-size", str(CONCURRENCY), "--use-cache", str(cache),
            )  # fmt: skip

        predictions = run_dir / "predictions" / "scripted" / "gsm8k.jsonl"
        proc = subprocess.Popen(command(run_dir), env=cli_env, cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if predictions.exists() and predictions.read_bytes().count(b"\n") >= LIMIT // 3:
                break
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not (run_dir / "reports").exists(), "killed before the end: no report yet"
        done_before = {json.loads(x)["sample"] for x in predictions.read_text().split("\n") if x.strip()}
        assert LIMIT // 3 <= len(done_before) < LIMIT

        res = subprocess.run(
            command(run_dir), env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        assert res.returncode == 0, res.stderr
        stats = server.stats()

        # A reference run from scratch, in another folder, against the same server.
        server.reset_stats()
        (tmp_path / "ref").mkdir()
        ref = subprocess.run(
            command(tmp_path / "ref"), env=cli_env, cwd=tmp_path, capture_output=True, text=True
        )
        assert ref.returncode == 0, ref.stderr

    assert _report(run_dir) == _report(tmp_path / "ref")
    assert _report(run_dir)["metrics"][0]["score"] == pytest.approx((LIMIT - 4) / LIMIT)

    by_key = stats["by_key"]
    for sample_id in done_before:
        idx = int(sample_id.split("/")[1])
        assert by_key[rows[idx]["question"] + GSM8K_SUFFIX] == 1, f"{sample_id} was requested again"
    repeated = sum(c - 1 for c in by_key.values())
    assert repeated <= CONCURRENCY
    assert len(by_key) == LIMIT
