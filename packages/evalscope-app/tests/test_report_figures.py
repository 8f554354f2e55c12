"""A PNG a benchmark writes next to its report (needle_haystack's heat map) is listed with the run's
files, served as an image, and shown inline by the run view (`static/js/view_run.js`)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

from app_helpers import start_app, stop_app
from evalscope import run_task

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32  # only the type matters to the server


def _get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.headers.get("content-type", ""), resp.read()


def test_report_png_is_listed_served_and_shown(tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    run_task({"model": "mock_llm", "datasets": ["gsm8k"], "limit": 1, "work_dir": str(out),
              "dataset_args": {"gsm8k": {"few_shot_num": 0}}})  # fmt: skip
    (report,) = out.glob("*/reports/*/gsm8k.json")
    (report.parent / "needle_haystack_heatmap_english.png").write_bytes(PNG)
    app = start_app("--outputs", str(out))
    try:
        _, body = _get(app.url + "/api/runs")
        (run_id,) = [r["id"] for r in json.loads(body)["runs"]]
        _, body = _get(app.url + "/api/run?" + urlencode({"id": run_id}))
        (png,) = [f for f in json.loads(body)["files"] if f.endswith(".png")]
        kind, data = _get(app.url + "/files/" + quote(png))
        assert kind == "image/png" and data == PNG
        _, script = _get(app.url + "/static/js/view_run.js")
        assert b"run-figures" in script and b'h("img"' in script
    finally:
        stop_app(app)
