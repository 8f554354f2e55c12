"""Two API models in ONE OpenCompass run: reports, reviews and keys per model, generation bounded per model.

Each model has its own scripted server (different replies to the same GSM8K questions) behind one
authenticating proxy on 127.0.0.1 that routes by API key: a request reaches model A's replies only with model A's
key. So the scores prove that every model got its own key (a missing or swapped key gives HTTP 401 or the other
model's score), and the proxy's record of each request body shows the `max_tokens` each model was given.
One engine run (~40 s on the 2-core machine) serves every assertion.
"""

from __future__ import annotations

import csv
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.report import Report, SampleRecord
from evalscope.testing import ScriptedServer
from evalscope_opencompass.local_data import write_gsm8k

pytestmark = [pytest.mark.slow, pytest.mark.engine]

KEYS = {"alpha": "sk-alpha-secret-key", "beta": "sk-beta-secret-key"}
ALPHA_MAX_OUT_LEN = 64  # set on alpha only; beta keeps GSM8K's own 512
# GSM8K test rows 0-3 (gold 18, 3, 70000, 540); OpenCompass scores the last number of each reply
REPLIES = {
    "alpha": ["The answer is 18.", "So 3 bolts.", "The profit is 7 dollars.", "He runs 540 meters."],  # 3/4
    "beta": ["The answer is 18.", "So 2 bolts.", "The profit is 7 dollars.", "He runs 54 meters."],  # 1/4
}
SCORES = {"alpha": 0.75, "beta": 0.25}


@contextmanager
def _key_router(routes: dict[str, str]) -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """An HTTP proxy on 127.0.0.1: `Bearer <key>` → that key's upstream; any other key → 401.

    Yields its base URL and the list of (model, request body) it forwarded.
    """
    seen: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()
    by_auth = {f"Bearer {key}": (model, upstream) for model, (key, upstream) in routes.items()}
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the test blocks proxies

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            route = by_auth.get(self.headers.get("Authorization", ""))
            if route is None:
                self._send(401, b'{"error": {"message": "unknown API key", "code": "invalid_api_key"}}')
                return
            model, upstream = route
            with lock:
                seen.append((model, json.loads(body)))
            request = urllib.request.Request(
                upstream + self.path, data=body, headers={"Content-Type": "application/json"}
            )
            try:
                with direct.open(request, timeout=60) as response:
                    self._send(response.status, response.read())
            except urllib.error.HTTPError as exc:
                self._send(exc.code, exc.read())

        def _send(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _table(questions: list[str], replies: list[str]) -> dict[str, Any]:
    entries = [{"contains": q[:50], "reply": r} for q, r in zip(questions, replies, strict=True)]
    return {"model": "scripted", "default_reply": "no scripted reply", "entries": entries}


def test_two_api_models_in_one_run(
    tmp_path: Path, data_dir: Path, opencompass_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = len(REPLIES["alpha"])
    oc_data = tmp_path / "ocdata"
    write_gsm8k(data_dir, oc_data, limit=rows)
    questions = [json.loads(line)["question"] for line in (oc_data / "data" / "gsm8k" / "test.jsonl").open()]
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):  # any download fails at once
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")

    with (
        ScriptedServer(_table(questions, REPLIES["alpha"])) as alpha,
        ScriptedServer(_table(questions, REPLIES["beta"])) as beta,
        _key_router({"alpha": (KEYS["alpha"], alpha.url), "beta": (KEYS["beta"], beta.url)}) as (api, seen),
    ):
        reports = run_task(
            {
                "eval_backend": "OpenCompass",
                "work_dir": str(tmp_path / "out"),
                "offline": True,
                "reporters": [],
                "eval_config": {
                    "datasets": ["gsm8k"],
                    "models": [
                        {
                            "path": "org/alpha",  # named by the last part of the path
                            "openai_api_base": api,
                            "key": KEYS["alpha"],
                            "max_out_len": ALPHA_MAX_OUT_LEN,
                        },
                        {"path": "beta", "openai_api_base": api, "key": KEYS["beta"], "batch_size": 2},
                    ],
                    "limit": rows,
                    "data_dir": str(oc_data),
                    "timeout": 300,
                },
            }
        )

    # run_task: one report per (model, dataset), keyed <dataset>@<model> since both models report gsm8k
    assert sorted(reports) == ["gsm8k@alpha", "gsm8k@beta"]
    (run_dir,) = (tmp_path / "out").iterdir()
    assert sorted(p.name for p in (run_dir / "reports").iterdir()) == ["alpha", "beta"]
    for model, score in SCORES.items():
        report = reports[f"gsm8k@{model}"]
        assert report.model_name == model and report.num_samples == rows
        assert report.score() == pytest.approx(score)
        assert report.extra["engine_scores"]["gsm8k"]["accuracy"] == pytest.approx(100 * score)
        on_disk = Report.model_validate_json((run_dir / "reports" / model / "gsm8k.json").read_text())
        assert on_disk.model_name == model and on_disk.score() == pytest.approx(score)
        records = [
            SampleRecord.model_validate_json(line)
            for line in (run_dir / "reviews" / model / "gsm8k.jsonl").open()
        ]
        assert [r.prediction for r in records] == REPLIES[model]

    # every request carried its model's key (the router answers nothing else) and that model's bound:
    # alpha's own max_out_len, beta the dataset's 512 (OpenCompass's precedence, untouched for beta)
    assert sorted(model for model, _ in seen) == ["alpha"] * rows + ["beta"] * rows
    assert {b["max_tokens"] for m, b in seen if m == "alpha"} == {ALPHA_MAX_OUT_LEN}
    assert {b["max_tokens"] for m, b in seen if m == "beta"} == {512}

    # OpenCompass's own summary has one column per model, with the same numbers
    engine_dir = run_dir / "opencompass"
    (summary,) = engine_dir.rglob("summary/summary_*.csv")
    (row,) = list(csv.DictReader(summary.open()))
    assert float(row["alpha"]) == pytest.approx(75.0) and float(row["beta"]) == pytest.approx(25.0)
    # the keys reached the models through the environment only
    config = (engine_dir / "config.py").read_text()
    assert (
        "key='ENV:EVALSCOPE_OPENCOMPASS_KEY_0'" in config
        and "key='ENV:EVALSCOPE_OPENCOMPASS_KEY_1'" in config
    )
    leaked = [
        p
        for p in run_dir.rglob("*")
        if p.is_file() and any(k.encode() in p.read_bytes() for k in KEYS.values())
    ]
    assert leaked == [], "no API key may reach a file of the run"
