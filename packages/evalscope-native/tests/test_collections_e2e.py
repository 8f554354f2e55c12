"""A GSM8K + ARC + MMLU collection against a real HTTP server: every sample scored as its benchmark alone.

The mix is sampled from the real data (GSM8K zero-shot, ARC-Challenge, two MMLU subjects 5-shot),
the scripted server answers each sampled prompt right, wrong or unreadably, and the same benchmarks
are then run on their own over the same rows. Each sample of the collection must have been sent the
same request (same cache key) and got the same extracted answer and the same scores as in its own
benchmark's run; the report's levels must be the averages of those scores.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.collections import CollectionSchema, DatasetInfo, WeightedSampler, dump_jsonl_data
from evalscope.testing import ScriptedServer
from evalscope_native.collections.members import NativeMemberLoader

pytestmark = pytest.mark.slow

ARGS = {
    "gsm8k": {"few_shot_num": 0},
    "arc": {"subset_list": ["ARC-Challenge"]},
    "mmlu": {"subset_list": ["abstract_algebra", "anatomy"]},
}
SCHEMA = CollectionSchema(
    name="mix",
    datasets=[
        CollectionSchema(
            name="math",
            weight=1,
            datasets=[DatasetInfo(name="gsm8k", task_type="math", tags=["en", "math"], args=ARGS["gsm8k"])],
        ),
        CollectionSchema(
            name="knowledge",
            weight=2,
            datasets=[
                DatasetInfo(
                    name="arc", weight=1, task_type="reasoning", tags=["en", "mcq"], args=ARGS["arc"]
                ),
                DatasetInfo(
                    name="mmlu", weight=3, task_type="knowledge", tags=["en", "mcq"], args=ARGS["mmlu"]
                ),
            ],
        ),
    ],
)


def _reply(i: int, record: dict[str, Any]) -> str:
    """Right, wrong, or in a shape the extraction must work for, by the line's position."""
    target = record["prompt"]["target"]
    if record["prompt"].get("choices"):
        letters = "ABCD"[: len(record["prompt"]["choices"])]
        wrong = next(x for x in letters if x != target)
        return [
            f"ANSWER: {target}",
            f"ANSWER: {wrong}",
            f"Thinking... The answer is ({target}).",
            "I am not sure.",
        ][i % 4]
    return [
        f"Step by step... so the answer is \\boxed{{{target}}}.",
        "Step by step... so the answer is \\boxed{-12345}.",
        f"The total is {target}.",
        "I cannot tell.",
    ][i % 4]


def _reviews(run_dir: Path, name: str) -> list[dict[str, Any]]:
    path = run_dir / "reviews" / "scripted" / f"{name}.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def test_each_sample_scores_as_its_benchmark_alone(tmp_path: Path, data_dir: Path) -> None:
    records = WeightedSampler(SCHEMA, seed=11, loader=NativeMemberLoader(data_dir)).sample(120)
    mix = tmp_path / "mix.jsonl"
    dump_jsonl_data(records, mix)
    counts = {n: sum(1 for r in records if r["dataset_name"] == n) for n in ARGS}
    assert counts == {"gsm8k": 40, "arc": 20, "mmlu": 60}
    script = {
        "model": "scripted",
        "default_reply": "no idea",
        "entries": [
            {"contains": r["prompt"]["input"][-1]["content"], "reply": _reply(i, r)}
            for i, r in enumerate(records)
        ],
    }
    # The solo runs cover every sampled row: `--limit` keeps the first rows of each subset.
    limit = max(r["prompt"]["id"] for r in records) + 1
    base = {"model": "scripted", "api_key": "EMPTY", "eval_batch_size": 32, "data_dir": str(data_dir)}
    with ScriptedServer(script) as server:
        collection = run_task(
            {**base, "api_url": server.base_url, "work_dir": str(tmp_path / "mix_run"),
             "datasets": ["data_collection"], "dataset_args": {"data_collection": {"local_path": str(mix)}}}
        )["data_collection"]  # fmt: skip
        assert server.stats()["requests"] == 120
        run_task(
            {**base, "api_url": server.base_url, "work_dir": str(tmp_path / "solo_runs"),
             "datasets": list(ARGS), "dataset_args": ARGS, "limit": limit}
        )  # fmt: skip

    mix_dir = next((tmp_path / "mix_run").iterdir())
    solo_dir = next((tmp_path / "solo_runs").iterdir())
    solo = {(name, r["id"]): r for name in ARGS for r in _reviews(solo_dir, name)}
    ours = _reviews(mix_dir, "data_collection")
    assert len(ours) == 120
    values: dict[str, list[float]] = {n: [] for n in ARGS}
    for rec in ours:
        info = rec["metadata"]["collection_info"]
        name = info["dataset_name"]
        alone = solo[(name, rec["id"].split("/", 1)[1])]
        assert rec["cache_key"] == alone["cache_key"] and rec["input"] == alone["input"]
        assert rec["prediction"] == alone["prediction"] and rec["extracted"] == alone["extracted"]
        assert rec["scores"] == {"acc": alone["scores"]["acc"]}, rec["id"]
        assert info["scores"] == alone["scores"] and info["metric"] == "acc"
        assert rec["target"] == alone["target"] and rec["choices"] == alone["choices"]
        values[name].append(rec["scores"]["acc"])
    for name, vals in values.items():
        assert 0 < sum(vals) < len(vals), f"{name}: the replies must give both right and wrong answers"

    # The report: metric → category (schema path) → subset (<dataset>/<subset>), and the levels.
    assert collection.score() == pytest.approx(_mean([v for vs in values.values() for v in vs]))
    metric = collection.metrics[0]
    assert metric.name == "mean_acc"
    assert {c.name: sorted(s.name for s in c.subsets) for c in metric.categories} == {
        "mix/math": ["gsm8k/main"],
        "mix/knowledge": ["arc/ARC-Challenge", "mmlu/abstract_algebra", "mmlu/anatomy"],
    }
    levels = collection.extra["collection"]
    datasets = {r["dataset_name"]: r for r in levels["dataset_level"]}
    for name, vals in values.items():
        assert datasets[name]["micro_avg."] == pytest.approx(_mean(vals)) and datasets[name]["count"] == len(
            vals
        )
        assert datasets[name]["micro_stderr"] > 0 and datasets[name]["weighted_stderr"] > 0
    subsets = {
        r["subset_name"]: r["micro_avg."] for r in levels["subset_level"] if r["dataset_name"] == "mmlu"
    }
    assert datasets["mmlu"]["macro_avg."] == pytest.approx(_mean(list(subsets.values())))
    shares = {"gsm8k": 1 / 3, "arc": 2 / 3 * 1 / 4, "mmlu": 2 / 3 * 3 / 4}
    everything = next(r for r in levels["tag_level"] if r["tags"] == "en")
    assert everything["count"] == 120
    assert everything["weighted_avg."] == pytest.approx(sum(shares[n] * _mean(v) for n, v in values.items()))
    mcq = next(r for r in levels["tag_level"] if r["tags"] == "mcq")
    assert mcq["count"] == 80 and mcq["macro_avg."] == pytest.approx(
        _mean([datasets["arc"]["micro_avg."], *subsets.values()])
    )
    knowledge = next(r for r in levels["category_level"] if r["category1"] == "knowledge")
    assert (knowledge["category0"], knowledge["count"]) == ("mix", 80)
    detailed = json.loads((mix_dir / "reports" / "scripted" / "collection_detailed_report.json").read_text())
    assert detailed["dataset_level"] == levels["dataset_level"]
