"""Generated tokens/s of a local checkpoint (`native/transformers`) at several batch sizes.

The model is driven exactly as the engine drives it: `batch_size` concurrent callers, one request
each at a time, through `BatchRunner` (models/batching.py) — so the figure includes the batching
layer, the chat template, tokenization, left padding and decoding, not just `model.generate`. The
prompts are real GSM8K questions (different lengths, so batches are padded); every row generates
`--max-tokens` new tokens unless it emits EOS, and tokens/s counts the tokens actually generated.
The same prompts run at every batch size, and the script checks that greedy answers are identical
across batch sizes.

By default the model is the tests' tiny random Llama, scaled up (`--hidden 512 --layers 4`);
`--model PATH` measures a real checkpoint instead (e.g. a downloaded Qwen2.5-0.5B-Instruct folder).

    .venv/bin/python benchmarks/bench_local_model.py                          # CPU: batch 1 and 8
    .venv/bin/python benchmarks/bench_local_model.py --device cuda            # GPU: batch 1, 8 and 32
    .venv/bin/python benchmarks/bench_local_model.py --device cuda --model /models/Qwen2.5-0.5B-Instruct

Goal on a GPU: batch 32 gives at least 5x the tokens/s of batch 1 (`--strict` exits 1 if missed).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import REPO, Figure, data_dir, summary, table

# The tiny-model builder is the tests' own (one definition of "the tiny model").
sys.path.insert(0, str(REPO / "packages" / "evalscope-native" / "tests"))


def build_model(folder: Path, hidden: int, layers: int) -> Path:
    from local_model_helpers import build_tiny_model

    heads = max(1, hidden // 64)
    return build_tiny_model(folder, data_dir(), chat_template=True, hidden=hidden, layers=layers, heads=heads)


def prompts(n: int) -> list[str]:
    from local_model_helpers import training_lines

    lines = training_lines(data_dir(), n)
    return (lines * (n // len(lines) + 1))[:n]


def measure(
    model_path: str, device: str, batch_size: int, texts: list[str], max_tokens: int, dtype: str | None
) -> tuple[float, int, list[str]]:
    """Seconds, generated tokens and answers for `texts` at `batch_size` (after a warm-up batch)."""
    from evalscope.config import TaskConfig
    from evalscope.contracts import ChatMessage, GenerateRequest
    from evalscope_native.models.local_hf import TransformersModel

    model_args: dict[str, Any] = {"device_map": device}
    if dtype:
        model_args["precision"] = dtype
    config = TaskConfig(
        model=model_path, model_args=model_args, eval_batch_size=batch_size,
        generation_config={"max_tokens": max_tokens},
    )  # fmt: skip
    model = TransformersModel(config)
    requests = [
        GenerateRequest(messages=[ChatMessage(role="user", content=t)], config=config.generation_config)
        for t in texts
    ]
    # Longest first, as the engine queues them for a local model.
    order = sorted(range(len(requests)), key=lambda i: -model.batch_sort_key(requests[i]))

    async def run(indices: list[int]) -> dict[int, Any]:
        gate = asyncio.Semaphore(batch_size)

        async def one(i: int) -> tuple[int, Any]:
            async with gate:
                return i, await model.generate(requests[i])

        return dict(await asyncio.gather(*(one(i) for i in indices)))

    async def main() -> tuple[float, dict[int, Any]]:
        await run(order[:batch_size])  # warm-up: first-call allocations, kernel selection
        _sync(device)
        start = time.perf_counter()
        outputs = await run(order)
        _sync(device)
        elapsed = time.perf_counter() - start
        await model.aclose()
        return elapsed, outputs

    elapsed, outputs = asyncio.run(main())
    tokens = sum(o.usage.completion_tokens for o in outputs.values() if o.usage)
    return elapsed, tokens, [outputs[i].completions[0] for i in range(len(requests))]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--model", help="a checkpoint folder; default: the tiny test Llama, scaled up")
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batch-sizes", type=int, nargs="+", help="default: 1 8 (cpu), 1 8 32 (cuda)")
    parser.add_argument("--prompts", type=int, default=32, help="prompts per batch size (default 32)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--precision", help="e.g. torch.float16 (default: float32 on cpu, float16 on cuda)")
    parser.add_argument(
        "--threads", type=int, help="torch CPU threads (default: torch's choice, one per core)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    sizes = args.batch_sizes or ([1, 8, 32] if args.device.startswith("cuda") else [1, 8])

    with tempfile.TemporaryDirectory() as tmp:
        path = args.model or str(build_model(Path(tmp) / "tiny-scaled", args.hidden, args.layers))
        what = args.model or f"tiny Llama, hidden {args.hidden}, {args.layers} layers (random weights)"
        texts = prompts(args.prompts)
        rows, figures, answers = [], [], {}
        rate1 = None
        for size in sizes:
            elapsed, tokens, answers[size] = measure(
                path, args.device, size, texts, args.max_tokens, args.precision
            )
            rate = tokens / elapsed
            rate1 = rate if size == 1 else rate1
            speedup = rate / rate1 if rate1 else float("nan")
            rows.append(
                [
                    str(size),
                    str(len(texts)),
                    str(tokens),
                    f"{elapsed:.2f} s",
                    f"{rate:.0f}",
                    f"{speedup:.2f} x",
                ]
            )
            figures.append(Figure("local model", f"tokens/s at batch {size} ({args.device})", rate, "tok/s"))
    import torch

    print(f"model: {what}; device {args.device} ({torch.get_num_threads()} CPU threads); {len(texts)} GSM8K "
          f"prompts; {args.max_tokens} new tokens each")  # fmt: skip
    print(table(["batch", "prompts", "tokens", "time", "tokens/s", "vs batch 1"], rows))
    same = all(answers[s] == answers[sizes[0]] for s in sizes)
    print(f"greedy answers identical across batch sizes: {'yes' if same else 'NO'}")
    ok = same
    if args.device.startswith("cuda") and 32 in answers and rate1:
        ratio = figures[sizes.index(32)].value / rate1
        figures.append(Figure("local model", "batch 32 / batch 1 (cuda)", ratio, "x", ">= 5", ratio >= 5))
        ok = ok and ratio >= 5
    print(summary(figures))
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
