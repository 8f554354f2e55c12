"""The vLLM engine (`--model-args '{"engine": "vllm"}'`), where vllm and a CUDA GPU are available.

Skipped elsewhere: vLLM has no CPU build on PyPI. The model is the tiny test Llama scaled to a head
size vLLM's attention kernels support (64).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest


def _vllm_ready() -> bool:
    if importlib.util.find_spec("vllm") is None or importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _vllm_ready(), reason="needs vllm and a CUDA GPU"),
]


def test_vllm_engine_end_to_end(tmp_path: Path, data_dir: Path) -> None:
    from evalscope import run_task
    from local_model_helpers import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny-vllm", data_dir, chat_template=True, hidden=256, heads=4)
    task = {
        "model": str(model),
        "model_args": {"engine": "vllm", "gpu_memory_utilization": 0.3, "max_model_len": 2048},
        "datasets": ["arc"],
        "data_dir": str(data_dir),
        "limit": 8,
        "eval_batch_size": 16,
        "generation_config": {"max_tokens": 16, "stop": ["\n\n"]},
        "work_dir": str(tmp_path / "out"),
    }
    reports = run_task(task)
    assert reports["arc"].num_samples == 16 and reports["arc"].num_errors == 0
    run_dir = next((tmp_path / "out").iterdir())
    reviews = [
        json.loads(x) for x in (run_dir / "reviews" / "tiny-vllm" / "arc.jsonl").read_text().splitlines()
    ]
    assert all(0 < r["usage"]["completion_tokens"] <= 16 and "\n\n" not in r["prediction"] for r in reviews)
    again = run_task({**task, "use_cache": str(run_dir)})
    assert again["arc"].score() == reports["arc"].score()
