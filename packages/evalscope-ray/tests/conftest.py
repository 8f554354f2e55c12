"""One real Ray cluster for the whole session: a head with no CPUs (the driver and the limiter live
there) and three worker nodes of one CPU each, all processes on 127.0.0.1 / this machine.

Starting Ray costs seconds, so every test shares it; a test that removes a node adds one back.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DATA_DIR = Path(os.environ.get("EVALSCOPE_DATA_DIR", "/work/shared/data"))
WORKER_NODES = 3


class RayCluster:
    def __init__(self) -> None:
        import ray
        from ray.cluster_utils import Cluster

        started = time.perf_counter()
        self.cluster = Cluster(
            initialize_head=True,
            head_node_args={
                "num_cpus": 0,
                # Notice a killed node within ~2 s instead of Ray's default ~30 s.
                "_system_config": {"health_check_period_ms": 500, "health_check_failure_threshold": 3},
            },
        )
        self.workers = [self.cluster.add_node(num_cpus=1) for _ in range(WORKER_NODES)]
        ray.init(address=self.cluster.address, namespace="evalscope", log_to_driver=False)
        self.cluster.wait_for_nodes()
        self.startup_s = time.perf_counter() - started
        print(f"\nray test cluster: {WORKER_NODES} worker nodes up in {self.startup_s:.1f} s")

    @property
    def address(self) -> str:
        return str(self.cluster.address)

    def kill_worker_node(self, node: Any) -> None:
        self.cluster.remove_node(node, allow_graceful=False)
        self.workers.remove(node)

    def restore(self) -> None:
        while len(self.workers) < WORKER_NODES:
            self.workers.append(self.cluster.add_node(num_cpus=1))
        self.cluster.wait_for_nodes()

    def shutdown(self) -> None:
        import ray

        ray.shutdown()
        self.cluster.shutdown()


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    cluster = RayCluster()
    try:
        yield cluster
    finally:
        cluster.shutdown()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "gsm8k").is_dir():
        pytest.fail(f"real benchmark data not found at {DATA_DIR}; set EVALSCOPE_DATA_DIR")
    return DATA_DIR


@pytest.fixture(scope="session")
def gsm8k_rows(data_dir: Path) -> list[dict[str, Any]]:
    with (data_dir / "gsm8k" / "main" / "test.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


GSM8K_SUFFIX = "\nPlease reason step by step, and put your final answer within \\boxed{}."


@pytest.fixture(scope="session")
def gsm8k_entries(gsm8k_rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The scripted server's replies to the zero-shot prompts: right, except every 7th."""
    return gsm8k_table(gsm8k_rows, set(range(0, len(gsm8k_rows), 7)))


def gsm8k_table(rows: list[dict[str, Any]], wrong: set[int]) -> list[dict[str, str]]:
    """The scripted server's replies: the target, or a clearly wrong number for indices in `wrong`."""
    entries = []
    for i, row in enumerate(rows):
        target = str(row["answer"].split("####")[-1].strip())
        answer = target if i not in wrong else str(int(target.replace(",", "")) * 2 + 7)
        entries.append(
            {"contains": row["question"] + GSM8K_SUFFIX, "reply": f"So the answer is \\boxed{{{answer}}}."}
        )
    return entries


@pytest.fixture(scope="session")
def read_jsonl() -> Any:
    def read(path: Path) -> list[dict[str, Any]]:
        return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]

    return read
