"""The README's quickstart, as written, gives the table the README shows; so does its service variant."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from evalscope.testing import ScriptedServer
from evalscope_native.models.scripted import DEMO_TABLE

REPO = Path(__file__).resolve().parents[1]
ROWS = (
    "| gsm8k   | mean_acc | default  | main          |   5 | 0.8000 |",
    "| arc     | mean_acc | default  | ARC-Easy      |   5 | 0.8000 |",
    "| arc     | mean_acc | default  | ARC-Challenge |   5 | 0.4000 |",
)


def _commands() -> list[list[str]]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Quickstart") :]
    found = re.findall(r"\.venv/bin/evalscope eval (.+?)\n```", section.replace("\\\n", " "), re.S)
    assert len(found) >= 2, "the README lost its quickstart commands"
    return [shlex.split(c) for c in found[:2]]


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    data_dir = os.environ.get("EVALSCOPE_DATA_DIR") or str(REPO.parent / "shared" / "data")
    args = [data_dir if a == "../shared/data" else a for a in args]
    env = {k: v for k, v in os.environ.items() if k != "EVALSCOPE_DATA_DIR"}  # the command says it all
    env["EVALSCOPE_CACHE_DIR"] = str(tmp_path / "cache")
    return subprocess.run(
        [sys.executable, "-m", "evalscope.cli.main", "eval", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_readme_quickstart_needs_no_server(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    res = _run(_commands()[0], tmp_path)
    assert res.returncode == 0, res.stderr
    for row in ROWS:
        assert row in res.stdout and row in readme, row
    assert (tmp_path / "outputs").is_dir()


def test_readme_service_command_against_a_server(tmp_path: Path) -> None:
    """The second command, with the README's URL and model name swapped for a running server's."""
    args = _commands()[1]
    assert "--api-url" in args
    with ScriptedServer(json.loads(DEMO_TABLE.read_text(encoding="utf-8"))) as server:
        url = args[args.index("--api-url") + 1]
        args = [server.base_url if a == url else a for a in args]
        args[args.index("--model") + 1] = "scripted"
        res = _run(args, tmp_path)
        assert server.stats()["requests"] >= 15
    assert res.returncode == 0, res.stderr
    for row in ROWS:
        assert row in res.stdout, row
