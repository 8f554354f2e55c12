"""`--dataset share_gpt`: conversations replayed turn by turn, each turn carrying the history with
the service's own replies, in order; the prefix-cache hit share; a broken file fails with its line."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from evalscope.testing import InProcessServer
from evalscope_perf import run_perf_benchmark


def _share_gpt(path: Path, n: int, turns: int) -> Path:
    items = []
    for c in range(n):
        conv = []
        for t in range(turns):
            conv += [
                {"from": "human", "value": f"conv{c} turn{t} question"},
                {"from": "gpt", "value": "a recorded answer the replay must NOT send"},
            ]
        items.append({"id": f"c{c}", "conversations": conv})
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


@pytest.mark.parametrize("rate", [-1.0, 40.0])  # closed loop; open loop (a conversation per arrival)
def test_multi_turn_replays_each_conversations_history_in_order(tmp_path: Path, rate: float) -> None:
    seen: list[list[dict[str, Any]]] = []
    lock = threading.Lock()

    def chat(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        with lock:
            seen.append(messages)
        return f"reply to {messages[-1]['content']}"

    data = _share_gpt(tmp_path / "sharegpt.json", n=6, turns=3)
    with InProcessServer({"model": "m", "ttft": 0.01, "itl": 0.002}, chat=chat) as srv:
        cfg = {
            "url": srv.base_url, "model": "m", "dataset": "share_gpt", "dataset_path": str(data),
            "parallel": 3, "number": 18, "rate": rate, "seed": 2, "outputs_dir": str(tmp_path / "out"), "sleep_interval": 0,
            "live": False, "no_test_connection": True, "max_tokens": 8,
        }  # fmt: skip
        run = run_perf_benchmark(cfg, quiet=True).runs[0]
    assert run.succeeded == 18 and run.failed == 0
    by_conv: dict[str, list[list[dict[str, Any]]]] = {}
    for messages in seen:
        by_conv.setdefault(messages[0]["content"].split()[0], []).append(messages)
    assert len(by_conv) == 6
    for conv, requests in by_conv.items():
        assert len(requests) == 3
        for t, messages in enumerate(requests):  # arrival order == turn order
            expected: list[dict[str, Any]] = []
            for k in range(t):
                q = f"{conv} turn{k} question"
                expected += [
                    {"role": "user", "content": q},
                    {"role": "assistant", "content": f"reply to {q}"},
                ]
            expected.append({"role": "user", "content": f"{conv} turn{t} question"})
            assert messages == expected
    # turn 2 and 3 resend what came before: a prefix cache could serve most of their prompt
    assert run.prefix_cache_share is not None and 0.3 < run.prefix_cache_share < 1.0


def test_a_broken_share_gpt_line_exits_2_naming_the_line(tmp_path: Path, cli_env: dict[str, str]) -> None:
    bad = tmp_path / "conv.jsonl"
    good = json.dumps({"conversations": [{"from": "human", "value": "hi"}]})
    bad.write_text(f"{good}\n{{broken\n", encoding="utf-8")
    args = [
        sys.executable,
        "-m",
        "evalscope.cli.main",
        "perf",
        "--url",
        "http://127.0.0.1:9/v1",
        "--model",
        "m",
    ]
    args += ["--dataset", "share_gpt", "--dataset-path", str(bad), "--outputs-dir", str(tmp_path / "o")]
    res = subprocess.run(
        [*args, "--no-test-connection"], env=cli_env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 2 and f"{bad}:2" in res.stderr, res.stderr
