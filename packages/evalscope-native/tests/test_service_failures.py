"""A dead, wrong or misbehaving service: named in seconds, stopped by the breaker, counted as errors.

Every server here is real and on 127.0.0.1: a closed port (refused), the scripted server serving a web
page, rejecting the key, cutting its JSON in half, answering `choices: []` or `content: null`, and a
TLS server whose certificate this machine does not trust.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from evalscope import TaskConfig, run_task
from evalscope.errors import ServiceUnreachableError
from evalscope.testing import ScriptedServer
from evalscope_native.models.scripted import DEMO_TABLE
from native_helpers import DATA_DIR, evalscope_cmd, fast_retry_config

SCRIPTED = json.loads(DEMO_TABLE.read_text(encoding="utf-8"))
GSM8K = ["--datasets", "gsm8k", "--dataset-args", '{"gsm8k": {"few_shot_num": 0}}']


def _eval(
    url: str, work: Path, env: dict[str, str], *extra: str, limit: int = 30, model: str = "scripted"
) -> subprocess.CompletedProcess[str]:
    args = ["eval", "--model", model, "--api-url", url, *GSM8K, "--limit", str(limit)]
    args += ["--config", str(fast_retry_config(work.parent))]
    return subprocess.run(
        evalscope_cmd(*args, "--work-dir", str(work), *extra),
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on exit: connecting is refused


def _error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def _reviews(work: Path) -> list[dict[str, Any]]:
    (path,) = work.glob("*/reviews/*/gsm8k.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_dead_server_stops_the_run_before_it_starts(tmp_path: Path, cli_env: dict[str, str]) -> None:
    port = _closed_port()
    start = time.monotonic()
    res = _eval(f"http://127.0.0.1:{port}/v1", tmp_path / "out", cli_env, limit=1319)
    elapsed = time.monotonic() - start
    assert res.returncode == 2, res.stderr
    line = _error_line(res.stderr)
    assert f"connection refused by 127.0.0.1:{port}" in line and "nothing is listening" in line
    assert "--no-test-connection" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists(), "a failed check must not leave a run folder"
    # Not a timing benchmark: a bound far above the ~3 s it takes, far below the old 35 minutes.
    assert elapsed < 60, elapsed


def test_a_dead_server_run_ends_within_five_seconds_of_starting(tmp_path: Path) -> None:
    """The issue's bound, measured from `run_task` (the CLI test above also counts interpreter start-up,
    which a loaded CI machine stretches past it): all 1,319 GSM8K samples planned, one refused check."""
    port = _closed_port()
    config = TaskConfig(
        model="scripted",
        api_url=f"http://127.0.0.1:{port}/v1",
        datasets=["gsm8k"],
        dataset_args={"gsm8k": {"few_shot_num": 0}},
        data_dir=DATA_DIR,
        work_dir=tmp_path / "out",
    )
    start = time.monotonic()
    with pytest.raises(ServiceUnreachableError, match=f"connection refused by 127.0.0.1:{port}"):
        run_task(config)
    assert time.monotonic() - start < 5
    assert not (tmp_path / "out").exists()


def test_a_host_that_does_not_resolve_is_named_as_dns(tmp_path: Path, cli_env: dict[str, str]) -> None:
    res = _eval("http://no-such-host.invalid/v1", tmp_path / "out", cli_env)
    assert res.returncode == 2, res.stderr
    assert "cannot resolve host 'no-such-host.invalid'" in _error_line(res.stderr)


def test_a_web_page_is_named_not_json(tmp_path: Path, cli_env: dict[str, str]) -> None:
    with ScriptedServer({**SCRIPTED, "misbehave": "html"}) as srv:
        res = _eval(srv.base_url, tmp_path / "out", cli_env)
    assert res.returncode == 2, res.stderr
    line = _error_line(res.stderr)
    assert "answered with an HTML page" in line and "<!DOCTYPE html>" in line and "/v1/models" in line


def test_a_rejected_key_is_named_and_masked(tmp_path: Path, cli_env: dict[str, str]) -> None:
    with ScriptedServer({**SCRIPTED, "api_key": "sk-the-right-one"}) as srv:
        res = _eval(srv.base_url, tmp_path / "out", cli_env, "--api-key", "sk-PLANTED-wrong-key-123")
    assert res.returncode == 2, res.stderr
    line = _error_line(res.stderr)
    assert "HTTP 401" in line and "Bearer ***" in line
    assert "PLANTED" not in res.stderr + res.stdout


def test_an_unknown_model_gets_the_served_names(tmp_path: Path, cli_env: dict[str, str]) -> None:
    with ScriptedServer({**SCRIPTED, "strict_model": True}) as srv:
        res = _eval(srv.base_url, tmp_path / "out", cli_env, model="scriptd")
        assert srv.stats()["requests"] == 1  # one test request, no run
    assert res.returncode == 2, res.stderr
    line = _error_line(res.stderr)
    assert "HTTP 404" in line and "Did you mean 'scripted'?" in line and "The service lists: scripted" in line


def test_the_check_can_be_skipped(tmp_path: Path, cli_env: dict[str, str]) -> None:
    port = _closed_port()
    res = _eval(
        f"http://127.0.0.1:{port}/v1", tmp_path / "out", cli_env, "--no-test-connection", "--ignore-errors",
        limit=3,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    errors = [r["error"] for r in _reviews(tmp_path / "out")]
    assert len(errors) == 3 and all("connection refused by 127.0.0.1" in e for e in errors), errors


@pytest.fixture(scope="module")
def untrusted_tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An HTTPS server whose self-signed certificate no CA on this machine vouches for."""
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_an_untrusted_certificate_is_named_as_tls(
    tmp_path: Path, cli_env: dict[str, str], untrusted_tls_server: str
) -> None:
    res = _eval(untrusted_tls_server, tmp_path / "out", cli_env)
    assert res.returncode == 2, res.stderr
    line = _error_line(res.stderr)
    assert "TLS handshake with 127.0.0.1" in line and "CERTIFICATE_VERIFY_FAILED" in line


