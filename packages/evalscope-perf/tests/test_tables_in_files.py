"""`evalscope perf ... > out.txt`: tables at their natural width, nothing wrapped, nothing cut."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

SWEEP_COLUMNS = ["Parallel", "Rate", "Number", "OK", "Failed", "Req/s", "Out tok/s", "Avg TTFT", "P99 TTFT",
                 "Avg TPOT", "P99 TPOT", "Avg ITL", "Avg E2E", "P99 E2E", "Goodput"]  # fmt: skip


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("│┃").split("│" if "│" in line else "┃")]


def test_a_sweep_written_to_a_file_keeps_every_column_and_row(
    server: Any, prompts_file: Path, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    server.configure(
        ttft=0.002, itl=0.001, tokens=4, faults={"rate": {"500": 0.05}, "seed": 3, "per": "request"}
    )
    points = [(1, 4), (2, 8), (4, 16), (8, 32), (16, 64)]
    target = tmp_path / "out.txt"
    # COLUMNS=80 is what a CI log or `> file` looks like to rich; the tables must ignore it there.
    with open(target, "w", encoding="utf-8") as stdout:
        res = subprocess.run(
            [sys.executable, "-m", "evalscope.cli.main", "perf", "--url", server.base_url, "--model", "fake-model",
             "--dataset", "line_by_line", "--dataset-path", str(prompts_file), "--outputs-dir", str(tmp_path / "o"),
             "--parallel", *(str(p) for p, _ in points), "--number", *(str(n) for _, n in points),
             "--goodput", "ttft:1000", "tpot:1000", "--sleep-interval", "0", "--no-test-connection",
             "--name", "a-rather-long-run-name-so-that-titles-are-long-too"],
            env={**cli_env, "COLUMNS": "80"}, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=240,
        )  # fmt: skip
    assert res.returncode == 0, res.stderr
    text = target.read_text(encoding="utf-8")
    assert "…" not in text and "..." not in text
    lines = text.splitlines()
    (head,) = [i for i, line in enumerate(lines) if "Parallel" in line and "Goodput" in line]
    assert _cells(lines[head]) == SWEEP_COLUMNS  # one line: no header wrapped onto a second
    body = [line for line in lines[head + 2 :] if line.startswith("│")][: len(points) + 1]
    rows = [_cells(line) for line in body]
    assert len(rows) == len(points)  # one line per run, nothing else in the table body
    for row, (parallel, number) in zip(rows, points, strict=True):
        assert len(row) == len(SWEEP_COLUMNS) and all(row), row
        assert (row[0], row[2]) == (str(parallel), str(number))
        assert int(row[3]) + int(row[4]) == number
        float(row[-1].replace(",", ""))  # goodput, a number, whole
    assert max(len(line) for line in lines) > 80  # the natural width, not rich's 80-column default
    # the per-run tables are whole too
    assert text.count("TPOT (ms, excl. 1st token)") == len(points)
    assert text.count("Output token throughput (tok/s)") == len(points)
