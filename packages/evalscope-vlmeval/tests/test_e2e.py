"""The real VLMEvalKit (its own environment) against a scripted vision model on 127.0.0.1.

The dataset is made here: squares of one colour drawn with PIL, in VLMEvalKit's TSV format. The server names
the colour of the image it receives and answers with the matching option, so a reply is right only if the
right image reached it; row 3's `answer` is wrong on purpose, so the expected score is 3/4 (warm 1/2, cool 2/2).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from evalscope import run_task
from evalscope.engines.process import EngineFailed
from evalscope.report import Report, SampleRecord
from evalscope_vlmeval.testing.colour_mcq import write_colour_mcq
from evalscope_vlmeval.testing.vision_server import VisionServer

pytestmark = [pytest.mark.slow, pytest.mark.engine]

SECRET = "sk-vlmeval-test-secret"
COLOURS = ["red", "green", "blue", "yellow"]


def test_image_mcq_end_to_end(tmp_path: Path, vlmeval_python: Path) -> None:
    data = tmp_path / "lmu"
    write_colour_mcq(data, "ColourSquares", COLOURS, wrong=frozenset({3}))
    with VisionServer() as server:
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
                            "api_base": f"{server.base_url}/chat/completions",
                            "temperature": 0.0,
                            "img_size": -1,
                            "max_tokens": 64,
                        }
                    ],
                    "mode": "all",
                    "nproc": 2,
                    "judge": "exact_matching",
                    "data_dir": str(data),
                },
            }
        )
        requests = list(server.requests)

    assert sorted(r["colour"] for r in requests) == sorted(COLOURS), "each image reached the model once"
    assert all(r["images"] == 1 and r["model"] == "scripted-vision" for r in requests)
    (run_dir,) = (tmp_path / "out").iterdir()
    (model_dir,) = (run_dir / "reports").iterdir()
    report = Report.model_validate_json((model_dir / "ColourSquares.json").read_text())
    assert report == reports["ColourSquares"]
    assert report.backend == "vlmeval" and report.num_samples == 4 and report.num_errors == 0
    assert report.score() == pytest.approx(0.75)
    subsets = {s.name: s.score for c in report.metrics[0].categories for s in c.subsets}
    assert subsets == {"warm": pytest.approx(0.5), "cool": pytest.approx(1.0)}
    assert report.extra["engine_metrics"]["split=none|Overall"] == pytest.approx(0.75)
    records = [
        SampleRecord.model_validate_json(x)
        for x in (run_dir / "reviews" / model_dir.name / "ColourSquares.jsonl").open()
    ]
    assert [r.scores["acc"] for r in records] == [1.0, 1.0, 1.0, 0.0]
    assert records[3].prediction == "The square is yellow, so the answer is D." and records[3].target == "A"
    assert sorted(p.name for p in data.iterdir()) == ["ColourSquares.tsv"], (
        "the user's data folder is untouched"
    )
    leaked = [p for p in run_dir.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaked == [], "the API key must not reach any file of the run"


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
