"""The README's quickstart, as written, gives the table the README shows."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from evalscope_native.testing.openai_server import ScriptedServer

REPO = Path(__file__).resolve().parents[1]


def test_readme_quickstart(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = re.search(r"\.venv/bin/evalscope eval (.+?)\n(?:kill|```)", readme.replace("\\\n", " "), re.S)
    assert command is not None, "the README lost its quickstart command"
    args = shlex.split(command.group(1))
    config = json.loads((REPO / "examples" / "scripted-model.json").read_text())
    data_dir = os.environ.get("EVALSCOPE_DATA_DIR") or str(REPO.parent / "shared" / "data")
    with ScriptedServer(config) as server:
        args = [server.base_url if a == "http://127.0.0.1:8801/v1" else a for a in args]
        env = dict(os.environ, EVALSCOPE_DATA_DIR=data_dir, EVALSCOPE_CACHE_DIR=str(tmp_path / "cache"))
        res = subprocess.run(
            [sys.executable, "-m", "evalscope.cli.main", "eval", *args], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert res.returncode == 0, res.stderr
    for row in ("| gsm8k   | mean_acc | default  | main          |   5 | 0.8000 |",
                "| arc     | mean_acc | default  | ARC-Easy      |   5 | 0.8000 |",
                "| arc     | mean_acc | default  | ARC-Challenge |   5 | 0.4000 |"):  # fmt: skip
        assert row in res.stdout and row in readme, row
    assert (tmp_path / "outputs").is_dir()
