"""The index behind the server: what it reads from each kind of run folder, when it rebuilds, bad input."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from app_helpers import Runs
from evalscope_app import catalog as catalog_module
from evalscope_app.catalog import Catalog
from evalscope_app.safety import SafeRoot, scrub

pytestmark = pytest.mark.slow


def _run(overview: dict[str, Any], run_id: str) -> dict[str, Any]:
    return next(r for r in overview["runs"] if r["id"] == run_id)


def test_every_kind_of_run_folder_is_read(runs: Runs) -> None:
    overview = Catalog(runs.root).runs()
    alpha = _run(overview, runs.ids["alpha"])
    assert alpha["kind"] == "eval" and alpha["models"] == ["alpha"] and alpha["benchmarks"] == ["gsm8k"]
    (score,) = alpha["scores"]
    assert score["score"] == 0.5 and math.isclose(score["stderr"], math.sqrt(0.25 / 3))
    assert "api_key" not in alpha["config"] and alpha["config"]["model"] == "alpha"
    assert _run(overview, runs.ids["arena"])["features"] == ["arena", "judge"]
    assert "judge" in _run(overview, runs.ids["judged"])["features"]
    assert _run(overview, runs.ids["collection"])["features"] == ["collection"]
    perf = _run(overview, runs.ids["perf"])
    assert perf["kind"] == "perf" and perf["perf"]["parallel"] == [1, 2] and perf["num_samples"] == 8
    broken = _run(overview, runs.ids["broken"])
    prefix = runs.ids["broken"] + "/"
    assert {(p["file"].removeprefix(prefix), p["error"].split(" (")[0]) for p in broken["problems"]} == {
        ("reports/alpha/gsm8k.json", "truncated JSON"),
        ("reports/alpha/notes.json", "not an EvalScope report"),
    }
    assert not any(r["id"].startswith("escape") for r in overview["runs"])  # the symlink is not walked


def test_samples_index_and_records(runs: Runs) -> None:
    cat = Catalog(runs.root)
    cols = json.loads(cat.samples(runs.ids["beta"], "beta", "gsm8k") or b"")
    assert cols["n"] == 4 and cols["metric"] == "acc" and cols["score"] == [1.0, 0.0, 1.0, 0.0]
    assert cols["id"] == ["main/0", "main/1", "main/2", "main/3"]
    assert cols["q"][1].startswith("A robe takes 2 bolts")
    (rec,) = cat.records(runs.ids["beta"], "beta", "gsm8k", [2]) or []
    assert (
        rec["id"] == "main/2" and rec["prediction"] == runs.review("beta", "beta", "gsm8k")[2]["prediction"]
    )
    torn = json.loads(cat.samples(runs.ids["broken"], "alpha", "gsm8k") or b"")
    assert torn["n"] == 4 and torn["problems"] == ["line 5: truncated or invalid JSON"]
    arena = json.loads(cat.samples(runs.ids["arena"], "Arena", "general_arena") or b"")["arena"]
    assert arena["models"] == ["alpha", "beta"] and len(arena["vo"]) == 4 and all(arena["vs"])
    assert cat.samples(runs.ids["beta"], "beta", "nope") is None
    assert cat.samples("../" + runs.ids["beta"], "beta", "gsm8k") is None


def test_the_index_is_built_once_and_rebuilt_when_a_file_changes(
    runs: Runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "outputs"
    shutil.copytree(runs.folder("alpha"), root / "run")
    builds: list[Path] = []
    real = catalog_module.build_review_index
    monkeypatch.setattr(catalog_module, "build_review_index", lambda p, m: builds.append(p) or real(p, m))
    cat = Catalog(root)
    first = cat.samples("run", "alpha", "gsm8k")
    assert cat.samples("run", "alpha", "gsm8k") is first and len(builds) == 1  # the same bytes, not re-read
    reviews = root / "run" / "reviews" / "alpha" / "gsm8k.jsonl"
    lines = reviews.read_text().splitlines(keepends=True)
    extra = json.loads(lines[0]) | {"id": "main/99", "index": 99}
    reviews.write_text("".join(lines) + json.dumps(extra) + "\n")
    cols = json.loads(cat.samples("run", "alpha", "gsm8k") or b"")
    assert len(builds) == 2 and cols["n"] == 5 and cols["id"][-1] == "main/99"
    # A report rewritten in place is read again as well.
    report_path = root / "run" / "reports" / "alpha" / "gsm8k.json"
    report = json.loads(report_path.read_text())
    report["metrics"][0]["score"] = 0.75
    report_path.write_text(json.dumps(report))
    assert _run(cat.runs(), "run")["scores"][0]["score"] == 0.75


def test_a_version_1_report_still_loads(runs: Runs, tmp_path: Path) -> None:
    root = tmp_path / "outputs"
    shutil.copytree(runs.folder("alpha"), root / "old")
    path = root / "old" / "reports" / "alpha" / "gsm8k.json"
    report = json.loads(path.read_text())

    def strip(figure: dict[str, Any]) -> None:
        for key in ("stderr", "ci_low", "ci_high", "aggregation"):
            figure.pop(key, None)

    for metric in report["metrics"]:
        strip(metric)
        for cat in metric["categories"]:
            strip(cat)
            for sub in cat["subsets"]:
                strip(sub)
    report = {k: v for k, v in report.items() if k not in ("num_unscored", "unscored")} | {
        "schema_version": 1
    }
    path.write_text(json.dumps(report))
    (score,) = _run(Catalog(root).runs(), "old")["scores"]
    assert score["score"] == 0.5 and score["stderr"] is None


def test_a_newer_report_with_unknown_fields_shows_what_is_known(runs: Runs, tmp_path: Path) -> None:
    root = tmp_path / "outputs"
    shutil.copytree(runs.folder("alpha"), root / "new")
    path = root / "new" / "reports" / "alpha" / "gsm8k.json"
    report = json.loads(path.read_text()) | {"schema_version": 3, "provenance": {"git": "abc"}}
    report["metrics"][0]["categories"][0]["subsets"][0]["median"] = 0.5
    path.write_text(json.dumps(report))
    run = _run(Catalog(root).runs(), "new")
    assert run["problems"] == [] and run["scores"][0]["score"] == 0.5


def test_safe_root_refuses_every_escape(tmp_path: Path) -> None:
    root = tmp_path / "outputs"
    (root / "run" / "logs").mkdir(parents=True)
    (root / "run" / "logs" / "eval_log.log").write_text("ok")
    (tmp_path / "secret.txt").write_text("no")
    (root / "run" / "link").symlink_to(tmp_path / "secret.txt")
    (root / "run" / "inner").symlink_to(root / "run" / "logs")
    safe = SafeRoot(root)
    assert safe.resolve("run/logs/eval_log.log") == root.resolve() / "run" / "logs" / "eval_log.log"
    assert safe.resolve("run/inner/eval_log.log") is not None  # a link that stays inside is fine
    for bad in ("../secret.txt", "run/../../secret.txt", "/etc/passwd", str(tmp_path / "secret.txt"),
                "run/link", "run\\..\\..\\secret.txt", "run/\x00", ""):  # fmt: skip
        assert safe.resolve(bad) is None, bad


def test_scrub_drops_secret_keys_and_masks_credentials() -> None:
    data = {
        "api_key": "sk-live-1234567890abcdef1234",
        "judge": {
            "models": [
                {"model_id": "j", "API_KEY": "x", "api_url": "http://user:pa55word@host/v1?key=abc123"}
            ]
        },
        "error": "401: Incorrect API key provided: Bearer sk-abcdefghijkl0123456789",
        "score": float("nan"),
        "ok": "the answer is 42",
    }
    clean = scrub(data)
    assert "api_key" not in clean and "API_KEY" not in clean["judge"]["models"][0]
    assert clean["judge"]["models"][0]["api_url"] == "http://***@host/v1?key=***"
    assert "sk-abcdefghijkl0123456789" not in clean["error"] and clean["score"] is None
    assert clean["ok"] == "the answer is 42"
