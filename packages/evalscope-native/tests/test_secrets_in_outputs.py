"""A planted key reaches no file of the run folder, whatever echoes it and wherever it was given.

Each case runs the real CLI against the scripted server on 127.0.0.1, then reads every file under
the work folder as bytes (configs, logs, predictions, reviews, reports) and the terminal output.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from evalscope.testing import ScriptedServer
from evalscope_native.models.scripted import DEMO_TABLE
from native_helpers import evalscope_cmd, fast_retry_config

SCRIPTED = json.loads(DEMO_TABLE.read_text(encoding="utf-8"))
KEY = "sk-PLANTED-0123456789abcdef"
GSM8K = ["--datasets", "gsm8k", "--dataset-args", '{"gsm8k": {"few_shot_num": 0}}', "--limit", "6"]


def _assert_no_key(work: Path, *texts: str, secret: str = KEY) -> None:
    files = [p for p in work.rglob("*") if p.is_file()]
    assert files, "the run wrote nothing: the case did not exercise any writer"
    leaked = [str(p) for p in files if secret.encode() in p.read_bytes()]
    assert leaked == [], f"{secret} found in {leaked}"
    for text in texts:
        assert secret not in text


def _run(
    args: list[str], work: Path, env: dict[str, str], extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        evalscope_cmd(
            "eval",
            "--model",
            "scripted",
            *GSM8K,
            "--work-dir",
            str(work),
            "--config",
            str(fast_retry_config(work.parent)),
            *args,
        ),  # fmt: skip
        env={**env, **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.parametrize("where", ["flag", "model_args", "environment"])
def test_a_key_echoed_by_a_401_is_masked_everywhere(
    tmp_path: Path, cli_env: dict[str, str], where: str
) -> None:
    """The server rejects the key and quotes the Authorization header, as real providers do.

    `--no-test-connection` lets the run reach the samples, so the echo lands in each sample's error,
    the reviews, the report and the log: the paths that leaked before.
    """
    work = tmp_path / "out"
    given = {
        "flag": (["--api-key", KEY], {}),
        "model_args": (["--model-args", json.dumps({"api_key": KEY})], {}),
        "environment": ([], {"OPENAI_API_KEY": KEY}),
    }[where]
    with ScriptedServer({**SCRIPTED, "api_key": "sk-the-right-one"}) as srv:
        res = _run(
            ["--api-url", srv.base_url, "--no-test-connection", "--ignore-errors", *given[0]],
            work,
            cli_env,
            given[1],
        )
    assert res.returncode == 0, res.stderr
    (report,) = work.glob("*/reports/*/gsm8k.json")
    errors = json.loads(report.read_text())["errors"]
    assert errors and all("Bearer ***" in str(e) for e in errors), errors  # the key was sent, and masked
    _assert_no_key(work, res.stdout, res.stderr)


def test_a_key_echoed_by_a_failing_server_mid_run_is_masked(tmp_path: Path, cli_env: dict[str, str]) -> None:
    work = tmp_path / "out"
    with ScriptedServer({**SCRIPTED, "misbehave": "echo_key_500", "misbehave_after": 2}) as srv:
        res = _run(["--api-url", srv.base_url, "--api-key", KEY, "--debug", "--ignore-errors"], work, cli_env)
    assert res.returncode == 0, res.stderr
    log = next(work.glob("*/logs/eval_log.log")).read_text()
    assert "Upstream auth failed for header 'Bearer ***'" in log
    (review,) = work.glob("*/reviews/*/gsm8k.jsonl")
    assert "Upstream auth failed for header 'Bearer ***'" in review.read_text()
    _assert_no_key(work, res.stdout, res.stderr)


def test_a_key_rejected_at_the_check_is_masked_on_the_terminal(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    with ScriptedServer({**SCRIPTED, "api_key": "sk-the-right-one"}) as srv:
        res = _run(["--api-url", srv.base_url, "--api-key", KEY], tmp_path / "out", cli_env)
    assert res.returncode == 2 and "Bearer ***" in res.stderr, res.stderr
    assert KEY not in res.stderr + res.stdout


@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_credentials_in_the_url_are_used_and_masked(
    tmp_path: Path, cli_env: dict[str, str], form: str
) -> None:
    work = tmp_path / "out"
    with ScriptedServer({**SCRIPTED, "misbehave": "echo_key_500", "misbehave_after": 3}) as srv:
        url = (
            srv.base_url.replace("http://", f"http://evaluser:{KEY}@")
            if form == "userinfo"
            else f"{srv.base_url}?key={KEY}"
        )
        res = _run(["--api-url", url, "--ignore-errors"], work, cli_env)
    assert res.returncode == 0, res.stderr
    config = next(work.glob("*/configs/task_config.yaml")).read_text()
    assert ("http://***@127.0.0.1" if form == "userinfo" else "?key=***") in config
    _assert_no_key(work, res.stdout, res.stderr)
    if form == "userinfo":  # the pair travels as a Basic header, which the server echoes: masked too
        import base64

        _assert_no_key(work, res.stderr, secret=base64.b64encode(f"evaluser:{KEY}".encode()).decode())


@pytest.mark.parametrize(
    "misbehave", ["html", "truncated_json", "empty_choices", "null_content", "echo_key_500"]
)
def test_a_key_reaches_no_file_whatever_breaks_mid_run(
    tmp_path: Path, cli_env: dict[str, str], misbehave: str
) -> None:
    """Every failure mode the scripted server has, after two good replies, with a key that works.

    A web page is not retried, so its 4 samples simply fail (the report is written). The others are
    retried and trip the circuit breaker (4 samples x 6 attempts > 20 failures in a row): no report,
    and the resume command on stderr. `--debug` puts every attempt and its error into the log. None
    of these files, nor the terminal, may carry the key.
    """
    work = tmp_path / "out"
    with ScriptedServer({**SCRIPTED, "misbehave": misbehave, "misbehave_after": 2}) as srv:
        args = ["--api-url", srv.base_url, "--api-key", KEY, "--debug", "--eval-batch-size", "1"]
        res = _run(args, work, cli_env)
    assert res.returncode == 1, res.stderr
    if misbehave == "html":
        assert "4 sample(s) failed" in res.stderr
        assert next(work.glob("*/reports/*/gsm8k.json")).is_file()
    else:
        assert "failed 20 times in a row" in res.stderr and "--api-key '***'" in res.stderr
    assert next(work.glob("*/logs/eval_log.log")).stat().st_size > 0
    assert next(work.glob("*/predictions/*/gsm8k.jsonl")).is_file()  # the two good answers
    _assert_no_key(work, res.stdout, res.stderr)
