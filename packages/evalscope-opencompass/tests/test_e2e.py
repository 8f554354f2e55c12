"""The real OpenCompass (its own environment) against a scripted OpenAI-compatible server on 127.0.0.1.

The server answers from a table keyed by question text, so both engines get the same reply for the same
question whatever their prompts look like; the expected scores follow from each engine's answer extraction:

* OpenCompass's GSM8K (`gsm8k_postprocess`): the text before any "Question:", then its LAST number.
* The native GSM8K (EvalScope 1.14.1's rule): Math-Verify on the reply, `\\boxed{}` first.
* OpenCompass's MMLU (`first_option_postprocess`): the first option letter its patterns find.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from evalscope import run_task
from evalscope.engines.process import EngineFailed
from evalscope.report import Report, SampleRecord
from evalscope.testing import ScriptedServer
from evalscope_opencompass.local_data import write_gsm8k, write_mmlu

pytestmark = [pytest.mark.slow, pytest.mark.engine]

SECRET = "sk-opencompass-test-secret"

# (reply, OpenCompass's extraction, right for OpenCompass, right for the native backend) for GSM8K rows 0-5
GSM8K = [
    ("16 - 3 - 4 = 9 eggs are sold at $2 each: 9 * 2 = 18.\nThe answer is \\boxed{18}.", "18", True, True),
    ("2 bolts of blue and 2 / 2 = 1 bolt of white: \\boxed{3} bolts for 1 robe.", "1", False, True),
    ("The profit is 200,000 - 130,000 = \\boxed{70,000} dollars.", "000", False, True),
    ("3 sprints * 3 times * 60 meters = 540 meters", "540", True, True),
    (
        "She gives 20 cups in the final meal.\nQuestion: what if she had 30 chickens? Then 90 cups.",
        "20",
        True,
        False,
    ),
    ("The glasses cost \\boxed{64} dollars.\n\nI hope this helps with your 2 questions.", "2", False, True),
]
# (reply, OpenCompass's extraction) for MMLU anatomy rows 0-3, whose answers are A, B, A, C
MMLU = [("A", "A"), ("The answer is (B).", "B"), ("C. It is the third option.", "C"), ("I cannot tell.", "")]


def _rows(path: Path, n: int) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for _, line in zip(range(n), fh, strict=False)]


def _table(data_dir: Path) -> dict[str, Any]:
    gsm = _rows(data_dir / "gsm8k" / "main" / "test.jsonl", len(GSM8K))
    mmlu = _rows(data_dir / "mmlu" / "anatomy" / "test.jsonl", len(MMLU))
    entries = [{"contains": r["question"][:50], "reply": g[0]} for r, g in zip(gsm, GSM8K, strict=True)]
    entries += [{"contains": r["question"][:50], "reply": m[0]} for r, m in zip(mmlu, MMLU, strict=True)]
    return {"model": "scripted", "default_reply": "no scripted reply", "entries": entries}


def _oc_data(tmp_path: Path, data_dir: Path) -> Path:
    dest = tmp_path / "ocdata"
    write_gsm8k(data_dir, dest, limit=len(GSM8K))
    write_mmlu(data_dir, dest, ["anatomy"], limit=len(MMLU))
    return dest


def _no_network_env(tmp_path: Path) -> dict[str, str]:
    """Any download attempt fails at once through a dead proxy; 127.0.0.1 stays reachable."""
    env = dict(os.environ)
    env.update(
        {
            "http_proxy": "http://127.0.0.1:9",
            "https_proxy": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "no_proxy": "127.0.0.1,localhost",
            "NO_PROXY": "127.0.0.1,localhost",
            "EVALSCOPE_CACHE_DIR": str(tmp_path / "cache"),
        }
    )
    return env


def test_gsm8k_and_mmlu_side_by_side_with_native(
    tmp_path: Path, data_dir: Path, opencompass_python: Path
) -> None:
    oc_data = _oc_data(tmp_path, data_dir)
    with ScriptedServer(_table(data_dir)) as server:
        config = {
            "eval_backend": "OpenCompass",
            "work_dir": str(tmp_path / "out"),
            "offline": True,
            "api_key": SECRET,  # the top-level key (eval_config.models[].key works too: test_config.py)
            "dataset_args": {"mmlu": {"subset_list": ["anatomy"]}},
            "eval_config": {
                "datasets": ["gsm8k", "mmlu"],
                "models": [
                    {
                        "path": "scripted",
                        "openai_api_base": f"{server.base_url}/chat/completions",
                        "is_chat": True,
                        "batch_size": 4,
                    }
                ],
                "limit": 6,
                "data_dir": str(oc_data),
            },
        }
        cfg_file = tmp_path / "task.yaml"
        cfg_file.write_text(yaml.safe_dump(config), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "evalscope.cli.main", "eval", "--config", str(cfg_file)],
            capture_output=True,
            text=True,
            env=_no_network_env(tmp_path),
            timeout=550,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        oc_requests = server.stats()["requests"]
        native = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["gsm8k"],
                "limit": len(GSM8K),
                "dataset_args": {"gsm8k": {"few_shot_num": 0}},
                "data_dir": str(data_dir),
                "work_dir": str(tmp_path / "native"),
                "reporters": [],
            }
        )["gsm8k"]
    assert oc_requests == len(GSM8K) + len(MMLU), "one request per row, no retries, nothing else"
    (run_dir,) = (tmp_path / "out").iterdir()

    # reports/<model>/: the folder is the run's model name (TaskConfig's display name today)
    (model_dir,) = (run_dir / "reports").iterdir()
    gsm = Report.model_validate_json((model_dir / "gsm8k.json").read_text())
    assert gsm.backend == "opencompass" and gsm.name == "opencompass/gsm8k"
    assert gsm.num_samples == len(GSM8K)
    assert gsm.score() == pytest.approx(sum(g[2] for g in GSM8K) / len(GSM8K))  # 3/6
    assert gsm.extra["engine_scores"]["gsm8k"]["accuracy"] == pytest.approx(50.0)
    assert native.score() == pytest.approx(sum(g[3] for g in GSM8K) / len(GSM8K))  # 5/6
    records = [
        SampleRecord.model_validate_json(line)
        for line in (run_dir / "reviews" / model_dir.name / "gsm8k.jsonl").open()
    ]
    assert [r.extracted for r in records] == [g[1] for g in GSM8K]
    assert [r.scores["acc"] for r in records] == [float(g[2]) for g in GSM8K]
    assert [r.prediction for r in records] == [g[0] for g in GSM8K]
    assert records[0].input[-1].role == "user" and "Janet" in records[0].input[-1].content
    assert records[0].target.endswith("#### 18")

    mmlu = Report.model_validate_json((model_dir / "mmlu.json").read_text())
    subsets = [s.name for c in mmlu.metrics[0].categories for s in c.subsets]
    assert subsets == ["anatomy"] and mmlu.num_samples == len(MMLU)
    assert mmlu.score() == pytest.approx(0.5)
    records = [
        SampleRecord.model_validate_json(line)
        for line in (run_dir / "reviews" / model_dir.name / "mmlu.jsonl").open()
    ]
    assert [r.extracted for r in records] == [m[1] for m in MMLU]

    table = [line for line in proc.stdout.splitlines() if "mean_acc" in line]
    assert any("gsm8k" in line and "0.5000" in line for line in table), proc.stdout
    assert any("mmlu" in line and "anatomy" in line and "0.5000" in line for line in table), proc.stdout
    leaked = [p for p in run_dir.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaked == [], "the API key must not reach any file of the run"


def test_killed_engine_leaves_a_consistent_run_folder(
    tmp_path: Path, data_dir: Path, opencompass_python: Path
) -> None:
    """The engine is killed mid-run (its time limit): our error names its log; no report is written."""
    oc_data = _oc_data(tmp_path, data_dir)
    task = {
        "eval_backend": "OpenCompass",
        "work_dir": str(tmp_path / "out"),
        "reporters": [],
        "eval_config": {
            "datasets": ["gsm8k"],
            "models": [{"path": "m", "openai_api_base": "http://127.0.0.1:9/v1"}],
            "data_dir": str(oc_data),
            "timeout": 3,
        },
    }
    with pytest.raises(EngineFailed) as err:
        run_task(task)
    (run_dir,) = (tmp_path / "out").iterdir()
    log = run_dir / "opencompass" / "engine.log"
    assert str(log) in str(err.value) and "time limit (3 s)" in str(err.value)
    assert "process group was killed" in log.read_text()
    assert not (run_dir / "reports").exists() and not (run_dir / "reviews").exists()
    assert not (run_dir / "opencompass" / "plan.json").exists()
    assert (run_dir / "configs" / "task_config.yaml").is_file() and (
        run_dir / "logs" / "eval_log.log"
    ).is_file()
