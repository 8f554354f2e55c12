"""`--runner ray`: does throughput scale with worker nodes, and what does starting the runner cost?

Against the core's scripted server (`evalscope.testing`, its own process on 127.0.0.1) answering
every GSM8K prompt after a fixed delay (200 ms by default), a real Ray cluster is started on this
machine (`ray.cluster_utils.Cluster`: a head without CPUs, N worker nodes of one CPU) for N = 1, 2,
3, and the same `run_task(..., runner="ray")` is timed on each:

* **throughput** — samples / (last reply - first request), counted by the *server*, so start-up and
  reporting are excluded; each worker actor keeps `--eval-batch-size` requests in flight, so the
  ideal is N x batch / delay. Scaling = throughput(N) / throughput(1); goal >= 0.9 x N while the
  server is not the limit (a 200 ms server answers concurrent requests in parallel);
* **start-up** — from `run_task` called (cluster already up) to the first request at the server:
  planning on the driver, the placement group, the actors starting and each preparing the run;
  and the cluster's own start (not part of a run on a real cluster, which is already up).

    .venv/bin/python benchmarks/bench_ray.py                # 1, 2, 3 nodes; all 1,319 samples; 200 ms
    .venv/bin/python benchmarks/bench_ray.py --quick        # 240 samples

GPU (open: needs a machine with GPUs and a Ray cluster on it): one actor per GPU bundle, the local
checkpoint loaded by transformers in each (the native `checkpoint` model), scored in the actors:

    .venv/bin/python benchmarks/bench_ray.py --gpu-command /path/to/checkpoint
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DATA_DIR = Path(os.environ.get("EVALSCOPE_DATA_DIR", "/work/shared/data"))


def gsm8k_entries(limit: int) -> list[dict[str, str]]:
    suffix = "\nPlease reason step by step, and put your final answer within \\boxed{}."
    rows = [json.loads(x) for x in (DATA_DIR / "gsm8k/main/test.jsonl").read_text().splitlines() if x.strip()]
    return [
        {"contains": r["question"] + suffix, "reply": f"\\boxed{{{r['answer'].split('####')[-1].strip()}}}"}
        for r in rows[:limit]
    ]


def one(
    nodes: int, limit: int, delay: float, batch: int, work: Path, shard_size: int | None
) -> dict[str, Any]:
    import ray
    from evalscope import run_task
    from evalscope.testing import ScriptedServer
    from ray.cluster_utils import Cluster

    t0 = time.perf_counter()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(nodes):
        cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, namespace="evalscope", log_to_driver=False, logging_level="ERROR")
    cluster.wait_for_nodes()
    cluster_s = time.perf_counter() - t0
    try:
        with ScriptedServer(
            {"model": "scripted", "entries": gsm8k_entries(limit), "delay_s": delay}
        ) as server:
            task = {
                "model": "scripted",
                "api_url": server.base_url,
                "datasets": ["gsm8k"],
                "dataset_args": {"gsm8k": {"few_shot_num": 0}},
                "limit": limit,
                "data_dir": str(DATA_DIR),
                "eval_batch_size": batch,
                "work_dir": str(work / f"n{nodes}"),
                "reporters": [],
            }
            called = time.time()
            t1 = time.perf_counter()
            args: dict[str, Any] = {"address": cluster.address}
            if shard_size is not None:
                args["shard_size"] = shard_size
            run_task(task, runner="ray", runner_args=args)
            whole = time.perf_counter() - t1
            st = server.stats()
    finally:
        ray.shutdown()
        cluster.shutdown()
    busy = st["last_reply_perf"] - st["first_request_perf"]
    return {
        "nodes": nodes,
        "requests": st["requests"],
        "throughput": st["requests"] / busy,
        "ideal": nodes * batch / delay,
        "startup_s": st["first_request_at"] - called,
        "run_s": whole,
        "cluster_s": cluster_s,
    }


def gpu_command(checkpoint: str) -> str:
    args = {"gpus_per_actor": 1, "cpus_per_actor": 4, "placement": "SPREAD", "shard_size": 100}
    return " ".join(
        [
            "evalscope eval",
            f"--model {shlex.quote(checkpoint)} --eval-type checkpoint",
            "--datasets gsm8k --eval-batch-size 32",
            "--runner ray --ray-address auto",
            f"--runner-args {shlex.quote(json.dumps(args))}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--batch", type=int, default=8, help="requests in flight per worker actor")
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--limit", type=int, default=1319, help="GSM8K samples (all 1,319 by default)")
    parser.add_argument(
        "--shard-size",
        type=int,
        help="samples per shard (default: the runner's, whole waves of --batch, >= 24)",
    )
    parser.add_argument("--gpu-command", metavar="CHECKPOINT", help="print the GPU command and exit")
    args = parser.parse_args()
    if args.gpu_command:
        print(gpu_command(args.gpu_command))
        return
    limit = 240 if args.quick else args.limit
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.nodes:
            results.append(one(n, limit, args.delay, args.batch, Path(tmp), args.shard_size))
            r = results[-1]
            print(
                f"{n} node(s): {r['throughput']:6.1f} samples/s (ideal {r['ideal']:.0f}), "
                f"start-up {r['startup_s']:.2f} s, whole run {r['run_s']:.1f} s, cluster start {r['cluster_s']:.1f} s",
                flush=True,
            )
    base = results[0]["throughput"] / results[0]["nodes"]
    print(f"\n{limit} GSM8K samples, {args.delay * 1000:.0f} ms server, {args.batch} in flight per node")
    print("nodes  samples/s  vs 1 node  goal (0.9 x N)  of ideal")
    for r in results:
        scale = r["throughput"] / base
        ok = "ok" if scale >= 0.9 * r["nodes"] else "BELOW"
        print(
            f"{r['nodes']:>5}  {r['throughput']:9.1f}  {scale:8.2f}x  {0.9 * r['nodes']:13.2f}x {ok:>5}  "
            f"{r['throughput'] / r['ideal']:7.0%}"
        )
    startups = ", ".join(f"{r['startup_s']:.2f} s" for r in results)
    print(f"runner start-up (cluster up): {startups}")


if __name__ == "__main__":
    sys.exit(main())
