"""A local checkpoint through VLMEvalKit: a tiny, randomly initialised Idefics3 VLM built by the test, on CPU.

`evalscope_vlmeval.testing.tiny_idefics3` builds two checkpoints (seeds 0 and 1) in the engine's interpreter and
computes, with plain transformers, what each answers to each image of the colour dataset. The backend then runs
both through VLMEvalKit's `granite-docling-258M` entry (its `DOCLING` class) with `model_path` pointing at them,
in one engine run. The reviews must hold exactly the independently computed answers: that shows VLMEvalKit
loaded our weights and fed it our images, and the reports are built from what the random model said.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
from evalscope import run_task
from evalscope.report import Report, SampleRecord
from evalscope_vlmeval.testing import tiny_idefics3
from evalscope_vlmeval.testing.colour_mcq import OPTIONS, png_base64, write_colour_mcq

pytestmark = [pytest.mark.slow, pytest.mark.engine]

COLOURS = ["red", "green", "blue", "yellow"]
NEW_TOKENS = 8
# VLMEvalKit's multiple-choice prompt (ImageMCQDataset.build_prompt) for a row of the colour dataset.
PROMPT = (
    "Question: What colour is the square?\nOptions:\n"
    + "".join(f"{letter}. {option}\n" for letter, option in zip("ABCD", OPTIONS, strict=True))
    + "Please select the correct answer from the options above. \n"
)


def _build_checkpoints(tmp_path: Path, python: Path) -> list[dict[str, object]]:
    jobs = []
    for colour in COLOURS:
        image = tmp_path / "images" / f"{colour}.png"
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(base64.b64decode(png_base64(colour)))  # the very image the TSV row holds
        jobs.append({"image": str(image), "text": PROMPT})
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    folders = [tmp_path / "ckpt" / f"seed{i}" for i in (0, 1)]
    done = subprocess.run(
        [str(python), tiny_idefics3.__file__, *map(str, folders), "--seed", "0"]
        + ["--predict", str(tmp_path / "jobs.json"), "--max-new-tokens", str(NEW_TOKENS)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_tiny_local_vlm_end_to_end(tmp_path: Path, vlmeval_python: Path) -> None:
    built = _build_checkpoints(tmp_path, vlmeval_python)
    assert [b["seed"] for b in built] == [0, 1]
    expected = {f"tiny-seed{b['seed']}": b["predictions"] for b in built}
    assert expected["tiny-seed0"] != expected["tiny-seed1"], "different weights must answer differently"

    data = tmp_path / "lmu"
    write_colour_mcq(data, "ColourSquares", COLOURS, wrong=frozenset({3}))
    models = [
        {
            "name": "granite-docling-258M",  # VLMEvalKit's DOCLING class; model_path replaces the hub id
            "model_path": b["folder"],
            "abbr": f"tiny-seed{b['seed']}",
            "max_new_tokens": NEW_TOKENS,
            "min_new_tokens": NEW_TOKENS,
        }
        for b in built
    ]
    reports = run_task(
        {
            "eval_backend": "VLMEvalKit",
            "work_dir": str(tmp_path / "out"),
            "offline": True,
            "eval_config": {
                "data": ["ColourSquares"],
                "model": models,
                "mode": "all",
                "judge": "exact_matching",
                "data_dir": str(data),
            },
        }
    )

    assert sorted(reports) == ["ColourSquares@tiny-seed0", "ColourSquares@tiny-seed1"]
    (run_dir,) = (tmp_path / "out").iterdir()
    for name, predictions in expected.items():
        report = Report.model_validate_json((run_dir / "reports" / name / "ColourSquares.json").read_text())
        assert report == reports[f"ColourSquares@{name}"]
        assert report.model_name == name and report.backend == "vlmeval"
        assert report.num_samples == 4 and report.num_errors == 0
        assert report.extra["engine_model"] == name
        assert Path(report.extra["engine_rows_file"]).parent.name == name
        lines = (run_dir / "reviews" / name / "ColourSquares.jsonl").read_text().splitlines()
        records = [SampleRecord.model_validate_json(line) for line in lines]
        assert [r.prediction for r in records] == predictions, "the reviews hold what the checkpoint said"
        assert all(r.prediction for r in records)
        vocabulary = set(tiny_idefics3.WORDS) | set(tiny_idefics3.ROLES)
        assert all(set(r.prediction.split()) <= vocabulary for r in records)
        accs = [r.scores["acc"] for r in records]
        assert set(accs) <= {0.0, 1.0} and report.score() == pytest.approx(sum(accs) / 4)
        for r, acc in zip(records, accs, strict=True):
            if acc == 1.0:  # a hit names the gold letter
                assert r.target in r.prediction.split(), r
