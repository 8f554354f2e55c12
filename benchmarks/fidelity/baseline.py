"""The public EvalScope 1.14.1: its virtual environment, its benchmark names, runs of its CLI.

The venv gets `evalscope[ifeval]==1.14.1` (the extra brings `langdetect`, which its IFEval adapter
imports at construction). Runs are offline (`HF_HUB_OFFLINE`, `HF_DATASETS_OFFLINE`) with every
cache in the harness's temporary folder; the data they read is what `layout.build_their_folder`
writes. One CLI process serves every benchmark of a round (its start-up and HTML report cost ~10 s
a process); when that run fails, each benchmark is run alone so one failure names its benchmark.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

VERSION = "1.14.1"
REQUIREMENT = f"evalscope[ifeval]=={VERSION}"
EXTRA_MODULES = ("langdetect", "nltk")  # what the [ifeval] extra adds; installed when missing


def _python(venv: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True)


def ensure_venv(venv: Path) -> Path:
    """The baseline's `evalscope` console script, creating the venv (needs PyPI, ~2 min) if missing."""
    exe = venv / "bin" / "evalscope"
    if not exe.exists():
        print(f"creating the baseline venv {venv} (pip install '{REQUIREMENT}') ...", flush=True)
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", REQUIREMENT], check=True)
    got = _python(venv, "import importlib.metadata as m; print(m.version('evalscope'))").stdout.strip()
    if got != VERSION:
        raise SystemExit(
            f"{venv} has evalscope {got!r}; the fidelity baseline is {VERSION} (pass another venv)"
        )
    missing = [m for m in EXTRA_MODULES if _python(venv, f"import {m}").returncode != 0]
    if missing:  # a venv made with a plain `pip install evalscope==1.14.1`
        print(f"adding {missing} to {venv} (pip install '{REQUIREMENT}') ...", flush=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", REQUIREMENT], check=True)
    return exe


def their_benchmarks(venv: Path) -> set[str]:
    """EvalScope's registered benchmark names, from its lazy-import index (no import of evalscope)."""
    code = (
        "import evalscope, json, pathlib; "
        "print(json.dumps(sorted(json.loads((pathlib.Path(evalscope.__file__).parent / 'benchmarks' / "
        "'_index.json').read_text()))))"
    )
    res = _python(venv, code)
    if res.returncode != 0:
        raise SystemExit(f"cannot list EvalScope's benchmarks in {venv}:\n{res.stderr}")
    return set(json.loads(res.stdout))


def offline_env(tmp: Path, nltk_data: Path | None = None) -> dict[str, str]:
    """No network, every cache under `tmp`, and loopback never through a proxy."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HOME=str(tmp / "hf"),
        HF_DATASETS_CACHE=str(tmp / "hf" / "datasets"),
        MODELSCOPE_CACHE=str(tmp / "modelscope"),
        EVALSCOPE_CACHE=str(tmp / "evalscope-cache"),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    if nltk_data is not None:  # IFEval's sentence splitter (punkt_tab); it would download it otherwise
        env["NLTK_DATA"] = str(nltk_data)
    return env


def run_theirs(
    exe: Path,
    base_url: str,
    dataset_args: dict[str, dict[str, Any]],
    limit: int,
    work_dir: Path,
    tmp: Path,
    nltk_data: Path | None = None,
) -> tuple[Path, float]:
    """One `evalscope eval` of these benchmarks (name -> dataset args); returns (reviews dir, seconds)."""
    cmd = [
        str(exe), "eval",
        "--model", "scripted",
        "--api-url", base_url,
        "--api-key", "EMPTY",
        "--eval-type", "openai_api",
        "--datasets", *dataset_args,
        "--limit", str(limit),
        "--dataset-args", json.dumps(dataset_args),
        "--eval-batch-size", "16",
        "--work-dir", str(work_dir),
        "--no-timestamp",
        "--ignore-errors",
    ]  # fmt: skip
    work_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    env = offline_env(tmp, nltk_data)
    res = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - start
    (work_dir / "fidelity-cli.log").write_text(res.stdout + res.stderr, encoding="utf-8")
    if res.returncode != 0:
        tail = (res.stdout + res.stderr)[-3000:]
        raise RuntimeError(
            f"EvalScope {VERSION} failed on {', '.join(dataset_args)} (exit {res.returncode}):\n{tail}"
        )
    return work_dir / "reviews" / "scripted", seconds


def dump_texts(venv: Path, ref: str, dest: Path) -> Path:
    """Write a `{name: text}` dict of EvalScope's package (`"module:ATTR"`) as `<dest>/<name>.txt`.

    For prompt texts EvalScope ships in its code (BBH's chain-of-thought examples) and our adapter
    reads from files: the temporary copy lets both engines build the prompt from the same text.
    """
    module, _, attr = ref.partition(":")
    code = (
        "import json, sys, importlib; "
        f"d = getattr(importlib.import_module({module!r}), {attr!r}); "
        "[open(f'{sys.argv[1]}/{k}.txt', 'w', encoding='utf-8').write(v) for k, v in d.items()]"
    )
    dest.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code, str(dest)], capture_output=True, text=True
    )
    if res.returncode != 0:
        raise RuntimeError(f"cannot read {ref} from EvalScope {VERSION}:\n{res.stderr[-2000:]}")
    return dest
