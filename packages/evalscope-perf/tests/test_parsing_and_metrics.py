"""The parts under the measurements: HTTP/SSE parsing, vLLM's metric definitions, config, datasets, SLA search."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from evalscope.errors import ConfigError, DataFormatError, DatasetNotFoundError, UnknownNameError
from evalscope.http.exchange import Exchange, SSESplitter
from evalscope.http.raw import _Conn
from evalscope.testing import SSEEncoder, json_response, stream_head
from evalscope_perf.apis.base import GenerationParams
from evalscope_perf.apis.openai import OpenAIChat
from evalscope_perf.config import PerfConfig, RunPoint, load_perf_config
from evalscope_perf.metrics import compute_metrics, fill_token_counts
from evalscope_perf.record import RequestRecord, finalize
from evalscope_perf.sla import bisect_highest, parse_criteria, probe_passes

API = OpenAIChat(GenerationParams(model="m"))


def _stream_bytes(tokens: int, usage: bool = True) -> bytes:
    enc = SSEEncoder(chat=True, id="cmpl-test", model="fake-model")
    counts = {"prompt_tokens": 3, "completion_tokens": tokens, "total_tokens": 3 + tokens}
    tail = enc.finish("length") + (enc.usage(counts) if usage else b"") + enc.done()
    return stream_head() + enc.role() + enc.delta(" tok") * tokens + tail


class _Transport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def _feed(pieces: list[bytes]) -> Exchange:
    async def run() -> Exchange:
        conn = _Conn()
        conn.connection_made(_Transport())
        ex = Exchange(0.0, "r")
        fut = conn.start(ex, b"")
        for p in pieces:
            conn.data_received(p)
        assert fut.done(), "response not complete"
        return ex

    return asyncio.run(run())


def test_chunked_sse_parses_identically_at_every_split_point() -> None:
    data = _stream_bytes(3)
    whole = _feed([data])
    assert whole.status == 200 and len(whole.events) == 7  # role, 3 tokens, finish, usage, [DONE]
    for cut in range(1, len(data)):
        ex = _feed([data[:cut], data[cut:]])
        assert [e for _, e in ex.events] == [e for _, e in whole.events], cut
    ex = _feed([bytes([b]) for b in data])  # one byte per read
    assert [e for _, e in ex.events] == [e for _, e in whole.events]


def test_content_length_and_error_bodies() -> None:
    body = json.dumps({"error": {"message": "model 'x' not found"}}).encode()
    ex = _feed([json_response(404, body)])
    rec = finalize(ex, API, 0, 0, False)
    assert not rec.success and rec.error == "HTTP 404: model 'x' not found"


def test_sse_splitter_handles_crlf_and_a_missing_final_blank_line() -> None:
    events: list[tuple[float, bytes]] = []
    sse = SSESplitter(events)
    sse.feed(b'data: {"a": 1}\r', 1.0)
    sse.feed(b'\n\r\ndata: {"b": 2}\n\n: ping\n\ndata: [DONE]', 2.0)
    sse.close(3.0)
    assert events == [
        (2.0, b'data: {"a": 1}'),
        (2.0, b'data: {"b": 2}'),
        (2.0, b": ping"),
        (3.0, b"data: [DONE]"),
    ]


def _exchange(t_start: float, events: list[tuple[float, Any]]) -> Exchange:
    ex = Exchange(t_start, "r")
    ex.status, ex.content_type = 200, "text/event-stream"
    ex.events = [(t, b"data: " + (e if isinstance(e, bytes) else json.dumps(e).encode())) for t, e in events]
    ex.t_end = events[-1][0]
    return ex


def _chunk(content: str | None = None, role: bool = False) -> dict[str, Any]:
    delta: dict[str, Any] = {"role": "assistant", "content": ""} if role else {}
    if content is not None:
        delta["content"] = content
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


def test_vllm_definitions_ttft_itl_tpot_e2e() -> None:
    ex = _exchange(10.0, [
        (10.05, _chunk(role=True)),  # role only: not a token
        (10.10, _chunk("Hel")), (10.13, _chunk("lo")), (10.19, _chunk(" world")),
        (10.19, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        (10.20, {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 4}}),
        (10.21, b"[DONE]"),
    ])  # fmt: skip
    rec = finalize(ex, API, 0, 0, False)
    assert rec.success and rec.text == "Hello world" and rec.n_chunks == 3
    assert rec.ttft == pytest.approx(0.10)
    assert rec.itl == pytest.approx([0.03, 0.06])
    assert rec.latency == pytest.approx(0.21)
    assert (rec.prompt_tokens, rec.completion_tokens, rec.token_source) == (7, 4, "usage")
    assert rec.tpot == pytest.approx((0.21 - 0.10) / (4 - 1))  # usage count, not chunk count


def test_stream_errors_and_streams_without_output_fail() -> None:
    err = finalize(_exchange(0.0, [(0.1, {"error": {"message": "overloaded"}})]), API, 0, 0, False)
    assert not err.success and err.error == "overloaded"
    empty = finalize(_exchange(0.0, [(0.1, _chunk(role=True)), (0.2, b"[DONE]")]), API, 0, 0, False)
    assert not empty.success and "without any generated output" in (empty.error or "")
    bad = finalize(_exchange(0.0, [(0.1, b"{not json")]), API, 0, 0, False)
    assert not bad.success and "SSE event 1 is not JSON" in (bad.error or "")


def _rec(
    i: int, ttft: float, latency: float, tokens: int, ok: bool = True, itl: list[float] | None = None
) -> RequestRecord:
    r = RequestRecord(i, str(i), 100.0, 100.0 + latency, ok, ttft=ttft if ok else None, stream=True)
    r.itl = itl or []
    r.completion_tokens, r.prompt_tokens = (tokens, 10) if ok else (None, None)
    r.token_source = "usage" if ok else ""
    r.error = None if ok else "HTTP 429: slow down"
    return r


def test_metrics_follow_vllm_and_keep_failures_out() -> None:
    recs = [_rec(i, 0.1 + 0.01 * i, 1.0 + 0.1 * i, 11, itl=[0.09] * 10) for i in range(10)]
    recs += [_rec(99, 0.0, 50.0, 0, ok=False)]
    m = compute_metrics(recs, duration=5.0, goodput_slos_ms={"ttft": 150, "tpot": 95})
    ttfts = np.array([0.1 + 0.01 * i for i in range(10)]) * 1000
    assert (m["succeeded"], m["failed"], m["total_requests"]) == (10, 1, 11)
    assert m["errors"][0].error == "HTTP 429: slow down" and m["errors"][0].count == 1
    assert m["ttft_ms"].mean == pytest.approx(ttfts.mean())
    assert m["ttft_ms"].p99 == pytest.approx(np.percentile(ttfts, 99))
    assert m["e2el_ms"].max == pytest.approx(1900.0)  # the failed 50 s request is not a latency
    tpots = [(1.0 + 0.1 * i - (0.1 + 0.01 * i)) / 10 for i in range(10)]
    assert m["tpot_ms"].mean == pytest.approx(np.mean(tpots) * 1000)
    assert m["itl_ms"].count == 100 and m["itl_ms"].p50 == pytest.approx(90.0)
    assert m["request_throughput"] == pytest.approx(10 / 5.0)
    assert m["output_throughput"] == pytest.approx(110 / 5.0)
    assert m["total_token_throughput"] == pytest.approx((110 + 100) / 5.0)
    good = sum(1 for i in range(10) if (0.1 + 0.01 * i) * 1000 <= 150 and tpots[i] * 1000 <= 95)
    assert 0 < good < 10 and m["goodput"] == pytest.approx(good / 5.0)


def test_token_fill_order_usage_then_tokenizer_then_chunks(tokenizer_dir: Path) -> None:
    from evalscope_perf.tokenizer import load_tokenizer

    a, b = _rec(0, 0.1, 0.5, 3), _rec(1, 0.1, 0.5, 3)
    b.completion_tokens, b.prompt_tokens, b.token_source, b.text, b.n_chunks = None, None, "", " tok tok", 5
    fill_token_counts([a, b], load_tokenizer(tokenizer_dir), lambda i: 42)
    assert (a.token_source, a.completion_tokens) == ("usage", 3)
    assert (b.token_source, b.completion_tokens, b.prompt_tokens) == ("tokenizer", 2, 42)
    b.completion_tokens = None
    fill_token_counts([b], None, lambda i: None)
    assert (b.token_source, b.completion_tokens) == ("chunks", 5)


def test_config_lists_pair_up_and_urls_get_the_endpoint() -> None:
    cfg = load_perf_config({"model": "m", "url": "http://h:8000/v1", "parallel": [1, 8], "number": [10, 80]})
    assert cfg.url == "http://h:8000/v1/chat/completions"
    assert cfg.run_points() == [RunPoint(parallel=1, number=10), RunPoint(parallel=8, number=80)]
    cfg = load_perf_config(
        {"model": "m", "api": "embeddings", "url": "http://h/v1", "rate": [2, 4], "number": 5}
    )
    assert cfg.api == "openai_embedding" and cfg.url == "http://h/v1/embeddings"
    assert [p.label for p in cfg.run_points()] == ["parallel_1_number_5_rate_2", "parallel_1_number_5_rate_4"]
    assert load_perf_config({"model": "m", "warmup_num": 0.1, "number": 50}).warmup_count == 5
    with pytest.raises(ConfigError, match="unknown setting 'paralel' .*did you mean parallel"):
        load_perf_config({"model": "m", "paralel": 2})
    with pytest.raises(ConfigError, match="--model is required"):
        load_perf_config({})
    redacted = PerfConfig(model="m", api_key="sk-secret", headers={"Authorization": "x"}).redacted()
    assert redacted["api_key"] == "***" and redacted["headers"]["Authorization"] == "***"


def test_cli_spellings_of_lists_headers_and_json() -> None:
    from evalscope_perf.cli import _expand

    args = _expand(
        ["--parallel", "1", "8", "--rate", "-1", "--number=5,40", "--headers", "a=1", "b=c=d", "--stream"]
    )
    assert args == ["--parallel", "1", "--parallel", "8", "--rate", "-1", "--number", "5", "--number", "40",
                    "--headers", "a=1", "--headers", "b=c=d", "--stream"]  # fmt: skip
    cfg = load_perf_config({"model": "m", "headers": ["a=1", "b=c=d"], "extra_args": '{"ignore_eos": true}'})
    assert cfg.headers == {"a": "1", "b": "c=d"} and cfg.extra_args == {"ignore_eos": True}
    assert cfg.request_headers()["a"] == "1"
    with pytest.raises(ConfigError, match="--extra-args is not valid JSON"):
        load_perf_config({"model": "m", "extra_args": "{oops"})


def test_custom_api_format_by_import_path() -> None:
    cfg = load_perf_config({"model": "m", "api": "evalscope_perf.apis.openai:OpenAICompletions"})
    assert cfg.url.endswith("/v1/chat/completions")  # the given URL already names an endpoint
    with pytest.raises(ConfigError, match="not an ApiFormat subclass"):
        load_perf_config({"model": "m", "api": "json:dumps"})
    with pytest.raises(UnknownNameError, match="Did you mean: 'openai_completions'"):
        load_perf_config({"model": "m", "api": "openai_completion_s"})


def test_file_datasets(tmp_path: Path) -> None:
    from evalscope_perf.datasets.base import DatasetContext
    from evalscope_perf.datasets.files import custom, line_by_line, longalpaca, openqa

    (tmp_path / "open_qa.jsonl").write_text(
        '{"question": " Why? "}\n\n{"question": "How?"}\n', encoding="utf-8"
    )
    assert openqa(DatasetContext("openqa", str(tmp_path), 10)) == ["Why?", "How?"]  # a folder works too
    (tmp_path / "la.json").write_text(json.dumps([{"instruction": "Summarise this"}]), encoding="utf-8")
    assert longalpaca(DatasetContext("longalpaca", str(tmp_path / "la.json"), 10)) == ["Summarise this"]
    lines = tmp_path / "lines.txt"
    lines.write_text(
        'plain prompt\n[{"role": "user", "content": "hi"}]\n{"messages": [], "max_tokens": 3}\n',
        encoding="utf-8",
    )
    got = line_by_line(DatasetContext("line_by_line", str(lines), 10))
    assert got == ["plain prompt", [{"role": "user", "content": "hi"}], {"messages": [], "max_tokens": 3}]
    cj = tmp_path / "c.jsonl"
    cj.write_text(
        '{"prompt": "a"}\n{"messages": [{"role": "user", "content": "b"}]}\nplain c\n{"query": "dd"}\n',
        encoding="utf-8",
    )
    msg = [{"role": "user", "content": "b"}]
    assert custom(DatasetContext("custom", str(cj), 10)) == ["a", msg, "plain c", "dd"]
    assert custom(DatasetContext("custom", str(cj), 10, max_prompt_length=1)) == [
        "a",
        msg,
    ]  # chars w/o tokenizer
    cj.write_text('{"prompt": "a"}\n{"text": "no known key"}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"c\.jsonl:2: needs one of prompt"):
        custom(DatasetContext("custom", str(cj), 10))


def test_hub_default_offline_names_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalscope_perf.datasets.base import DatasetContext
    from evalscope_perf.datasets.files import openqa

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError) as exc:
        openqa(DatasetContext("openqa", None, 10))
    assert "--dataset-path /path/to/open_qa.jsonl" in str(exc.value)


def test_random_prompts_have_exact_token_lengths_and_a_shared_prefix(tokenizer_dir: Path) -> None:
    from evalscope_perf.datasets.base import DatasetContext
    from evalscope_perf.datasets.random_tokens import random_prompts
    from evalscope_perf.tokenizer import load_tokenizer

    tok = load_tokenizer(tokenizer_dir)
    ctx = DatasetContext(
        "random", None, 50, min_prompt_length=5, max_prompt_length=9, prefix_length=4, tokenizer=tok, seed=1
    )
    prompts = random_prompts(ctx)
    assert len(prompts) == 50 and len(set(map(str, prompts))) == 50
    lengths = [len(tok.encode(str(p), add_special_tokens=False).ids) for p in prompts]
    assert min(lengths) >= 4 + 5 and max(lengths) <= 4 + 9 and len(set(lengths)) > 2
    prefixes = {tuple(tok.encode(str(p), add_special_tokens=False).ids[:4]) for p in prompts}
    assert len(prefixes) == 1 and 0 not in next(iter(prefixes))  # never the special [UNK] token
    assert random_prompts(ctx) == prompts  # --seed makes them reproducible


def test_sla_thresholds_and_bisection() -> None:
    (group,) = parse_criteria([{"p99_ttft": "<=2s", "avg_latency": "<500ms", "rps": ">=10"}])
    assert group == {
        "p99_ttft": ("<=", 2000.0, "<=2s"),
        "avg_latency": ("<", 0.5, "<500ms"),
        "rps": (">=", 10.0, ">=10"),
    }
    assert probe_passes({"p99_ttft": 1999.0, "avg_latency": 0.4, "rps": 11.0}, 0, group)
    assert not probe_passes(
        {"p99_ttft": 1999.0, "avg_latency": 0.4, "rps": 11.0}, 1, group
    )  # a failed request
    with pytest.raises(ConfigError, match="tok/s is not a time"):
        parse_criteria([{"tps": ">=10s"}])
    for threshold in (1, 5, 37, 64, 100):
        calls: list[int] = []

        def check(v: int, t: int = threshold, seen: list[int] = calls) -> bool:
            seen.append(v)
            return v <= t

        best = bisect_highest(check, start=8, low=1, high=64)
        assert best == min(threshold, 64) and len(calls) <= 12
    assert bisect_highest(lambda v: False, 8, 1, 64) is None


def test_live_view_shows_progress_failures_and_latencies() -> None:
    from evalscope_perf.live import LiveView
    from rich.console import Console

    view = LiveView("perf", total=10, enabled=False)
    for i in range(3):
        view.observe(_rec(i, 0.1, 0.5, 11))
    view.observe(_rec(9, 0.0, 1.0, 0, ok=False))
    console = Console(record=True, width=160)
    console.print(view._render())
    text = console.export_text()
    assert "done 4/10 (40%)" in text and "failed 1" in text
    assert "TTFT p50 100.0ms" in text and "last error: HTTP 429: slow down" in text
