"""Fault handling of each HTTP client under the `openai` SDK: which error each fault becomes, and a run.

Two checks per client (aiohttp, the engine's default; httpx, the SDK's own):

1. One request per injected fault kind (HTTP 500, 429, dropped connection, stalled answer): the
   SDK exception it raises and what `OpenAIModel.generate` turns it into -- every one must be a
   `RetryableModelError`.
2. A whole `run_task` with 20% 500s, 20% 429s, 10% drops and 5% stalls (stall 5 s, timeout 1 s):
   every sample must still complete, and the wall time is printed.

    .venv/bin/python benchmarks/bench_faults.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import Figure, table, write_gsm8k_folder

CLIENTS = ("raw", "aiohttp", "httpx")
FAULTS = {"rate": {"500": 0.2, "429": 0.2, "drop": 0.1, "stall": 0.05}, "stall_s": 5, "retry_after_s": 0.05}
TIMEOUT_S = 1.0


def _keys_for(kind: str, count: int) -> list[str]:
    """Prompts the scripted server faults with `kind` (it decides by hashing the prompt)."""
    from evalscope.testing import fault_for

    keys = [key for i in range(10_000) if fault_for(key := f"probe {kind} {i}", FAULTS) == kind]
    if len(keys) < count:
        raise RuntimeError(f"too few keys for fault {kind!r}")
    return keys[:count]


async def _classify(base_url: str, client: str) -> list[list[str]]:
    import openai
    from evalscope.config import GenerationConfig, TaskConfig
    from evalscope.contracts import ChatMessage, GenerateRequest, RetryableModelError
    from evalscope_native.models.openai_api import OpenAIModel

    cfg = TaskConfig(
        model="scripted",
        api_url=base_url,
        model_args={"http_client": client},
        timeout=TIMEOUT_S,
        eval_batch_size=4,
    )
    model = OpenAIModel(cfg)
    rows = []
    try:
        for kind in ("500", "429", "drop", "stall"):
            sdk_key, engine_key = _keys_for(kind, 2)  # the server fails each key once only
            messages: Any = [{"role": "user", "content": sdk_key}]
            try:
                await model._client.chat.completions.create(model="scripted", messages=messages)
                sdk_error = "no error"
            except openai.OpenAIError as exc:
                sdk_error = type(exc).__name__
            except Exception as exc:  # anything else escaped the SDK's mapping
                sdk_error = f"UNMAPPED {type(exc).__module__}.{type(exc).__name__}"
            request = GenerateRequest(
                messages=[ChatMessage(role="user", content=engine_key)], config=GenerationConfig()
            )
            try:
                await model.generate(request)
                mapped = "no error"
            except RetryableModelError as exc:
                mapped = f"RetryableModelError: {str(exc)[:90]}"
            except Exception as exc:
                mapped = f"NOT RETRYABLE: {type(exc).__name__}: {exc}"
            rows.append([client, kind, sdk_error, mapped])
    finally:
        await model.aclose()
    return rows


def _faulty_run(base_url: str, dataset: Path, n: int, client: str) -> tuple[float, int, int]:
    from evalscope.run import run_task

    with tempfile.TemporaryDirectory(prefix="bench-faults-") as work_dir:
        start = time.perf_counter()
        reports = run_task(
            {
                "model": "scripted",
                "api_url": base_url,
                "model_args": {"http_client": client},
                "datasets": ["gsm8k"],
                "dataset_args": {"gsm8k": {"dataset_id": str(dataset), "few_shot_num": 0}},
                "limit": n,
                "eval_batch_size": 32,
                "timeout": TIMEOUT_S,
                "retry": {"backoff_base_s": 0.05, "backoff_max_s": 0.5},
                "work_dir": work_dir,
                "reporters": [],
            }
        )
        elapsed = time.perf_counter() - start
    report = reports["gsm8k"]
    return elapsed, report.num_samples, report.num_errors


def measure(n: int = 400, clients: tuple[str, ...] = CLIENTS) -> list[Figure]:
    from evalscope.testing import ScriptedServer

    figures = []
    kinds: list[list[str]] = []
    runs: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-gsm8k-") as tmp:
        dataset = write_gsm8k_folder(Path(tmp), n)
        with ScriptedServer({"model": "scripted", "default_reply": "\\boxed{18}", "faults": FAULTS}) as srv:
            for client in clients:
                srv.reset_stats(attempts=True)  # the same prompts fault again for this client
                kinds += asyncio.run(_classify(srv.base_url, client))
                srv.reset_stats()
                elapsed, done, errors = _faulty_run(srv.base_url, dataset, n, client)
                faults = srv.stats()["faults"]
                runs.append(
                    [
                        client,
                        str(done),
                        str(errors),
                        ", ".join(f"{k}: {v}" for k, v in faults.items()),
                        f"{elapsed:.2f}",
                    ]
                )
                figures.append(
                    Figure("faults", f"errors left ({client}, {n} samples)", errors, "", "0", errors == 0)
                )
    print(f"\nOne request per fault kind (timeout {TIMEOUT_S} s)")
    print(table(["client", "fault", "SDK raises", "generate() raises"], kinds))
    print(f"\nrun_task with faults {FAULTS['rate']}, timeout {TIMEOUT_S} s, eval_batch_size 32")
    print(table(["client", "samples", "errors", "faults injected", "wall s"], runs))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="samples in the faulty run")
    parser.add_argument("--http-client", action="append", choices=CLIENTS, help="default: all three")
    args = parser.parse_args(argv)
    figures = measure(args.n, tuple(args.http_client or CLIENTS))
    return 0 if all(f.ok for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