def test_the_breaker_stops_a_service_that_dies_mid_run_and_the_run_resumes(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    work = tmp_path / "out"
    with ScriptedServer({**SCRIPTED, "misbehave": "echo_key_500", "misbehave_after": 5}) as srv:
        res = _eval(srv.base_url, work, cli_env, "--eval-batch-size", "1", limit=60)
        sent = srv.stats()["requests"]
    assert res.returncode == 1, res.stderr
    line = _error_line(res.stderr)
    assert "failed 20 times in a row with the same cause (http_500)" in line
    assert "5 were answered" in line
    assert sent == 5 + 20, "no request may be sent once the breaker has tripped"
    (run_dir,) = work.iterdir()
    assert f"--use-cache {run_dir}" in res.stderr
    assert not (run_dir / "reports").exists()

    # The service is back: the resume asks only for what was not answered.
    with ScriptedServer(SCRIPTED) as good:
        res = _eval(good.base_url, work, cli_env, "--use-cache", str(run_dir), limit=60)
        assert good.stats()["requests"] == 55
    assert res.returncode == 0, res.stderr
    assert all(r["error"] is None for r in _reviews(work))


def test_with_ignore_errors_the_breaker_records_the_rest_as_failed(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    work = tmp_path / "out"
    with ScriptedServer({**SCRIPTED, "misbehave": "echo_key_500", "misbehave_after": 5}) as srv:
        res = _eval(srv.base_url, work, cli_env, "--eval-batch-size", "1", "--ignore-errors", limit=60)
        assert srv.stats()["requests"] == 25
    assert res.returncode == 0, res.stderr
    assert "were not sent and are recorded as failed" in res.stderr
    records = _reviews(work)
    assert len(records) == 60
    unsent = [r for r in records if r["error"] and r["error"].startswith("not sent:")]
    # 5 answered; 3 failed after 6 attempts each and a 4th after 2 (the 20th failure); the rest never sent.
    assert len(unsent) == 60 - 5 - 4
    assert all(r["attempts"] == 0 for r in unsent)
    assert sum(1 for r in records if r["error"] is None) == 5


@pytest.mark.parametrize(
    ("misbehave", "expected"),
    [
        ("truncated_json", "sent invalid JSON"),
        ("empty_choices", "answered without choices (choices: [])"),
        ("null_content", "answered with message.content null"),
    ],
)
def test_broken_replies_are_errors_not_zero_scores(
    tmp_path: Path, cli_env: dict[str, str], misbehave: str, expected: str
) -> None:
    work = tmp_path / "out"
    with ScriptedServer({**SCRIPTED, "misbehave": misbehave, "misbehave_after": 5}) as srv:
        res = _eval(srv.base_url, work, cli_env, limit=8)
        port = srv.port
    assert res.returncode == 1, res.stderr
    assert "3 sample(s) failed" in res.stderr
    errors = [r["error"] for r in _reviews(work) if r["error"]]
    assert len(errors) == 3
    assert all(expected in e and f"http://127.0.0.1:{port}/v1/chat/completions" in e for e in errors), errors
    assert all(e.startswith("failed after 6 attempts") for e in errors), errors  # 18 failures: no trip
