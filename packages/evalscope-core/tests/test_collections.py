"""Collections in the core: schemas, exact apportionment, seeded samplers, the mixed file.

Samples come from an in-memory loader here (the native plugin's loader is tested in its package),
so these tests exercise the core's own logic on thousands of random schemas in a second.
"""

from __future__ import annotations

import json
import logging
import math
import random
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from evalscope.collections import (
    CollectionSchema,
    DatasetInfo,
    MemberSample,
    StratifiedSampler,
    UniformSampler,
    WeightedSampler,
    apportion,
    dump_jsonl_data,
)
from evalscope.collections.records import entry_line
from evalscope.errors import ConfigError


class FakeLoader:
    """`sizes[name] = {subset: n}`; each sample's prompt names where it came from."""

    def __init__(self, sizes: dict[str, dict[str, int]]) -> None:
        self.sizes = sizes
        self.calls: list[str] = []

    def __call__(self, info: DatasetInfo) -> list[MemberSample]:
        self.calls.append(info.name)
        return [
            MemberSample(
                subset=subset,
                prompt={
                    "input": [{"role": "user", "content": f"{info.name}/{subset}/{i}"}],
                    "target": "A",
                    "id": i,
                },
                member={"id": f"{subset}/{i}"},
            )
            for subset, n in self.sizes[info.name].items()
            for i in range(n)
        ]


def _random_schema(rng: random.Random, names: list[str], depth: int = 0) -> CollectionSchema:
    children: list[DatasetInfo | CollectionSchema] = []
    for _ in range(rng.randint(1, 4)):
        if depth < 2 and rng.random() < 0.3:
            children.append(_random_schema(rng, names, depth + 1))
        else:
            name = f"bench{len(names)}"
            names.append(name)
            weight: float = rng.choice([rng.randint(0, 5), round(rng.uniform(0, 3), 3)])
            children.append(DatasetInfo(name=name, weight=weight, tags=[rng.choice(["en", "zh"])]))
    if all(float(c.weight) == 0 for c in children):
        children[0].weight = 1
    return CollectionSchema(name=f"s{depth}_{len(names)}", weight=rng.randint(1, 3), datasets=children)


def _counts(records: list[dict[str, Any]]) -> Counter[str]:
    return Counter(r["dataset_name"] for r in records)


def test_apportion_sums_exactly_and_stays_within_one_of_each_quota() -> None:
    rng = random.Random(1234)
    for _ in range(3000):
        n = rng.randint(1, 9)
        weights = [Fraction(rng.choice([0, rng.randint(1, 100), rng.random()])) for _ in range(n)]
        if not any(weights):
            weights[rng.randrange(n)] = Fraction(1)
        total = rng.randint(0, 5000)
        result = apportion(weights, total)
        assert sum(result.counts) == total
        wsum = sum(weights)
        for w, c in zip(weights, result.counts, strict=True):
            assert abs(c - w * total / wsum) < 1
            if w == 0:
                assert c == 0


def test_apportion_moves_a_shortfall_to_the_others_in_proportion() -> None:
    result = apportion([Fraction(1), Fraction(1), Fraction(2)], 100, capacities=[10, 1000, 1000])
    assert result.counts == [10, 30, 60] and result.capped == [0]
    # not enough in all: everyone gives everything
    assert apportion([Fraction(1), Fraction(3)], 100, capacities=[5, 7]).counts == [5, 7]
    rng = random.Random(99)
    for _ in range(
        2000
    ):  # with capacities: exact sum, nobody above capacity, the uncapped within 1 of a fair share
        n = rng.randint(1, 7)
        weights = [Fraction(rng.randint(1, 20)) for _ in range(n)]
        caps = [rng.randint(0, 300) for _ in range(n)]
        total = rng.randint(1, 1200)
        got = apportion(weights, total, caps).counts
        assert sum(got) == min(total, sum(caps))
        assert all(0 <= c <= cap for c, cap in zip(got, caps, strict=True))
        free = [i for i in range(n) if got[i] < caps[i]]
        if free and sum(got) == total:
            left = total - sum(got[i] for i in range(n) if i not in free)
            wsum = sum(weights[i] for i in free)
            for i in free:
                assert abs(got[i] - weights[i] * left / wsum) < 1


