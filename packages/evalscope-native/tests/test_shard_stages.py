"""A shard in two stages (`run_shard(score=False)`, then `run_shard(outcomes=...)` from a scoring-only
preparation) gives exactly the records of the single call -- attempts of retried requests and failed
samples included -- and the judge gate is entered around every judge request, retries included.

In-process, without Ray: this is the backend's half of `--runner ray`'s split stages.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from evalscope.config import load_task_config
from evalscope.testing import ScriptedServer
from evalscope_native.engine.backend import NativeBackend
from evalscope_native.testing.judge_rules import judge_config
from native_helpers import gsm8k_table

FAST_RETRY = {"backoff_base_s": 0.01, "backoff_max_s": 0.02, "max_retries": 2}


def _gsm8k(server: ScriptedServer, data_dir: Path) -> Any:
    return load_task_config(
        {
            "model": "scripted",
            "api_url": server.base_url,
            "datasets": ["gsm8k"],
            "dataset_args": {"gsm8k": {"few_shot_num": 0}},
            "data_dir": str(data_dir),
            "limit": 30,
            "eval_batch_size": 8,
            "retry": FAST_RETRY,
            "ignore_errors": True,
            "test_connection": False,
        }
    )


def test_split_stages_give_the_records_of_one_call(data_dir: Path, gsm8k_rows: list[dict[str, Any]]) -> None:
    rows = gsm8k_rows[:30]
    faults = {"seed": 1, "rate": {"500": 0.3}, "attempts": 1, "always_fail": [rows[4]["question"]]}
    server_config = {"model": "scripted", "entries": gsm8k_table(rows, {0, 7}), "faults": faults}
    backend = NativeBackend()

    async def together(config: Any) -> list[dict[str, Any]]:
        prepared = backend.prepare(config)
        out: list[dict[str, Any]] = []
        for shard in backend.plan_shards(prepared, 10):
            out += await backend.run_shard(prepared, shard, known={}, on_answer=lambda e: None)
        return out

    with ScriptedServer(server_config) as server:
        single = asyncio.run(together(_gsm8k(server, data_dir)))

    with ScriptedServer(server_config) as server:  # a fresh server: the same faults again
        config = _gsm8k(server, data_dir)
        prepared = backend.prepare(config)
        shards = backend.plan_shards(prepared, 10)
        answers: list[dict[str, Any]] = []

        async def generate() -> list[list[dict[str, Any]]]:
            return [await backend.run_shard(prepared, s, known={}, on_answer=answers.append, score=False)
                    for s in shards]  # fmt: skip

        outcomes = asyncio.run(generate())
        asked = server.stats()["requests"]
        scoring = backend.prepare_scoring(config)  # no model client: it must not be needed

        async def score() -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            for shard, got in zip(shards, outcomes, strict=True):
                out += await backend.run_shard(
                    scoring, shard, known={}, on_answer=answers.append, outcomes=got
                )
            return out

        split = asyncio.run(score())
        assert server.stats()["requests"] == asked  # scoring asked the model nothing

    assert _same_port(split) == _same_port(single)
    assert any(r["attempts"] > 1 for r in split), "some samples were retried (the faults bit)"
    assert [r["index"] for r in split if r["error"]] == [4]  # failed: recorded, never scored
    assert len(answers) == 29  # every answer reported once, by the first stage

    # A resumed run: the answers are stored, the scoring stage gets them as `known` and asks nothing.
    known = {a["key"]: a for a in answers}

    async def rescore() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for shard in shards:
            if not set(shard.answer_keys) <= set(known):
                continue  # the failed sample's shard would need a request: a model actor's job
            out += await backend.run_shard(scoring, shard, known=known, on_answer=answers.append)
        return out

    resumed = asyncio.run(rescore())
    expected = [
        {**r, "attempts": 0} for r in _same_port(single) if r["index"] >= 10
    ]  # a reused answer: 0 attempts
    assert _same_port(resumed) == expected


def _same_port(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with the server's address out of the error messages (each run had its own server)."""
    import re

    return [{**r, "error": re.sub(r"127\.0\.0\.1:\d+", "SERVER", r["error"] or "") or None} for r in records]


class _Counting:
    """A judge gate that counts the requests it lets through, per endpoint."""

    def __init__(self) -> None:
        self.entered: dict[str, int] = {}

    def __call__(self, endpoint: str) -> Any:
        owner = self

        class Gate:
            def slot(self) -> Any:
                from contextlib import asynccontextmanager

                @asynccontextmanager
                async def slot() -> Any:
                    owner.entered[endpoint] = owner.entered.get(endpoint, 0) + 1
                    yield

                return slot()

        return Gate()


def test_judge_gate_is_entered_around_every_judge_request_retries_included(tmp_path: Path) -> None:
    import json

    n = 12
    folder = tmp_path / "data" / "default"
    folder.mkdir(parents=True)
    rows = [{"problem": f"What is the capital of country {i}?", "answer": f"City{i}", "metadata": "{}"}
            for i in range(n)]  # fmt: skip
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    entries = [{"contains": f"country {i}?", "reply": f"It is City{i}."} for i in range(n)]
    faults = {"seed": 2, "rate": {"500": 0.5}, "attempts": 1}
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1}, faults=faults)) as judge,
    ):
        config = load_task_config(
            {
                "model": "scripted",
                "api_url": model.base_url,
                "datasets": ["simple_qa"],
                "dataset_args": {"simple_qa": {"dataset_id": str(tmp_path / "data")}},
                "judge_model_args": {"model_id": "judge", "api_url": judge.base_url},
                "retry": FAST_RETRY,
                "test_connection": False,
            }
        )
        backend = NativeBackend()
        prepared = backend.prepare(config)
        (shard,) = backend.plan_shards(prepared, n)
        assert shard.judged and not shard.follow_ups
        gates = _Counting()

        async def run() -> list[dict[str, Any]]:
            got = await backend.run_shard(prepared, shard, known={}, on_answer=lambda e: None, score=False)
            return await backend.run_shard(
                backend.prepare_scoring(config), shard, known={}, on_answer=lambda e: None, outcomes=got,
                judge_gate=gates,
            )  # fmt: skip

        records = asyncio.run(run())
        sent = judge.stats()["requests"]
    assert all(r["scores"]["is_correct"] == 1.0 for r in records)
    assert sent > n, "some judge requests failed once and were retried"
    assert gates.entered == {judge.base_url: sent}  # each attempt, under the judge's endpoint
