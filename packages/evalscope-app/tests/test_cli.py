"""`evalscope app` on the command line: flags, bad input, the empty folder, the export's refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from app_helpers import start_app, stop_app


def _app(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, EVALSCOPE_CACHE_DIR=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, "-m", "evalscope.cli.main", "app", *args], capture_output=True,
                          text=True, env=env, timeout=60)  # fmt: skip


def test_help_shows_evalscope_flags(tmp_path: Path) -> None:
    res = _app("--help", tmp_path=tmp_path)
    assert res.returncode == 0
    for flag in ("--outputs", "--server-name", "--server-port", "--lang", "--export", "--no-samples"):
        assert flag in res.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outputs", "does/not/exist"], "--outputs does/not/exist: no such folder"),
        (["--lang", "fr"], "--lang 'fr': expected one of en, zh"),
        (["no/such/run"], "no/such/run: no such folder"),
    ],
)
def test_bad_input_exits_2_with_the_fix(tmp_path: Path, args: list[str], message: str) -> None:
    res = _app(*args, tmp_path=tmp_path)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr


def test_export_of_no_run_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    res = _app("--outputs", str(tmp_path / "empty"), "--export", str(tmp_path / "r.html"), tmp_path=tmp_path)
    assert res.returncode == 2 and "nothing to export" in res.stderr
    assert not (tmp_path / "r.html").exists()


@pytest.mark.slow  # the shared browser comes after the session's engine runs (conftest.py)
def test_an_empty_outputs_folder_is_served_and_says_so(tmp_path: Path, browser: Any) -> None:
    (tmp_path / "empty").mkdir()
    app = start_app("--outputs", str(tmp_path / "empty"))
    try:
        assert any("no runs under" in line for line in app.log)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(app.url + "api/runs", timeout=10) as res:
            assert json.loads(res.read())["runs"] == []
        page = browser.new_page()
        page.goto(app.url)
        page.wait_for_selector("body[data-view='overview'][data-ready='1']")
        assert "No runs under" in page.inner_text("#no-runs")
        page.close()
    finally:
        stop_app(app)


def test_binding_beyond_loopback_warns(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    app = start_app("--outputs", str(tmp_path / "empty"), "--server-name", "0.0.0.0")
    try:
        assert any("warning: --server-name 0.0.0.0" in line and "no login" in line for line in app.log)
    finally:
        stop_app(app)


def test_a_port_in_use_exits_2(tmp_path: Path) -> None:
    import socket

    (tmp_path / "empty").mkdir()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = _app("--outputs", str(tmp_path / "empty"), "--server-port", str(port), tmp_path=tmp_path)
    assert res.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in res.stderr