def test_weighted_sampler_property_over_random_schemas(tmp_path: Path) -> None:
    """Counts add up to N exactly, each member within 1 of weight × N, same seed → same bytes."""
    rng = random.Random(20240601)
    for case in range(150):
        names: list[str] = []
        schema = _random_schema(rng, names)
        sizes = {n: {"a": rng.randint(200, 400), "b": rng.randint(0, 200)} for n in names}
        count = rng.randint(1, 200)  # no member is short: each has at least `count` samples
        seed = rng.randint(0, 10**6)
        records = WeightedSampler(schema, seed=seed, loader=FakeLoader(sizes)).sample(count)
        assert len(records) == count
        assert [r["index"] for r in records] == list(range(count))
        got = _counts(records)
        for info in schema.flatten():
            assert abs(got.get(info.name, 0) - info.weight * count) < 1 + 1e-9, (case, info.name)
        again = WeightedSampler(schema, seed=seed, loader=FakeLoader(sizes)).sample(count)
        first, second = tmp_path / f"{case}a.jsonl", tmp_path / f"{case}b.jsonl"
        dump_jsonl_data(records, first)
        dump_jsonl_data(again, second)
        assert first.read_bytes() == second.read_bytes()


def test_seed_changes_the_draw_not_the_counts() -> None:
    schema = CollectionSchema(
        name="m", datasets=[DatasetInfo(name="x", weight=1), DatasetInfo(name="y", weight=3)]
    )
    sizes = {"x": {"default": 1000}, "y": {"default": 1000}}
    one = WeightedSampler(schema, seed=1, loader=FakeLoader(sizes)).sample(40)
    two = WeightedSampler(schema, seed=2, loader=FakeLoader(sizes)).sample(40)
    assert _counts(one) == _counts(two) == Counter({"x": 10, "y": 30})
    assert [r["prompt"]["id"] for r in one] != [r["prompt"]["id"] for r in two]
    # Each member's draw has its own stream: another member's weight does not change what x gives.
    heavier = CollectionSchema(
        name="m", datasets=[DatasetInfo(name="x", weight=1), DatasetInfo(name="y", weight=1)]
    )
    three = WeightedSampler(heavier, seed=1, loader=FakeLoader(sizes)).sample(20)
    assert [r["prompt"]["id"] for r in three if r["dataset_name"] == "x"] == [
        r["prompt"]["id"] for r in one if r["dataset_name"] == "x"
    ]


def test_a_small_member_gives_all_and_the_log_says_so(caplog: pytest.LogCaptureFixture) -> None:
    schema = CollectionSchema(
        name="m",
        datasets=[
            DatasetInfo(name="tiny", weight=2),
            DatasetInfo(name="big", weight=1),
            DatasetInfo(name="mid", weight=1),
        ],
    )
    loader = FakeLoader({"tiny": {"default": 7}, "big": {"default": 500}, "mid": {"default": 500}})
    with caplog.at_level(logging.WARNING, logger="evalscope.collections"):
        records = WeightedSampler(schema, seed=0, loader=loader).sample(100)
    assert _counts(records) == Counter(
        {"tiny": 7, "big": 47, "mid": 46}
    )  # 93 shared 1:1, the tie to the earlier
    assert any("tiny has 7 sample(s), fewer than its share of 50.00" in m for m in caplog.messages)
    # The record weight stays the schema's: tiny's 7 samples weigh as much as the other 93 together.
    tiny = [r["weight"] for r in records if r["dataset_name"] == "tiny"]
    assert math.isclose(sum(tiny), 0.5) and math.isclose(sum(r["weight"] for r in records), 1.0)
    with caplog.at_level(logging.WARNING, logger="evalscope.collections"):
        everything = WeightedSampler(schema, seed=0, loader=loader).sample(5000)
    assert len(everything) == 1007 and any("fewer than the 5000 asked" in m for m in caplog.messages)


