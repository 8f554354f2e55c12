"""Local checkpoints through the real CLI, in subprocesses: the README's first command on a tiny model,
a run killed with SIGKILL and resumed, an offline hub id read from the cache, and an install
without torch.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from native_helpers import evalscope_cmd

FEW_SHOT_0 = '{"gsm8k": {"few_shot_num": 0}}'


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    pytest.importorskip("transformers")
    from local_model_helpers import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("ckpt") / "tiny-llama", data_dir, chat_template=True)


@pytest.fixture(scope="module")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("pycache"))


@pytest.fixture
def env(cli_env: dict[str, str], pycache: str) -> dict[str, str]:
    """The CLI's environment. Where bytecode writing is off (PYTHONDONTWRITEBYTECODE), each subprocess
    would compile transformers from source (~15 s): a private bytecode cache shared by this module's
    subprocesses compiles it once."""
    out = {**cli_env, "PYTHONPYCACHEPREFIX": pycache}
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    return out


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(evalscope_cmd(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def _lines(path: Path) -> list[dict[str, Any]]:
    """Complete JSONL lines only: a SIGKILL may leave a torn last line, which the cache cuts off."""
    raw = path.read_text(encoding="utf-8")
    return [json.loads(x) for x in raw[: raw.rfind("\n") + 1].splitlines() if x.strip()]


@pytest.mark.slow
def test_sigkill_then_resume_loses_nothing(tiny_model: Path, tmp_path: Path, env: dict[str, str]) -> None:
    limit = 32

    def command(run_dir: Path) -> list[str]:
        return evalscope_cmd(
            "eval", "--model", str(tiny_model), "--datasets", "gsm8k", "--dataset-args", FEW_SHOT_0,
            "--limit", str(limit), "--eval-batch-size", "4", "--generation-config", "max_tokens=24",
            "--use-cache", str(run_dir),
        )  # fmt: skip

    run_dir = tmp_path / "run"
    run_dir.mkdir()  # --use-cache names an existing folder (a missing one is a typo)
    predictions = run_dir / "predictions" / "tiny-llama" / "gsm8k.jsonl"
    proc = subprocess.Popen(command(run_dir), env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if predictions.exists() and predictions.read_bytes().count(b"\n") >= 8:
            break
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run_dir / "reports").exists(), "killed before the end: no report yet"
    before = _lines(predictions)
    assert 8 <= len(before) < limit
    print(f"killed after {len(before)} of {limit} answers")

    res = subprocess.run(command(run_dir), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    after = _lines(predictions)
    keys = [x["key"] for x in after]
    assert len(keys) == len(set(keys)) == limit, "every sample answered exactly once: nothing regenerated"
    assert after[: len(before)] == before, "answers from before the kill were kept as they were"

    # An uninterrupted run (in this process) gives the same answers: the batches after the kill held
    # other samples than they would have, and that changes nothing.
    from evalscope import run_task

    run_task({"model": str(tiny_model), "datasets": ["gsm8k"], "dataset_args": json.loads(FEW_SHOT_0),
              "limit": limit, "eval_batch_size": 4, "generation_config": {"max_tokens": 24},
              "work_dir": str(tmp_path / "ref")})  # fmt: skip

    def answers(folder: Path) -> dict[str, str]:
        reviews = _lines(folder / "reviews" / "tiny-llama" / "gsm8k.jsonl")
        return {r["id"]: r["prediction"] for r in reviews}

    assert answers(run_dir) == answers(next((tmp_path / "ref").iterdir())) and len(answers(run_dir)) == limit
    report = json.loads((run_dir / "reports" / "tiny-llama" / "gsm8k.json").read_text())
    assert report["num_samples"] == limit and report["num_errors"] == 0


def test_readme_command_offline_with_a_hub_id_from_the_cache(
    tiny_model: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    """`evalscope eval --model <hub id> --datasets arc --limit 4` with no network: the HF cache serves it."""
    from local_model_helpers import hf_cache_layout

    snapshot = hf_cache_layout(tiny_model, tmp_path / "hf", "tiny-org/tiny-llama")
    env = {**env, "HF_HUB_CACHE": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    res = _run(
        ["eval", "--model", "tiny-org/tiny-llama", "--datasets", "arc", "--limit", "4", "--eval-batch-size", "4",
         "--generation-config", "max_tokens=8", "--work-dir", str(tmp_path / "out")],
        env, tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "| tiny-llama | arc" in res.stdout and "ARC-Challenge" in res.stdout
    run_dir = next((tmp_path / "out").iterdir())
    report = json.loads((run_dir / "reports" / "tiny-llama" / "arc.json").read_text())
    assert report["num_samples"] == 8 and report["num_errors"] == 0
    assert len(_lines(run_dir / "predictions" / "tiny-llama" / "arc.jsonl")) == 8
    log = (run_dir / "logs" / "eval_log.log").read_text()
    assert f"local model tiny-llama: {snapshot} on cpu, dtype float32, chat template, batch size 4" in log


def test_offline_hub_id_missing_from_the_caches_fails_at_once(tmp_path: Path, env: dict[str, str]) -> None:
    env = {**env, "HF_HUB_CACHE": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1",
           "MODELSCOPE_CACHE": str(tmp_path / "ms")}  # fmt: skip
    res = _run(["eval", "--model", "tiny-org/absent", "--datasets", "arc", "--limit", "2",
                "--work-dir", str(tmp_path / "out")], env, tmp_path)  # fmt: skip
    assert res.returncode == 2
    assert (
        "'tiny-org/absent'" in res.stderr
        and "offline" in res.stderr
        and "hf download tiny-org/absent" in res.stderr
    )
    assert str(tmp_path / "hf" / "models--tiny-org--absent") in res.stderr
    assert str(tmp_path / "ms" / "models" / "tiny-org" / "absent") in res.stderr
    assert not (tmp_path / "out").exists()


def test_online_hub_id_missing_from_the_caches_fails_at_once_without_network(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Online, a hub id in no cache would be downloaded: with the hub unreachable (HF_ENDPOINT names a
    port on 127.0.0.1 that refuses connections) the run stops before transformers' retries."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        port = closed.getsockname()[1]
        env = {k: v for k, v in env.items() if "proxy" not in k.lower() and "OFFLINE" not in k}
        env.update(HF_HUB_CACHE=str(tmp_path / "hf"), MODELSCOPE_CACHE=str(tmp_path / "ms"),
                   HF_ENDPOINT=f"http://127.0.0.1:{port}")  # fmt: skip
        res = _run(["eval", "--model", "tiny-org/absent", "--datasets", "arc", "--limit", "2",
                    "--work-dir", str(tmp_path / "out")], env, tmp_path)  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "Cannot download model 'tiny-org/absent' (--model): the network is unreachable." in res.stderr
    assert f"http://127.0.0.1:{port}" in res.stderr
    assert str(tmp_path / "hf" / "models--tiny-org--absent") in res.stderr
    assert "--model /path/to/absent" in res.stderr and "--offline" in res.stderr
    assert not (tmp_path / "out").exists()


def test_without_torch_the_error_names_the_extra(tmp_path: Path, env: dict[str, str]) -> None:
    """An install without evalscope[local]: torch cannot be imported in the CLI's process."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None  # as if not installed\n")
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(shim), env.get("PYTHONPATH")]))}
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text("{}")
    res = _run(["eval", "--model", str(checkpoint), "--datasets", "arc", "--limit", "1",
                "--work-dir", str(tmp_path / "out")], env, tmp_path)  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "torch is not installed" in res.stderr
    assert "pip install -e '" in res.stderr and "packages/evalscope-native[local]'" in res.stderr
    assert not (tmp_path / "out").exists()


