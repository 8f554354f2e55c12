"""The scripted OpenAI-compatible server of `evalscope.testing`: replies, streams, faults, timing, routes.

Most tests run it on a thread (`InProcessServer`, cheap); the last ones in a subprocess, as tests and
benchmarks use it (`ScriptedServer`, `python -m evalscope.testing`). Timing bounds are generous: the
machine is shared, so a delay is checked to be *at least* what was configured and not absurdly more.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evalscope.testing import (
    FAULT_KINDS,
    InProcessServer,
    ReplyError,
    ScriptedServer,
    ServerConfig,
    fault_for,
)

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback never via a proxy
TABLE = {
    "model": "scripted",
    "default_reply": "I don't know.",
    "entries": [
        {"contains": "capital of France", "reply": "ANSWER: Paris"},
        {"contains": "capital", "reply": "ANSWER: a city"},  # later entry: only when the first misses
    ],
}


def _chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "scripted", "messages": [{"role": "user", "content": text}], **extra}


def _post(
    url: str, payload: Any, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, Any]:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    req = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with DIRECT.open(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _stream(
    srv: Any, payload: dict[str, Any], headers: dict[str, str] | None = None
) -> list[tuple[float, bytes]]:
    """(arrival time, data) of every SSE event of a streamed request."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.request("POST", "/v1/chat/completions", json.dumps(payload), {**(headers or {})})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Type") == "text/event-stream"
        events = []
        while line := resp.readline():
            if line.startswith(b"data: "):
                events.append((time.perf_counter(), line[6:].strip()))
        return events
    finally:
        conn.close()


@pytest.fixture(scope="module")
def table_server() -> Iterator[InProcessServer]:
    with InProcessServer(TABLE) as srv:
        yield srv


# -- replies ---------------------------------------------------------------------------------------


def test_chat_replies_by_the_first_matching_entry(table_server: InProcessServer) -> None:
    table_server.reset_stats()
    url = table_server.base_url + "/chat/completions"
    status, raw = _post(url, _chat("What is the capital of France?"))
    body = json.loads(raw)
    assert status == 200 and body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "ANSWER: Paris"}
    assert body["usage"] == {"prompt_tokens": 6, "completion_tokens": 2, "total_tokens": 8}
    assert (
        json.loads(_post(url, _chat("The capital of Peru?"))[1])["choices"][0]["message"]["content"]
        == "ANSWER: a city"
    )
    assert json.loads(_post(url, _chat("hello"))[1])["choices"][0]["message"]["content"] == "I don't know."
    two = json.loads(_post(url, _chat("capital of France", n=2))[1])
    assert [c["message"]["content"] for c in two["choices"]] == ["ANSWER: Paris"] * 2
    stats = table_server.stats()
    assert stats["requests"] == stats["ok"] == 4 and stats["by_key"]["capital of France"] == 1
    assert stats["routes"]["chat"]["requests"] == 4


def test_text_completions_answer_each_prompt(table_server: InProcessServer) -> None:
    status, raw = _post(
        table_server.base_url + "/completions", {"model": "m", "prompt": ["capital of France", "x"]}
    )
    assert status == 200
    assert [c["text"] for c in json.loads(raw)["choices"]] == ["ANSWER: Paris", "I don't know."]


def test_a_stream_concatenates_to_the_reply_and_reports_usage(table_server: InProcessServer) -> None:
    events = _stream(
        table_server, _chat("capital of France", stream=True, stream_options={"include_usage": True})
    )
    assert events[-1][1] == b"[DONE]"
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "ANSWER: Paris"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == 2 and chunks[-1]["choices"] == []


def test_synthetic_tokens_and_max_tokens() -> None:
    with InProcessServer({"tokens": "max_tokens", "token_text": " tok"}) as srv:
        body = json.loads(_post(srv.base_url + "/chat/completions", _chat("hi", max_tokens=5))[1])
        assert body["choices"][0]["message"]["content"] == " tok" * 5
        assert body["choices"][0]["finish_reason"] == "length" and body["usage"]["completion_tokens"] == 5
        events = _stream(srv, _chat("hi", stream=True))  # no max_tokens: 16
        deltas = [json.loads(d)["choices"][0]["delta"].get("content") for _, d in events[1:-2]]
        assert deltas == [" tok"] * 16


