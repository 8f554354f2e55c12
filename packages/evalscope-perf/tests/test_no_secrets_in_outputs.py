"""No secret reaches any file perf writes, nor its terminal output, even when the server quotes it.

The fake model answers a share of the requests like a provider that echoes the credentials it
received (`401`/`500` bodies, an error event inside a 200 stream) and streams a reply that contains
the keys, so every route by which a key could reach SQLite, the summaries, the plots or the
terminal is taken; then every file under the output folder is read as bytes and searched.
"""

from __future__ import annotations

import base64
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from evalscope_perf.config import PerfConfig

API_KEY = "sk-PLANTEDapikey0123456789"
HEADER_TOKEN = "PLANTEDheadertoken42"
QUERY_KEY = "PLANTEDquerykey77"
PASSWORD = "PLANTEDpass99"
ENV_KEY = "PLANTEDenvkey314159"
BASIC = base64.b64encode(f"perfuser:{PASSWORD}".encode()).decode()
PLANTED = (API_KEY, HEADER_TOKEN, QUERY_KEY, PASSWORD, ENV_KEY, BASIC)
ECHOES = {"echo_401": 0.25, "echo_500": 0.25, "echo_stream": 0.25}


def _echoes(seed: int) -> dict[str, Any]:
    """The fake model's fault plan: a quarter of the requests each way, by arrival."""
    return {"rate": ECHOES, "seed": seed, "per": "request"}


def _perf(*args: str) -> list[str]:
    return [sys.executable, "-m", "evalscope.cli.main", "perf", *args]


def _leaks(folder: Path, *texts: str) -> list[str]:
    """Every planted value found in any file under `folder` (bytes: SQLite included) or in `texts`."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert files, f"nothing was written under {folder}"
    found = [f"{p}: {v}" for p in files for v in PLANTED if v.encode() in p.read_bytes()]
    found += [f"terminal: {v}" for text in texts for v in PLANTED if v in text]
    return found


def _errors(folder: Path) -> list[str]:
    rows: list[str] = []
    for db in folder.rglob("benchmark_data.db"):
        with sqlite3.connect(db) as con:
            rows += [e for (e,) in con.execute("SELECT error FROM requests WHERE success=0")]
    return rows


def test_echoed_keys_reach_no_file_and_no_terminal_line(
    server: Any, prompts_file: Path, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """--api-key, an auth header, `?key=` in the URL and OPENAI_API_KEY; a sweep, so plots are drawn."""
    server.configure(tokens=3, token_text=f" {ENV_KEY} {API_KEY}", faults=_echoes(5))
    out = tmp_path / "out"
    res = subprocess.run(
        _perf("--url", f"{server.base_url}?key={QUERY_KEY}", "--model", "fake-model", "--api-key", API_KEY,
              "--headers", f"X-Auth-Token={HEADER_TOKEN}", "--dataset", "line_by_line",
              "--dataset-path", str(prompts_file), "--parallel", "2", "4", "--number", "24", "24",
              "--sleep-interval", "0", "--no-test-connection", "--no-live", "--outputs-dir", str(out)),
        env={**cli_env, "OPENAI_API_KEY": ENV_KEY}, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    stats = server.stats()
    assert all(stats["faults"][kind] > 0 for kind in ECHOES), stats  # the server did quote the credentials
    assert stats["ok"] > 0  # ... and streamed replies holding the keys
    errors = _errors(out)
    assert len(errors) == sum(stats["faults"][kind] for kind in ECHOES)
    assert all("Incorrect API key provided" in e and "authorization: ***" in e for e in errors), errors[:3]
    assert "x-auth-token: ***" in errors[0]
    names = {p.name for p in out.rglob("*") if p.is_file()}
    assert {"perf_config.json", "benchmark_data.db", "benchmark_summary.json", "benchmark_percentile.json",
            "sweep_summary.json", "sweep_plots.html", "sweep_plots.png"} <= names  # fmt: skip
    assert "Incorrect API key provided" in res.stdout  # the failures are shown, masked
    assert _leaks(out, res.stdout, res.stderr) == []


def test_url_credentials_reach_no_file_even_through_workers(
    server: Any, prompts_file: Path, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """`user:pass@` in --url is sent as Basic auth; the server echoes it to --workers processes."""
    server.configure(tokens=3, faults=_echoes(11))
    out = tmp_path / "out"
    url = server.base_url.replace("://", f"://perfuser:{PASSWORD}@")
    res = subprocess.run(
        _perf("--url", url, "--model", "fake-model", "--dataset", "line_by_line", "--dataset-path",
              str(prompts_file), "--parallel", "4", "--number", "40", "--workers", "2", "--no-test-connection",
              "--no-live", "--outputs-dir", str(out)),
        env=cli_env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    errors = _errors(out)
    assert errors and all("authorization: ***" in e for e in errors), errors[:3]
    assert sum(server.stats()["faults"][kind] for kind in ECHOES) == len(errors)
    assert _leaks(out, res.stdout, res.stderr) == []


def test_a_rejected_test_request_shows_the_servers_message_without_the_key(
    server: Any, prompts_file: Path, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """The preflight's 401 (and --debug's raw reply) quote the key: stderr shows neither."""
    server.configure(faults={"rate": {"echo_401": 1.0}, "per": "request"})
    out = tmp_path / "out"
    res = subprocess.run(
        _perf("--url", server.base_url, "--model", "fake-model", "--api-key", API_KEY, "--prompt", "hi",
              "--number", "5", "--debug", "--outputs-dir", str(out)),
        env=cli_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr  # a rejected test request is a usage problem (as eval)
    assert "test request" in res.stderr and "HTTP 401: Incorrect API key provided" in res.stderr
    assert "[debug] status 401" in res.stderr and res.stderr.count("authorization: ***") >= 2  # raw + error
    assert server.stats()["faults"]["echo_401"] == 1  # a 401 is not retried
    assert [v for v in PLANTED if v in res.stdout + res.stderr] == []
    assert not out.exists()


def test_the_settings_on_disk_mask_every_credential() -> None:
    cfg = PerfConfig(
        model="m",
        url=f"http://perfuser:{PASSWORD}@127.0.0.1:9/v1?key={QUERY_KEY}",
        headers={"X-Auth-Token": HEADER_TOKEN, "X-Trace": "visible"},
        extra_args={"metadata": {"api_key": "PLANTEDextra1234"}},
    )
    data = cfg.redacted()
    assert data["url"] == "http://***@127.0.0.1:9/v1/chat/completions?key=***"
    assert data["headers"] == {"X-Auth-Token": "***", "X-Trace": "visible"}
    assert data["extra_args"] == {"metadata": {"api_key": "***"}}
    secrets = cfg.secrets()
    assert {PASSWORD, QUERY_KEY, HEADER_TOKEN, "PLANTEDextra1234", BASIC, f"Basic {BASIC}"} <= set(secrets)
    # the credentials travel as a header, never in the request line or Host
    assert cfg.client_url() == f"http://127.0.0.1:9/v1/chat/completions?key={QUERY_KEY}"
    assert cfg.request_headers()["Authorization"] == f"Basic {BASIC}"