def test_samplers_share_by_weight_equally_or_by_size_and_stratify_subsets() -> None:
    schema = CollectionSchema(
        name="m", datasets=[DatasetInfo(name="x", weight=9), DatasetInfo(name="y", weight=1)]
    )
    sizes = {"x": {"s1": 300, "s2": 100}, "y": {"t1": 590, "t2": 10}}
    assert _counts(WeightedSampler(schema, loader=FakeLoader(sizes)).sample(100)) == Counter(
        {"x": 90, "y": 10}
    )
    assert _counts(UniformSampler(schema, loader=FakeLoader(sizes)).sample(101)) == Counter(
        {"x": 51, "y": 50}
    )
    sampler = StratifiedSampler(schema, loader=FakeLoader(sizes))
    records = sampler.sample(50)
    assert _counts(records) == Counter({"x": 20, "y": 30})  # 400 : 600
    by_subset = Counter((r["dataset_name"], r["subset_name"]) for r in records)
    assert by_subset == Counter(
        {("x", "s1"): 15, ("x", "s2"): 5, ("y", "t1"): 30}
    )  # 590:10 of 30 → 29.5, 0.5
    assert [a.subsets for a in sampler.allocation] == [{"s1": 15, "s2": 5}, {"t1": 30, "t2": 0}]
    rng = random.Random(5)
    for _ in range(200):  # subsets within 1 of their share of the member's count
        sizes = {"x": {f"s{i}": rng.randint(1, 200) for i in range(rng.randint(1, 6))}, "y": {"t": 1000}}
        records = WeightedSampler(schema, seed=rng.randint(0, 99), loader=FakeLoader(sizes)).sample(
            rng.randint(1, 300)
        )
        n_x = _counts(records)["x"]
        total_x = sum(sizes["x"].values())
        got = Counter(r["subset_name"] for r in records if r["dataset_name"] == "x")
        for subset, size in sizes["x"].items():
            assert abs(got.get(subset, 0) - Fraction(n_x * size, total_x)) < 1


def test_records_have_evalscope_fields_in_its_order() -> None:
    schema = CollectionSchema(
        name="mix",
        tags=["all"],
        datasets=[
            CollectionSchema(
                name="math",
                datasets=[DatasetInfo(name="x", task_type="math", tags=["en"], args={"few_shot_num": 0})],
            )
        ],
    )
    records = WeightedSampler(schema, loader=FakeLoader({"x": {"main": 5}})).sample(2)
    assert list(records[0]) == [
        "index", "prompt", "tags", "categories", "task_type", "weight", "dataset_name", "subset_name", "member",
    ]  # fmt: skip
    assert records[0]["tags"] == ["en", "all"] and records[0]["categories"] == ["mix", "math"]
    assert records[0]["task_type"] == "math" and records[0]["weight"] == 0.5
    assert entry_line(records[0]).startswith('{"index": 0, "prompt": {"input": [{"role": "user"')


EVALSCOPE_SCHEMA = """{
    "name": "mix",
    "weight": 1.0,
    "datasets": [
        {
            "name": "math",
            "weight": 1.0,
            "datasets": [
                {
                    "name": "gsm8k",
                    "weight": 1,
                    "task_type": "math",
                    "tags": [
                        "en",
                        "math"
                    ],
                    "args": {
                        "few_shot_num": 0
                    },
                    "hierarchy": []
                }
            ]
        },
        {
            "name": "reason",
            "weight": 1.0,
            "datasets": [
                {
                    "name": "arc",
                    "weight": 2,
                    "task_type": "reasoning",
                    "tags": [
                        "en"
                    ],
                    "args": {},
                    "hierarchy": []
                }
            ]
        }
    ]
}"""


