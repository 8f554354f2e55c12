"""`--api local` (a transformers server this command starts) and `--api local_vllm` (vLLM's server).

`local` runs for real on a tiny randomly initialised Llama built here (two layers, a byte-level BPE
trained on the test's prompts): the benchmark end to end, the server's routes, and that the server
is gone afterwards -- after a normal end, Ctrl-C, and a server that fails to load. `local_vllm` cannot
run without a GPU and vllm: its command line is checked, and the error when vllm is missing. The
launcher's own failures (a server that exits, one that never answers, a port in use) use stand-in
commands, so they cost no model load.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evalscope.errors import MissingDependencyError, UsageError
from evalscope_perf import local_server as ls
from evalscope_perf.config import load_perf_config

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback never via a proxy


def _perf(*args: str) -> list[str]:
    return [sys.executable, "-m", "evalscope.cli.main", "perf", *args]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _server_pid(log: Path) -> int:
    match = re.search(r"local server \(pid (\d+)\)", log.read_text(encoding="utf-8", errors="replace"))
    assert match, log.read_text()
    return int(match.group(1))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama checkpoint with a chat template, saved as transformers saves any model."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    lines = [f"question number {i} about the weather in city {i * 7} today" for i in range(300)]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<pad>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(lines, trainer)
    template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:"
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>", chat_template=template
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


# -- end to end with a real (tiny) model --------------------------------------------------------------


@pytest.mark.slow
def test_perf_api_local_serves_the_checkpoint_and_stops_the_server(
    checkpoint: Path, prompts_file: Path, cli_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "o"
    res = subprocess.run(
        _perf("--api", "local", "--model", str(checkpoint), "--port", "0", "--number", "4", "--parallel", "2",
              "--stream", "--dataset", "line_by_line", "--dataset-path", str(prompts_file), "--max-tokens", "12",
              "--outputs-dir", str(out), "--no-timestamp", "--name", "tiny", "--no-live", "--sleep-interval", "0"),
        env=cli_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert (
        "Starting the local server (local)" in res.stderr and "evalscope_perf.local_hf_server" in res.stderr
    )
    run = out / "tiny"
    summary = json.loads((run / "parallel_2_number_4" / "benchmark_summary.json").read_text())
    assert summary["api"] == "local" and re.fullmatch(
        r"http://127\.0\.0\.1:\d+/v1/chat/completions", summary["url"]
    )
    assert (summary["succeeded"], summary["failed"], summary["stream"]) == (4, 0, True)
    assert summary["ttft_ms"]["count"] == 4 and summary["ttft_ms"]["mean"] > 0
    assert summary["token_source"] == {"usage": 4}  # the server's own token counts
    assert 1 <= summary["output_tokens"]["max"] <= 12 and summary["input_tokens"]["mean"] > 6
    assert summary["e2el_ms"]["mean"] >= summary["ttft_ms"]["mean"]
    log = run / "local_server.log"
    pid = _server_pid(log)
    assert _gone(pid), f"the local server (pid {pid}) is still running"
    port = int(summary["url"].split(":")[2].split("/")[0])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


@pytest.mark.slow
def test_local_server_routes_stream_tokens_count_usage_and_honour_stop(
    checkpoint: Path, tmp_path: Path
) -> None:
    cfg = load_perf_config(
        {"api": "local", "model": str(checkpoint), "port": 0, "outputs_dir": str(tmp_path)}
    )
    with ls.local_server(cfg) as server:
        pid = server.proc.pid if server.proc else 0
        base = server.base_url
        with DIRECT.open(base + "/models", timeout=10) as resp:
            assert json.loads(resp.read())["data"][0]["id"] == str(checkpoint)

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
            with DIRECT.open(req, timeout=60) as resp:
                result: dict[str, Any] = json.loads(resp.read())
                return result

        chat = {"model": "x", "messages": [{"role": "user", "content": "question number 3"}], "max_tokens": 8}
        plain = post("/chat/completions", chat)
        text = plain["choices"][0]["message"]["content"]
        assert plain["usage"]["completion_tokens"] <= 8 and plain["choices"][0]["finish_reason"] in (
            "stop",
            "length",
        )
        again = post("/chat/completions", chat)  # greedy (temperature 0): the same answer
        assert again["choices"][0]["message"]["content"] == text and again["usage"] == plain["usage"]
        completion = post("/completions", {"model": "x", "prompt": "question number", "max_tokens": 5})
        assert completion["object"] == "text_completion" and completion["usage"]["completion_tokens"] <= 5

        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.request(
            "POST", "/v1/chat/completions",
            json.dumps({**chat, "stream": True, "stream_options": {"include_usage": True}}),
        )  # fmt: skip
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Type") == "text/event-stream"
        events = [json.loads(line[6:]) for line in resp.read().splitlines() if line.startswith(b"data: {")]
        conn.close()
        assert events[0]["choices"][0]["delta"]["role"] == "assistant"
        pieces = [e["choices"][0]["delta"].get("content", "") for e in events if e["choices"]]
        assert "".join(pieces) == text  # streamed token by token, the same greedy answer
        assert events[-1]["usage"] == plain["usage"] and events[-1]["choices"] == []
        if len(text) > 2:  # a stop string cuts the text before it and ends the generation
            stop = text[1:3]
            cut = post("/chat/completions", {**chat, "stop": [stop]})
            assert cut["choices"][0]["message"]["content"] == text[: text.find(stop)]
            assert cut["choices"][0]["finish_reason"] == "stop"
        req = urllib.request.Request(base + "/chat/completions", data=b"{not json", method="POST")
        with pytest.raises(urllib.error.HTTPError) as bad:
            DIRECT.open(req, timeout=10)
        assert bad.value.code == 400
    assert _gone(pid)


@pytest.mark.slow
def test_ctrl_c_stops_the_local_server(
    checkpoint: Path, prompts_file: Path, cli_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    proc = subprocess.Popen(
        _perf("--api", "local", "--model", str(checkpoint), "--port", "0", "--number", "100000", "--parallel", "2",
              "--dataset", "line_by_line", "--dataset-path", str(prompts_file), "--max-tokens", "4",
              "--outputs-dir", str(out), "--no-live"),
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        db = None
        while db is None and time.monotonic() < deadline and proc.poll() is None:
            for found in out.glob("*/*/*/benchmark_data.db"):
                with sqlite3.connect(found) as con:
                    if con.execute("SELECT count(*) FROM requests WHERE warmup=0").fetchone()[0] >= 2:
                        db = found
            if db is None:
                time.sleep(0.2)
        assert db is not None, f"no rows (exit code {proc.poll()})"
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr[-3000:]
    pid = _server_pid(db.parent.parent / "local_server.log")
    assert _gone(pid), f"the local server (pid {pid}) survived Ctrl-C"


@pytest.mark.slow
def test_a_checkpoint_the_server_cannot_load_fails_with_its_log(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    pytest.importorskip("transformers")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(
        '{"model_type": "llama"}', encoding="utf-8"
    )  # no tokenizer, no weights
    res = subprocess.run(
        _perf("--api", "local", "--model", str(broken), "--port", "0", "--number", "1",
              "--outputs-dir", str(tmp_path / "o"), "--no-live"),
        env=cli_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 1, res.stderr[-3000:]
    assert "the local server (local) exited with code" in res.stderr
    assert "Traceback" in res.stderr  # the end of the server's own log, in the error
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").rglob("benchmark_data.db"))


# -- the launcher, with stand-in servers ----------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text('{"max_position_embeddings": 4096}', encoding="utf-8")
    return ckpt


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Replace the server's command line by the script a test puts in the list."""
    script: list[str] = []
    monkeypatch.setattr(ls, "_require", lambda api: None)
    monkeypatch.setattr(ls, "server_command", lambda cfg, folder, port: [sys.executable, "-c", script[0]])
    yield script


