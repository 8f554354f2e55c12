"""`--api rerank` and `--api openai_completions --tokenize-prompt` against the scripted server;
`--api openai_responses` reading the Responses API's typed events, at the parser level and end to end
(`evalscope perf --api responses` against the scripted server's `/v1/responses`, streamed and not)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from evalscope.http.exchange import Exchange
from evalscope.testing import InProcessServer, ScriptedServer
from evalscope_perf import run_perf_benchmark
from evalscope_perf.apis.base import GenerationParams
from evalscope_perf.registry import resolve_api


def test_rerank_sends_query_and_documents(tmp_path: Path) -> None:
    seen: list[tuple[str, list[str]]] = []

    def rerank(query: str, documents: list[str]) -> list[float]:
        seen.append((query, documents))
        return [1.0 / (i + 1) for i in range(len(documents))]

    data = tmp_path / "rerank.jsonl"
    item = {"body": {"query": "capital of France?", "documents": ["Paris is.", "Berlin is not."]}}
    data.write_text(json.dumps(item) + "\n", encoding="utf-8")
    with InProcessServer({"model": "r"}, rerank=rerank) as srv:
        cfg = {
            "url": srv.base_url, "model": "r", "api": "rerank", "dataset": "custom", "dataset_path": str(data),
            "parallel": 2, "number": 6, "outputs_dir": str(tmp_path / "o"), "live": False,
            "no_test_connection": True, "sleep_interval": 0,
        }  # fmt: skip
        run = run_perf_benchmark(cfg, quiet=True).runs[0]
    assert run.api == "openai_rerank" and run.url.endswith("/v1/rerank")
    assert (run.succeeded, run.failed) == (6, 0) and run.ttft_ms.count == 0
    assert seen[0] == ("capital of France?", ["Paris is.", "Berlin is not."])


def test_tokenize_prompt_sends_token_ids_to_completions(
    server: Any, make_cfg: Any, tokenizer_dir: Path
) -> None:
    server.configure(tokens=2)
    cfg = make_cfg(
        api="openai_completions",
        tokenize_prompt=True,
        tokenizer_path=str(tokenizer_dir),
        number=5,
        max_tokens=2,
    )
    run = run_perf_benchmark(cfg, quiet=True).runs[0]
    assert run.succeeded == 5 and run.url.endswith("/v1/completions")
    keys = list(server.stats()["by_key"])
    # "question number 0 about the weather" as ids of the test tokenizer: six integers, one per word
    assert keys and all(len(k.split("\n")) == 6 and all(x.isdigit() for x in k.split("\n")) for k in keys)
    assert run.input_tokens.mean == 6  # counted from the ids sent


def _stream(events: list[dict[str, Any]]) -> Exchange:
    ex = Exchange(0.0, "x")
    ex.status, ex.content_type, ex.t_end = 200, "text/event-stream", 0.5
    ex.events = [
        (0.1 * (k + 1), f"event: {e['type']}\ndata: {json.dumps(e)}".encode()) for k, e in enumerate(events)
    ]
    return ex


def test_responses_api_reads_typed_events_and_usage() -> None:
    from evalscope_perf.record import finalize

    api = resolve_api("responses")(GenerationParams(model="m", max_tokens=8))
    body = api.build_body([{"role": "user", "content": "hi"}])
    assert body["input"] == [{"role": "user", "content": "hi"}] and body["max_output_tokens"] == 8
    assert body["stream"] is True
    events = [
        {"type": "response.created", "response": {"id": "r1"}},
        {"type": "response.output_text.delta", "delta": "Hel"},
        {"type": "response.output_text.delta", "delta": "lo"},
        {"type": "response.completed", "response": {"usage": {"input_tokens": 3, "output_tokens": 2}}},
    ]
    rec = finalize(_stream(events), api, 0, 0, False)
    assert rec.success and rec.text == "Hello" and rec.n_chunks == 2
    assert (rec.prompt_tokens, rec.completion_tokens) == (3, 2)
    assert abs((rec.ttft or 0) - 0.2) < 1e-9 and abs(rec.itl[0] - 0.1) < 1e-9
    failed = _stream([{"type": "response.failed", "response": {"error": {"message": "overloaded"}}}])
    bad = finalize(failed, api, 1, 0, False)
    assert not bad.success and bad.error == "overloaded"


def test_perf_api_responses_end_to_end(tmp_path: Path, prompts_file: Path, cli_env: dict[str, str]) -> None:
    """`evalscope perf --api responses`: typed events streamed with a known TTFT, then not streamed."""
    ttft, itl = 0.05, 0.005
    with ScriptedServer({"model": "fake-model", "tokens": "max_tokens", "ttft": ttft, "itl": itl}) as srv:
        out = tmp_path / "o"
        args = [
            sys.executable, "-m", "evalscope.cli.main", "perf", "--url", srv.base_url, "--model", "fake-model",
            "--api", "responses", "--dataset", "line_by_line", "--dataset-path", str(prompts_file),
            "--number", "8", "--parallel", "2", "--max-tokens", "6", "--no-live", "--no-report",
            "--sleep-interval", "0", "--outputs-dir", str(out), "--no-timestamp", "--name", "stream",
        ]  # fmt: skip
        res = subprocess.run(args, env=cli_env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr[-2000:]
        summary = json.loads((out / "stream" / "parallel_2_number_8" / "benchmark_summary.json").read_text())
        assert summary["api"] == "openai_responses" and summary["url"].endswith("/v1/responses")
        assert (summary["succeeded"], summary["failed"], summary["stream"]) == (8, 0, True)
        assert summary["token_source"] == {"usage": 8}  # response.completed's usage was read
        assert summary["total_output_tokens"] == 8 * 6 and summary["output_tokens"]["mean"] == 6
        assert summary["input_tokens"]["mean"] == 6  # "question number N about the weather"
        assert (
            summary["ttft_ms"]["count"] == 8 and ttft * 1000 <= summary["ttft_ms"]["mean"] < ttft * 1000 + 500
        )
        assert summary["itl_ms"]["count"] == 8 * 5 and summary["tpot_ms"]["count"] == 8
        routes = srv.stats()["routes"]
        assert routes["responses"]["ok"] == 8 + 1 and routes["chat"]["requests"] == 0  # + the test request

        res = subprocess.run(
            [*args[:-1], "plain", "--no-stream", "--no-test-connection"],
            env=cli_env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr[-2000:]
        summary = json.loads((out / "plain" / "parallel_2_number_8" / "benchmark_summary.json").read_text())
        assert (summary["succeeded"], summary["stream"], summary["total_output_tokens"]) == (8, False, 48)
        assert summary["ttft_ms"]["count"] == 0  # no stream, no first token time