def test_schema_json_is_evalscopes(tmp_path: Path) -> None:
    """A schema EvalScope 1.14.1 dumped loads, and dumps back to the same bytes."""
    src = tmp_path / "theirs.json"
    src.write_text(EVALSCOPE_SCHEMA, encoding="utf-8")
    schema = CollectionSchema.from_json(src)
    flat = schema.flatten()
    assert [(i.name, i.weight, i.hierarchy) for i in flat] == [
        ("gsm8k", 0.5, ["mix", "math"]),
        ("arc", 0.5, ["mix", "reason"]),
    ]
    assert schema.datasets[0].datasets[0].hierarchy == []  # type: ignore[union-attr]  # flatten copies
    out = tmp_path / "ours.json"
    schema.dump_json(out)
    assert out.read_text(encoding="utf-8") == EVALSCOPE_SCHEMA
    assert str(schema) == EVALSCOPE_SCHEMA


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            {"name": "m", "datasets": [{"name": "a", "weight": -1}, {"name": "b"}]},
            "schema 'm' > 'a': weight -1 is negative",
        ),
        (
            {"name": "m", "datasets": [{"name": "a", "weight": 0}, {"name": "b", "weight": 0}]},
            "schema 'm': the weights of its 2 member(s) add up to 0",
        ),
        (
            {
                "name": "m",
                "datasets": [{"name": "sub", "weight": 1, "datasets": [{"name": "a", "weight": 0}]}],
            },
            "schema 'm' > 'sub': the weights of its 1 member(s) add up to 0",
        ),
        ({"name": "m", "datasets": []}, "schema 'm' has no datasets"),
        (
            {"name": "m", "datasets": [{"name": "a", "wieght": 2}]},
            "unknown key 'wieght'. Did you mean 'weight'?",
        ),
        ({"name": "m", "datasets": [{"name": "a", "weight": "heavy"}]}, "weight must be a number"),
        ({"name": "m", "datasets": [{"weight": 1}]}, "needs a benchmark 'name'"),
    ],
)
def test_bad_schemas_fail_with_the_node_named(schema: dict[str, Any], message: str, tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        CollectionSchema.from_json(path)
    assert message in str(err.value) and str(path) in str(err.value)
    assert err.value.exit_code == 2


def test_bad_schema_objects_fail_before_any_loading() -> None:
    loader = FakeLoader({"a": {"default": 3}})
    schema = CollectionSchema(name="m", datasets=[DatasetInfo(name="a", weight=-0.5)])
    with pytest.raises(ConfigError, match="negative"):
        WeightedSampler(schema, loader=loader).sample(2)
    with pytest.raises(ConfigError, match="positive whole number"):
        WeightedSampler(CollectionSchema(name="m", datasets=[DatasetInfo(name="a")]), loader=loader).sample(0)
    assert loader.calls == []


def test_a_malformed_schema_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{\n  "name": "m",\n  "datasets": [\n    {"name": "a",}\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{path}:4: invalid JSON"):
        CollectionSchema.from_json(path)


def test_dump_jsonl_data_writes_whole_files_only(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "mix.jsonl"
    dump_jsonl_data([{"index": 0, "text": "héllo"}], out)
    assert out.read_text(encoding="utf-8") == '{"index": 0, "text": "héllo"}\n'
    with pytest.raises(ValueError):  # NaN is not JSON: nothing is written, the old file stays
        dump_jsonl_data([{"index": 0}, {"index": 1, "weight": float("nan")}], out)
    assert out.read_text(encoding="utf-8") == '{"index": 0, "text": "héllo"}\n'
    assert sorted(p.name for p in out.parent.iterdir()) == ["mix.jsonl"]


def test_evalscope_import_paths_and_a_light_import() -> None:
    from evalscope.utils.io_utils import dump_jsonl_data as theirs

    assert theirs is dump_jsonl_data
    probe = "import sys, evalscope.collections; print(sorted(m for m in ('pydantic', 'pluggy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
