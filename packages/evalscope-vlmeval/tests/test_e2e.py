"""The real VLMEvalKit (its own environment) against scripted vision models on 127.0.0.1.

The dataset is made here: squares of one colour drawn with PIL, in VLMEvalKit's TSV format; row 3's `answer`
is wrong on purpose. Two models run in ONE engine run, each with its own key:

* `scripted-vision` (`ColourVisionModel`, a responder of the core's scripted server) names the colour of the
  image it receives and answers with the matching option, so a reply is right only if the right image reached
  it: 3/4 (warm 1/2, cool 2/2);
* `always-b` (the core's `ScriptedServer` with only a default reply) answers "B" whatever it is asked: only
  row 1 (green, cool) is B, so 1/4 (warm 0/2, cool 1/2).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from evalscope import run_task
from evalscope.engines.process import EngineFailed
from evalscope.report import Report, SampleRecord
from evalscope.testing import InProcessServer, ScriptedServer
from evalscope_vlmeval.testing.colour_mcq import ColourVisionModel, write_colour_mcq

pytestmark = [pytest.mark.slow, pytest.mark.engine]

SECRET = "sk-vlmeval-test-secret"  # --api-key: the first model's
SECOND_SECRET = "sk-vlmeval-second-model-key"  # eval_config.model[1].key
COLOURS = ["red", "green", "blue", "yellow"]


def _subsets(report: Report) -> dict[str, float]:
    return {s.name: s.score for c in report.metrics[0].categories for s in c.subsets}


def _reviews(run_dir: Path, model: str) -> list[SampleRecord]:
    path = run_dir / "reviews" / model / "ColourSquares.jsonl"
    return [SampleRecord.model_validate_json(line) for line in path.open()]


def test_two_models_end_to_end(tmp_path: Path, vlmeval_python: Path) -> None:
    data = tmp_path / "lmu"
    write_colour_mcq(data, "ColourSquares", COLOURS, wrong=frozenset({3}))
    always_b = {"model": "always-b", "default_reply": "The answer is B."}
    vision_model = ColourVisionModel()
    with (
        InProcessServer({"model": "scripted-vision"}, chat=vision_model) as vision,
        ScriptedServer(always_b) as scripted,
    ):
        reports = run_task(
            {
                "eval_backend": "VLMEvalKit",
                "work_dir": str(tmp_path / "out"),
                "offline": True,
                "api_key": SECRET,
                "eval_config": {
                    "data": ["ColourSquares"],
                    "model": [
                        {
                            "name": "CustomAPIModel",
                            "type": "scripted-vision",
                            "api_base": f"{vision.base_url}/chat/completions",
                            "temperature": 0.0,
                            "img_size": -1,
                            "max_tokens": 64,
                        },
                        {
                            "name": "CustomAPIModel",
                            "type": "always-b",
                            "api_base": scripted.base_url,
                            "key": SECOND_SECRET,
                        },
                    ],
                    "mode": "all",
                    "nproc": 2,
                    "judge": "exact_matching",
                    "data_dir": str(data),
                },
            }
        )
        requests = list(vision_model.requests)
        scripted_requests = scripted.stats()["requests"]

    assert sorted(r["colour"] for r in requests) == sorted(COLOURS), (
        "each image reached the vision model once"
    )
    assert all(r["images"] == 1 and r["model"] == "scripted-vision" for r in requests)
    assert scripted_requests == 4, "each row reached the second model once"
    assert sorted(reports) == ["ColourSquares@always-b", "ColourSquares@scripted-vision"]
    (run_dir,) = (tmp_path / "out").iterdir()
    assert sorted(p.name for p in (run_dir / "reports").iterdir()) == ["always-b", "scripted-vision"]

    vision_report = Report.model_validate_json(
        (run_dir / "reports/scripted-vision/ColourSquares.json").read_text()
    )
    assert vision_report == reports["ColourSquares@scripted-vision"]
    assert vision_report.model_name == "scripted-vision" and vision_report.backend == "vlmeval"
    assert vision_report.num_samples == 4 and vision_report.num_errors == 0
    assert vision_report.score() == pytest.approx(0.75)
    assert _subsets(vision_report) == {"warm": pytest.approx(0.5), "cool": pytest.approx(1.0)}
    assert vision_report.extra["engine_metrics"]["split=none|Overall"] == pytest.approx(0.75)
    records = _reviews(run_dir, "scripted-vision")
    assert [r.scores["acc"] for r in records] == [1.0, 1.0, 1.0, 0.0]
    assert records[3].prediction == "The square is yellow, so the answer is D." and records[3].target == "A"

    b_report = Report.model_validate_json((run_dir / "reports/always-b/ColourSquares.json").read_text())
    assert b_report == reports["ColourSquares@always-b"] and b_report.model_name == "always-b"
    assert b_report.num_samples == 4 and b_report.num_errors == 0
    assert b_report.score() == pytest.approx(0.25)
    assert _subsets(b_report) == {"warm": pytest.approx(0.0), "cool": pytest.approx(0.5)}
    b_records = _reviews(run_dir, "always-b")
    assert [r.prediction for r in b_records] == ["The answer is B."] * 4
    assert [r.scores["acc"] for r in b_records] == [0.0, 1.0, 0.0, 0.0]

    assert sorted(p.name for p in data.iterdir()) == ["ColourSquares.tsv"], (
        "the user's data folder is untouched"
    )
    leaked = [
        p
        for p in run_dir.rglob("*")
        if p.is_file() and any(k.encode() in p.read_bytes() for k in (SECRET, SECOND_SECRET))
    ]
    assert leaked == [], "no API key may reach a file of the run"


def test_killed_engine_leaves_a_consistent_run_folder(tmp_path: Path, vlmeval_python: Path) -> None:
    data = tmp_path / "lmu"
    write_colour_mcq(data, "ColourSquares", ["red"])
    task = {
        "eval_backend": "VLMEvalKit",
        "work_dir": str(tmp_path / "out"),
        "reporters": [],
        "eval_config": {
            "data": ["ColourSquares"],
            "model": [{"name": "CustomAPIModel", "type": "m", "api_base": "http://127.0.0.1:9/v1"}],
            "data_dir": str(data),
            "timeout": 3,
        },
    }
    with pytest.raises(EngineFailed) as err:
        run_task(task)
    (run_dir,) = (tmp_path / "out").iterdir()
    log = run_dir / "vlmeval" / "engine.log"
    assert str(log) in str(err.value) and "time limit (3 s)" in str(err.value)
    assert not (run_dir / "reports").exists() and not (run_dir / "reviews").exists()


def test_list_datasets_through_the_cli(tmp_path: Path, vlmeval_python: Path) -> None:
    """`evalscope list --backend vlmeval` asks the engine once (~45 s import), then answers from the cache."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, EVALSCOPE_CACHE_DIR=str(tmp_path / "cache"))
    cmd = [sys.executable, "-m", "evalscope.cli.main", "list", "--backend", "VLMEvalKit", "--json"]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    names = {r["name"] for r in json.loads(first.stdout)}
    assert {"MMBench_DEV_EN", "SEEDBench_IMG", "MME"} <= names and len(names) > 300
    (cache,) = (tmp_path / "cache" / "engines").glob("vlmeval-*-datasets.json")
    cache.write_text(json.dumps(["OnlyFromTheCache"]))
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert [r["name"] for r in json.loads(second.stdout)] == ["OnlyFromTheCache"]
