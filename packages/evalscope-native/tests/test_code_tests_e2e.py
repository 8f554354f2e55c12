"""code_tests end to end: a user's own csv of problems, through the CLI, scored in the sandbox."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

from evalscope_native.testing.openai_server import ScriptedServer
from native_helpers import evalscope_cmd

ROWS = [
    {
        "id": "add",
        "prompt": "Write add(a, b) returning their sum.",
        "tests": "assert add(2, 3) == 5",
        "setup": "",
    },
    {"id": "neg", "prompt": "Write neg(x) returning -x.", "tests": "assert neg(4) == -4", "setup": ""},
    {
        "id": "root",
        "prompt": "Write root(x): the square root.",
        "tests": "assert root(9) == 3",
        "setup": "import math",
    },
]
REPLIES = {
    "add(a, b)": "```python\ndef add(a, b):\n    return a + b\n```",
    "neg(x)": "```python\ndef neg(x):\n    return x\n```",  # wrong
    "root(x)": "```python\nimport sys\nsys.exit(0)\n```",  # the early-exit cheat: a failure
}


def test_code_tests_from_a_csv_through_the_cli(tmp_path: Path, cli_env: dict[str, str]) -> None:
    folder = tmp_path / "mine" / "default"
    folder.mkdir(parents=True)
    with (folder / "test.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "prompt", "tests", "setup"])
        writer.writeheader()
        writer.writerows(ROWS)
    entries = [{"contains": k, "reply": v} for k, v in REPLIES.items()]
    with ScriptedServer({"model": "scripted", "entries": entries}) as server:
        args = '{"code_tests": {"local_path": "%s"}}' % (tmp_path / "mine")
        res = subprocess.run(
            evalscope_cmd("eval", "--model", "scripted", "--api-url", server.base_url, "--datasets", "code_tests",
                          "--dataset-args", args, "--work-dir", str(tmp_path / "out")),
            env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert res.returncode == 0, res.stderr
    run_dir = next((tmp_path / "out").iterdir())
    report = json.loads((run_dir / "reports" / "scripted" / "code_tests.json").read_text())
    assert report["num_samples"] == 3 and report["metrics"][0]["score"] == 1 / 3
    assert report["extra"]["sandbox_isolation"] == "bwrap"
    reviews = [
        json.loads(x)
        for x in (run_dir / "reviews" / "scripted" / "code_tests.jsonl").read_text().split("\n")
        if x
    ]
    assert [r["metadata"]["executions"][0]["status"] for r in reviews] == ["passed", "failed", "failed"]