def test_a_server_that_exits_fails_with_its_log(folder: Path, stand_in: list[str]) -> None:
    stand_in.append("import sys; print('CUDA out of memory, said the server', flush=True); sys.exit(3)")
    cfg = load_perf_config({"api": "local", "model": str(folder), "port": 0})
    with pytest.raises(ls.LocalServerError) as err, ls.local_server(cfg):
        pass
    assert "exited with code 3 before answering" in str(err.value)
    assert "CUDA out of memory, said the server" in str(err.value)


def test_a_server_that_never_answers_is_stopped_at_the_deadline(folder: Path, stand_in: list[str]) -> None:
    stand_in.append("import os, time; print('PID', os.getpid(), flush=True); time.sleep(120)")
    cfg = load_perf_config({"api": "local", "model": str(folder), "port": 0, "local_server_timeout": 1.5})
    start = time.monotonic()
    with pytest.raises(ls.LocalServerError) as err, ls.local_server(cfg):
        pass
    assert time.monotonic() - start < 30
    message = str(err.value)
    assert "did not answer GET" in message and "--local-server-timeout 1.5s" in message
    pid = int(re.search(r"PID (\d+)", message).group(1))  # type: ignore[union-attr]
    assert _gone(pid)


def test_the_block_ending_in_an_error_stops_the_server(
    folder: Path, stand_in: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a stand-in that answers GET /v1/models on the port it is given (argv carries no port: use the env)
    stand_in.append(
        "import http.server, os, json\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        body = json.dumps({'data': []}).encode()\n"
        "        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()\n"
        "        self.wfile.write(body)\n"
        "    def log_message(self, *a): pass\n"
        "http.server.HTTPServer(('127.0.0.1', int(os.environ['STAND_IN_PORT'])), H).serve_forever()\n"
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("STAND_IN_PORT", str(port))
    cfg = load_perf_config({"api": "local_vllm", "model": str(folder), "port": port})
    with pytest.raises(RuntimeError, match="the benchmark failed"), ls.local_server(cfg) as server:
        assert server.url == f"http://127.0.0.1:{port}/v1/chat/completions"
        pid = server.proc.pid if server.proc else 0
        raise RuntimeError("the benchmark failed")
    assert _gone(pid)


def test_a_port_in_use_fails_at_once(folder: Path, stand_in: list[str]) -> None:
    stand_in.append("raise SystemExit(0)")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        cfg = load_perf_config({"api": "local", "model": str(folder), "port": busy.getsockname()[1]})
        with pytest.raises(
            UsageError, match=r"(?s)--port \d+ is in use.*another --port \(0 picks a free one\)"
        ):
            with ls.local_server(cfg):
                pass


# -- local_vllm: the command line and the missing package -------------------------------------------------


def test_local_vllm_command_line(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    cfg = load_perf_config({"api": "local_vllm", "model": "Qwen/Qwen3-8B", "port": 9001})
    assert cfg.url == "http://127.0.0.1:9001/v1/chat/completions"  # --url is the started server's
    command = ls.server_command(cfg, str(folder), 9001)
    assert command[:3] == [sys.executable, "-m", "vllm.entrypoints.openai.api_server"]
    flags = dict(zip(command[3::2], command[4::2], strict=False))
    assert flags["--model"] == str(folder) and flags["--served-model-name"] == "Qwen/Qwen3-8B"
    assert flags["--tensor-parallel-size"] == "2"  # every visible GPU, as EvalScope does
    assert flags["--max-model-len"] == "4096"  # the model's own, below EvalScope's 32768 cap
    assert (flags["--host"], flags["--port"], flags["--gpu-memory-utilization"]) == (
        "127.0.0.1",
        "9001",
        "0.9",
    )
    assert command[-2:] == ["--trust-remote-code", "--disable-log-stats"]
    local = ls.server_command(
        load_perf_config({"api": "local", "model": "m", "attn_implementation": "sdpa"}), "/c", 5
    )
    assert local[1:3] == ["-m", "evalscope_perf.local_hf_server"] and local[-2:] == [
        "--attn-implementation",
        "sdpa",
    ]


def test_local_vllm_without_vllm_names_the_install(
    folder: Path, cli_env: dict[str, str], tmp_path: Path
) -> None:
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here")
    with pytest.raises(MissingDependencyError, match="pip install vllm"):
        ls.LocalServer(load_perf_config({"api": "local_vllm", "model": str(folder)})).start()
    res = subprocess.run(
        _perf("--api", "local_vllm", "--model", str(folder), "--outputs-dir", str(tmp_path / "o")),
        env=cli_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode == 2 and "vllm is not installed" in res.stderr and "pip install vllm" in res.stderr
    assert "vllm.entrypoints.openai.api_server" in res.stderr


def test_local_flags_are_checked() -> None:
    from evalscope.errors import ConfigError

    with pytest.raises(ConfigError, match="--attn-implementation applies to the transformers server"):
        load_perf_config({"api": "openai", "model": "m", "attn_implementation": "sdpa"})
    with pytest.raises(ConfigError, match="is not a TCP port"):
        load_perf_config({"api": "local", "model": "m", "port": 70000})
    cfg = load_perf_config({"api": "local", "model": "m", "url": "http://elsewhere:1/v1"})
    assert cfg.url == "http://127.0.0.1:8877/v1/chat/completions"  # EvalScope's port; --url is not used
