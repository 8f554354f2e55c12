"""`--model scripted`: a reply table the run serves itself; a bad table is named with its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evalscope import run_task
from evalscope.errors import ConfigError, DataFormatError


def _task(tmp_path: Path, data_dir: Path, **extra: object) -> dict[str, object]:
    return {
        "model": "scripted",
        "datasets": ["arc"],
        "dataset_args": {"arc": {"subset_list": ["ARC-Easy"]}},
        "data_dir": str(data_dir),
        "limit": 4,
        "work_dir": str(tmp_path / "out"),
        **extra,
    }


def test_a_custom_table_is_served_and_scored(tmp_path: Path, data_dir: Path) -> None:
    rows = [
        json.loads(x) for x in (data_dir / "arc" / "ARC-Easy" / "test.jsonl").read_text().splitlines()[:4]
    ]
    table = tmp_path / "table.json"
    entries = [{"contains": r["question"], "reply": f"ANSWER: {r['answerKey']}"} for r in rows[:3]]
    table.write_text(json.dumps({"entries": entries, "default_reply": "ANSWER: Z"}), encoding="utf-8")
    reports = run_task(_task(tmp_path, data_dir, model_args={"table": str(table)}))
    assert reports["arc"].score() == pytest.approx(0.75)
    run = next((tmp_path / "out").iterdir())
    assert "scripted" in {p.name for p in run.glob("predictions/*")}


def test_a_malformed_table_names_file_and_line(tmp_path: Path, data_dir: Path) -> None:
    table = tmp_path / "table.json"
    table.write_text('{\n  "entries": [\n    {"contains": "x", "reply": }\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(DataFormatError) as err:
        run_task(_task(tmp_path, data_dir, model_args={"table": str(table)}))
    assert f"{table}:3: not valid JSON" in str(err.value)


def test_a_missing_table_says_what_to_pass(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="reply table"):
        run_task(_task(tmp_path, data_dir, model_args={"table": str(tmp_path / "nope.json")}))