def test_responders_embeddings_and_rerank() -> None:
    seen: list[str] = []

    def chat(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        seen.append(messages[-1]["content"])
        if "refuse" in messages[-1]["content"]:
            raise ReplyError(503, "not today")
        return f"echo: {messages[-1]['content']}"

    def embed(texts: list[str]) -> list[list[float]]:
        return [[float(len(t)), 1.0] for t in texts]

    def rerank(query: str, docs: list[str]) -> list[float]:
        return [float(query in d) for d in docs]

    with InProcessServer({"model": "m"}, chat=chat, embed=embed, rerank=rerank) as srv:
        base = srv.base_url
        assert (
            json.loads(_post(base + "/chat/completions", _chat("ping"))[1])["choices"][0]["message"][
                "content"
            ]
            == "echo: ping"
        )
        status, raw = _post(base + "/chat/completions", _chat("refuse"))
        assert status == 503 and json.loads(raw)["error"]["message"] == "not today"
        emb = json.loads(_post(base + "/embeddings", {"model": "m", "input": ["ab", "abcd"]})[1])
        assert [d["embedding"] for d in emb["data"]] == [[2.0, 1.0], [4.0, 1.0]]
        assert _post(base + "/embeddings", {"model": "m", "input": [1, 2]})[0] == 400
        ranked = json.loads(_post(base + "/rerank", {"model": "m", "query": "b", "documents": ["a", "b"]})[1])
        assert ranked["results"] == [
            {"index": 1, "relevance_score": 1.0},
            {"index": 0, "relevance_score": 0.0},
        ]
        routes = srv.stats()["routes"]
        assert routes["embeddings"]["inputs"] == 2 and routes["rerank"]["inputs"] == 2
    assert seen == ["ping", "refuse"]


def test_embeddings_without_a_function_are_hashed_or_absent() -> None:
    with InProcessServer({"embedding_dim": 8}) as srv:
        one = json.loads(_post(srv.base_url + "/embeddings", {"model": "m", "input": "x"})[1])
        two = json.loads(_post(srv.base_url + "/embeddings", {"model": "m", "input": ["x", "y"]})[1])
        vectors = [d["embedding"] for d in two["data"]]
        assert one["data"][0]["embedding"] == vectors[0] != vectors[1] and len(vectors[0]) == 8
    with InProcessServer() as srv:
        assert _post(srv.base_url + "/embeddings", {"model": "m", "input": "x"})[0] == 404
        assert srv.stats()["requests"] == 0  # a route the server does not serve is not a request


# -- the Responses API ------------------------------------------------------------------------------


def _typed_events(srv: Any, payload: dict[str, Any]) -> list[tuple[float, str, dict[str, Any]]]:
    """(arrival time, `event:` name, data) of each event of a streamed `/v1/responses` request."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.request("POST", "/v1/responses", json.dumps({**payload, "stream": True}))
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Type") == "text/event-stream"
        events, name = [], ""
        while line := resp.readline():
            if line.startswith(b"event: "):
                name = line[7:].strip().decode()
            elif line.startswith(b"data: "):
                events.append((time.perf_counter(), name, json.loads(line[6:])))
        return events
    finally:
        conn.close()


def test_responses_route_answers_from_the_table_in_the_responses_shape(table_server: InProcessServer) -> None:
    table_server.reset_stats()
    url = table_server.base_url + "/responses"
    status, raw = _post(url, {"model": "scripted", "input": "What is the capital of France?"})
    body = json.loads(raw)
    assert status == 200 and body["object"] == "response" and body["status"] == "completed"
    assert body["id"].startswith("resp_") and body["model"] == "scripted"
    [message] = body["output"]
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["content"] == [{"type": "output_text", "text": "ANSWER: Paris", "annotations": []}]
    usage = body["usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (6, 2, 8)
    # a list of items: instructions + messages with parts; the last user message is the key
    items = {
        "model": "scripted",
        "instructions": "Be brief.",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "capital of France"}]},
            {"type": "function_call_output", "call_id": "c1", "output": "ignored"},
            {"role": "assistant", "content": [{"type": "output_text", "text": "ANSWER: Paris"}]},
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "capital of Peru"}],
            },
        ],
    }
    body = json.loads(_post(url, items)[1])
    assert body["output"][0]["content"][0]["text"] == "ANSWER: a city"
    assert body["usage"]["input_tokens"] == 2 + 3 + 2 + 3  # every message's words, instructions too
    stats = table_server.stats()
    assert stats["routes"]["responses"]["ok"] == 2 and stats["routes"]["chat"]["requests"] == 0
    assert stats["by_key"] == {"What is the capital of France?": 1, "capital of Peru": 1}


def test_a_responses_stream_is_typed_events_ending_with_usage(table_server: InProcessServer) -> None:
    events = _typed_events(table_server, {"model": "scripted", "input": "capital of France"})
    names = [name for _, name, _ in events]
    assert names == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [data["type"] for _, _, data in events] == names
    assert [data["sequence_number"] for _, _, data in events] == list(range(len(events)))
    deltas = [data["delta"] for _, name, data in events if name == "response.output_text.delta"]
    assert "".join(deltas) == "ANSWER: Paris"
    assert events[6][2]["text"] == "ANSWER: Paris"
    done = events[-1][2]["response"]
    assert done["status"] == "completed" and done["output"][0]["content"][0]["text"] == "ANSWER: Paris"
    assert (done["usage"]["input_tokens"], done["usage"]["output_tokens"]) == (3, 2)
    assert events[0][2]["response"]["status"] == "in_progress" and events[0][2]["response"]["usage"] is None


def test_responses_synthetic_tokens_timing_and_the_chat_responder() -> None:
    ttft, itl = 0.1, 0.03
    cfg = {"tokens": "max_tokens", "ttft": ttft, "itl": itl, "record_timings": True}
    with InProcessServer(cfg) as srv:
        start = time.perf_counter()
        events = _typed_events(srv, {"model": "m", "input": "hi", "max_output_tokens": 4})
        times = [t for t, name, _ in events if name == "response.output_text.delta"]
        assert [d["delta"] for _, n, d in events if n == "response.output_text.delta"] == [" tok"] * 4
        # The gaps are asserted on the server's clock below: a busy client may read several deltas at once.
        assert ttft <= times[0] - start < ttft + 1.0
        assert events[-1][2]["response"]["usage"]["output_tokens"] == 4
        arrived, first, last = srv.stats()["timings"]["hi"]
        assert first - arrived >= ttft - 0.002 and last - first >= 3 * itl * 0.8
        body = json.loads(_post(srv.base_url + "/responses", {"model": "m", "input": "hi"})[1])
        assert body["output"][0]["content"][0]["text"] == " tok" * 16  # no max_output_tokens: 16
    seen: list[list[dict[str, Any]]] = []

    def chat(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        seen.append(messages)
        return "a red square"

    with InProcessServer({"model": "m"}, chat=chat) as srv:
        image = {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}
        item = {"role": "user", "content": [{"type": "input_text", "text": "What is it?"}, image]}
        body = json.loads(_post(srv.base_url + "/responses", {"model": "m", "input": [item]})[1])
        assert body["output"][0]["content"][0]["text"] == "a red square"
    assert seen == [
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is it?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            }
        ]
    ]


# -- faults ----------------------------------------------------------------------------------------


def test_status_faults_are_predictable_and_retries_succeed() -> None:
    plan = {"seed": 1, "rate": {"500": 0.3, "429": 0.3}, "retry_after_s": 0.5, "attempts": 1}
    keys = [f"question {i}" for i in range(40)]
    kinds = {k: fault_for(k, plan) for k in keys}
    key_500 = next(k for k, v in kinds.items() if v == "500")
    key_429 = next(k for k, v in kinds.items() if v == "429")
    key_ok = next(k for k, v in kinds.items() if v is None)
    with InProcessServer({**TABLE, "faults": plan}) as srv:
        url = srv.base_url + "/chat/completions"
        status, raw = _post(url, _chat(key_500))
        assert status == 500 and json.loads(raw)["error"]["message"] == "injected server error"
        assert _post(url, _chat(key_500))[0] == 200  # attempts=1: the retry is answered
        req = urllib.request.Request(url, data=json.dumps(_chat(key_429)).encode())
        with pytest.raises(urllib.error.HTTPError) as info:
            DIRECT.open(req, timeout=10)
        assert info.value.code == 429 and info.value.headers["Retry-After"] == "0.5"
        assert _post(url, _chat(key_ok))[0] == 200
        stats = srv.stats()
        assert stats["faults"]["500"] == stats["faults"]["429"] == 1 and stats["ok"] == 2
        srv.reset_stats(attempts=True)  # the faulted keys fail again
        assert _post(url, _chat(key_500))[0] == 500


def test_always_fail_fail_first_and_per_request_faults() -> None:
    with InProcessServer({**TABLE, "faults": {"always_fail": ["doomed"], "fail_first": 2}}) as srv:
        url = srv.base_url + "/chat/completions"
        assert [_post(url, _chat("fine"))[0] for _ in range(3)] == [
            500,
            500,
            200,
        ]  # the first two of the route
        assert [_post(url, _chat("doomed question"))[0] for _ in range(3)] == [500] * 3
    # per request: the same prompt fails by arrival number (every request, at rate 1)
    with InProcessServer({**TABLE, "faults": {"rate": {"500": 1.0}, "per": "request"}}) as srv:
        assert [_post(srv.base_url + "/chat/completions", _chat("same"))[0] for _ in range(3)] == [500] * 3


def _raw_exchange(port: int, payload: dict[str, Any]) -> bytes:
    """Every byte the server sent before it closed or reset the connection."""
    body = json.dumps(payload).encode()
    head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        try:
            while chunk := sock.recv(65536):
                got += chunk
        except ConnectionResetError:
            pass
    return got


def test_a_dropped_connection_sends_nothing_or_stops_mid_stream() -> None:
    with InProcessServer({**TABLE, "faults": {"rate": {"drop": 1.0}, "per": "request"}}) as srv:
        assert _raw_exchange(srv.port, _chat("x")) == b""  # aborted without a byte
        faults = {"rate": {"drop": 1.0}, "per": "request", "drop_after": 2}
        srv.configure(tokens=6, itl=0.02, faults=faults)
        got = _raw_exchange(srv.port, _chat("x", stream=True))
        assert got.startswith(b"HTTP/1.1 200 OK") and got.count(b'"content": " tok"') <= 2
        assert b"[DONE]" not in got  # cut short, without the end of the stream
        stats = srv.stats()
        assert stats["faults"]["drop"] == 1 and stats["ok"] == 0 and stats["streams"] == 1


def test_malformed_replies_and_misconfigured_services() -> None:
    with InProcessServer({**TABLE, "misbehave": "truncated_json", "misbehave_after": 1}) as srv:
        url = srv.base_url + "/chat/completions"
        assert json.loads(_post(url, _chat("capital of France"))[1])["choices"]
        status, raw = _post(url, _chat("capital of France"))
        assert status == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(raw)
    with InProcessServer({**TABLE, "api_key": "sk-right", "strict_model": True}) as srv:
        url = srv.base_url + "/chat/completions"
        status, raw = _post(url, _chat("x"), {"Authorization": "Bearer sk-wrong"})
        assert (
            status == 401 and "Bearer sk-wrong" in json.loads(raw)["error"]["message"]
        )  # echoed, as providers do
        status, raw = _post(url, {**_chat("x"), "model": "other"}, {"Authorization": "Bearer sk-right"})
        assert status == 404 and "The model `other` does not exist." in raw.decode()
        assert _post(url, _chat("x"), {"Authorization": "Bearer sk-right"})[0] == 200
        assert _post(url, b"{not json", {"Authorization": "Bearer sk-right"})[0] == 400
        assert srv.stats()["requests"] == 3  # /stats needs no key
    with InProcessServer({"faults": {"rate": {"echo_401": 1.0}, "per": "request"}}) as srv:
        status, raw = _post(srv.base_url + "/chat/completions", _chat("x"), {"X-Api-Key": "sk-planted"})
        assert status == 401 and "x-api-key: sk-planted" in json.loads(raw)["error"]["message"]


def test_delay_and_stall_hold_the_reply_back() -> None:
    with InProcessServer({**TABLE, "delay_s": 0.2}) as srv:
        start = time.perf_counter()
        assert _post(srv.base_url + "/chat/completions", _chat("x"))[0] == 200
        assert 0.2 <= time.perf_counter() - start < 5
    with InProcessServer(
        {**TABLE, "faults": {"rate": {"stall": 1.0}, "per": "request", "stall_s": 30}}
    ) as srv:
        start = time.perf_counter()
        with pytest.raises((TimeoutError, urllib.error.URLError)):
            DIRECT.open(
                urllib.request.Request(
                    srv.base_url + "/chat/completions", data=json.dumps(_chat("x")).encode()
                ),
                timeout=0.3,
            )
        assert time.perf_counter() - start < 10  # the client's timeout fired, not the stall's end
        assert srv.stats()["faults"]["stall"] == 1


# -- streaming timing ------------------------------------------------------------------------------


def test_ttft_and_itl_are_what_was_configured_and_recorded_per_stream() -> None:
    ttft, itl, tokens = 0.15, 0.05, 5
    cfg = {"tokens": tokens, "ttft": ttft, "itl": itl, "record_timings": True}
    with InProcessServer(cfg) as srv:
        start = time.perf_counter()
        events = _stream(srv, _chat("timed", stream=True), {"X-Request-Id": "req-1"})
        token_times = [t for t, data in events if b'"content": " tok"' in data]
        assert len(token_times) == tokens
        assert ttft <= token_times[0] - start < ttft + 1.0
        gaps = [b - a for a, b in zip(token_times, token_times[1:], strict=False)]
        assert sum(gaps) / len(gaps) >= itl * 0.8 and sum(gaps) < (tokens - 1) * itl + 1.0
        arrived, first, last = srv.stats()["timings"]["req-1"]
        assert (
            start <= arrived <= first <= token_times[0]
        )  # one monotonic clock across threads (and processes)
        assert first - arrived >= ttft - 0.002 and last - first >= (tokens - 1) * itl - 0.002
        # without stream: the whole reply when the last token would have been written
        start = time.perf_counter()
        assert _post(srv.base_url + "/chat/completions", _chat("plain"))[0] == 200
        assert ttft + (tokens - 1) * itl <= time.perf_counter() - start < ttft + (tokens - 1) * itl + 1.0


def test_a_queue_that_grows_with_load() -> None:
    """`ttft_per_active`: each stream already in flight adds to the next one's TTFT (server stamps)."""
    import threading

    cfg = {"tokens": 2, "ttft": 0.05, "ttft_per_active": 0.2, "itl": 0.01, "record_timings": True}
    with InProcessServer(cfg) as srv:
        threads = [
            threading.Thread(target=_stream, args=(srv, _chat("q", stream=True), {"X-Request-Id": f"r{i}"}))
            for i in range(3)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        timings = srv.stats()["timings"]
    waits = sorted(first - arrived for arrived, first, _ in timings.values())
    assert len(waits) == 3 and waits[0] >= 0.05 - 0.002
    assert waits[-1] >= 0.05 + 0.2 - 0.002  # at least one arrived behind another stream


# -- configuration and processes ---------------------------------------------------------------------


def test_config_is_validated_and_configure_starts_from_the_original() -> None:
    for bad in (
        {"entriez": []},
        {"entries": [{"contains": 1}]},
        {"faults": {"rate": {"404": 1}}},
        {"tokens": 0},
    ):
        with pytest.raises(ValueError):
            ServerConfig.from_dict(bad)
    with pytest.raises(ValueError, match="factory"):
        ServerConfig.from_dict({"responders": {"chat": {"factory": "no_colon"}}})
    assert set(ServerConfig.from_dict({}).to_dict()["faults"]) >= {"rate", "seed", "per", "attempts"}
    assert FAULT_KINDS[:4] == ("500", "429", "drop", "stall")  # the order fault_for's rates add up in
    with InProcessServer({**TABLE, "model": "fixed"}) as srv:
        srv.configure(tokens=2)
        body = json.loads(_post(srv.base_url + "/chat/completions", {"messages": []})[1])
        assert body["model"] == "fixed" and body["choices"][0]["message"]["content"] == " tok tok"
        srv.configure()  # back to the table
        body = json.loads(_post(srv.base_url + "/chat/completions", _chat("capital of France"))[1])
        assert body["choices"][0]["message"]["content"] == "ANSWER: Paris"
        assert srv.stats()["requests"] == 1  # configure zeroes the counters
        with pytest.raises(ValueError):
            srv.configure(tokenz=1)


def test_a_subprocess_server_with_a_plugin_responder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ScriptedServer` imports a responder factory by path in its own process: how plugins add rules."""
    (tmp_path / "my_rules.py").write_text(
        "def shouting(suffix):\n    return lambda messages, body: messages[-1]['content'].upper() + suffix\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    config = {**TABLE, "responders": {"chat": {"factory": "my_rules:shouting", "args": {"suffix": "!"}}}}
    with ScriptedServer(config) as srv:
        assert srv.pid is not None and srv.base_url.startswith("http://127.0.0.1:")
        body = json.loads(_post(srv.base_url + "/chat/completions", _chat("hello"))[1])
        assert body["choices"][0]["message"]["content"] == "HELLO!"
        text = json.loads(
            _post(srv.base_url + "/completions", {"model": "m", "prompt": "capital of France"})[1]
        )
        assert text["choices"][0]["text"] == "ANSWER: Paris"  # completions still come from the table
        assert srv.stats()["first_request_at"] <= srv.stats()["last_reply_at"] <= time.time()
        pid = srv.pid
    with pytest.raises(ProcessLookupError):  # stopped and reaped
        os.kill(pid, 0)


def test_a_broken_responder_factory_fails_the_start_with_the_childs_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="(?s)never printed LISTENING.*No module named 'no_such_rules'"):
        with ScriptedServer({"responders": {"chat": {"factory": "no_such_rules:f"}}}):
            pass


def test_the_command_line_serves_until_terminated(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalscope.testing", "--config", json.dumps({"default_reply": "hi"})],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("LISTENING http://127.0.0.1:")
        url = line.split(" ", 1)[1] + "/v1/chat/completions"
        assert json.loads(_post(url, _chat("x"))[1])["choices"][0]["message"]["content"] == "hi"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
