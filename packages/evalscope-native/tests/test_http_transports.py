"""Every HTTP transport of the service model gives the same answers, scores and failures.

The default is the core's raw client (no SDK import on the request path); aiohttp is chosen when the
environment routes `--api-url` through a proxy; `httpx` is the SDK. A test per transport, streamed
and not, against the same scripted server, so a difference in any of them shows as a wrong score.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.config import TaskConfig
from evalscope.errors import ConfigError
from evalscope.testing import ScriptedServer
from evalscope_native.models.openai_api import OpenAIModel

TRANSPORTS = ["raw", "aiohttp", "httpx"]


def _rows(path: Path, n: int) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines[:n]]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_each_transport_scores_the_same(tmp_path: Path, data_dir: Path, transport: str, stream: bool) -> None:
    rows = _rows(data_dir / "arc" / "ARC-Easy" / "test.jsonl", 8)
    entries = [
        {"contains": r["question"], "reply": f"Thinking... ANSWER: {r['answerKey']}"} for r in rows[:5]
    ]
    config = {"model": "scripted", "entries": entries, "default_reply": "ANSWER: Z", "reasoning": True}
    with ScriptedServer(config) as server:
        reports = run_task(
            {
                "model": "scripted",
                "api_url": server.base_url,
                "model_args": {"http_client": transport},
                "stream": stream,
                "datasets": ["arc"],
                "dataset_args": {"arc": {"subset_list": ["ARC-Easy"]}},
                "data_dir": str(data_dir),
                "limit": 8,
                "work_dir": str(tmp_path / "out"),
            }
        )
        assert server.stats()["ok"] == 8
    assert reports["arc"].score() == pytest.approx(5 / 8)
    run = next((tmp_path / "out").iterdir())
    (predictions,) = run.glob("predictions/*/*.jsonl")
    outputs = [json.loads(x)["output"] for x in predictions.read_text(encoding="utf-8").splitlines()]
    texts = {o["completions"][0] for o in outputs}
    assert {f"Thinking... ANSWER: {r['answerKey']}" for r in rows[:5]} <= texts
    assert all(o["reasoning"][0] for o in outputs), "reasoning_content is kept"
    assert all(o["usage"]["total_tokens"] > 0 for o in outputs)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_each_transport_names_a_refused_connection(tmp_path: Path, data_dir: Path, transport: str) -> None:
    """Nothing listens on the port: every transport reports `refused` within seconds, not a timeout."""
    with ScriptedServer({"model": "scripted"}) as server:
        url = server.base_url  # a port that was just free, now closed
    from evalscope.errors import ServiceUnreachableError

    with pytest.raises(ServiceUnreachableError, match="connection refused"):
        run_task(
            {
                "model": "scripted",
                "api_url": url,
                "model_args": {"http_client": transport},
                "datasets": ["arc"],
                "data_dir": str(data_dir),
                "limit": 1,
                "work_dir": str(tmp_path / "out"),
            }
        )


def test_a_proxy_in_the_environment_selects_aiohttp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    remote = OpenAIModel(TaskConfig(model="m", api_url="http://api.example.com/v1"))
    assert remote.transport == "aiohttp"
    local = OpenAIModel(TaskConfig(model="m", api_url="http://localhost:8000/v1"))
    assert local.transport == "raw"  # NO_PROXY exempts it
    forced = OpenAIModel(
        TaskConfig(model="m", api_url="http://api.example.com/v1", model_args={"http_client": "raw"})
    )
    assert forced.transport == "raw"
    with pytest.raises(ConfigError, match="http_client must be one of"):
        OpenAIModel(TaskConfig(model="m", api_url="http://a/v1", model_args={"http_client": "curl"}))


def test_a_service_run_never_imports_the_sdk(tmp_path: Path, data_dir: Path) -> None:
    """The request path costs no `openai` import (~1 s): a fresh interpreter runs a sample without it."""
    rows = _rows(data_dir / "arc" / "ARC-Easy" / "test.jsonl", 1)
    probe = (
        "import sys, json\n"
        "from evalscope import run_task\n"
        "run_task(json.loads(sys.argv[1]))\n"
        "print('SDK' if 'openai' in sys.modules else 'NO-SDK')\n"
    )
    entries = [{"contains": rows[0]["question"], "reply": f"ANSWER: {rows[0]['answerKey']}"}]
    with ScriptedServer({"model": "scripted", "entries": entries}) as server:
        task = {
            "model": "scripted",
            "api_url": server.base_url,
            "datasets": ["arc"],
            "dataset_args": {"arc": {"subset_list": ["ARC-Easy"]}},
            "data_dir": str(data_dir),
            "limit": 1,
            "work_dir": str(tmp_path / "out"),
        }
        res = subprocess.run(
            [sys.executable, "-c", probe, json.dumps(task)], capture_output=True, text=True, timeout=120
        )
        assert res.returncode == 0, res.stderr[-2000:]
        assert server.stats()["ok"] == 1
    assert res.stdout.strip().splitlines()[-1] == "NO-SDK"