def test_local_model_modules_import_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "import evalscope_native.plugin, evalscope_native.models.local_hf, evalscope_native.models.local_vllm\n"
        "import evalscope_native.models.batching, evalscope.checkpoints\n"
        "from evalscope import registry\n"
        "assert 'native/transformers' in [s.canonical_name for s in registry.models().all()]\n"
        "print(sorted(m for m in ('torch', 'transformers', 'vllm', 'huggingface_hub', 'tokenizers') if m in sys.modules))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_pip_install_evalscope_does_not_install_torch() -> None:
    """The dependency closure of `evalscope` (core + native, no extras) holds neither torch nor transformers."""
    from importlib.metadata import PackageNotFoundError, requires

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    todo: list[tuple[str, frozenset[str]]] = [("evalscope", frozenset())]
    while todo:
        name, extras = todo.pop()
        key = f"{canonicalize_name(name)}[{','.join(sorted(extras))}]"
        if key in seen:
            continue
        seen.add(key)
        try:
            reqs = requires(name) or []
        except PackageNotFoundError:
            continue  # an optional platform dependency that is not installed here
        for raw in reqs:
            req = Requirement(raw)
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if req.marker is None or any(req.marker.evaluate(e) for e in envs):
                todo.append((req.name, frozenset(req.extras)))
    names = {k.split("[")[0] for k in seen}
    assert {"evalscope-core", "evalscope-native", "openai"} <= names
    assert not names & {"torch", "transformers", "accelerate", "vllm"}, sorted(names)
    native_local = [r for r in requires("evalscope-native") or [] if "torch" in r]
    assert native_local and all("extra == 'local'" in r for r in native_local)
