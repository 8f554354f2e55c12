"""Collections: mix samples of several benchmarks into one weighted evaluation set (EvalScope 1.14.1's API).

    from evalscope.collections import CollectionSchema, DatasetInfo, WeightedSampler, dump_jsonl_data

    schema = CollectionSchema(name="mix", datasets=[
        CollectionSchema(name="math", weight=1, datasets=[DatasetInfo(name="gsm8k", tags=["en"])]),
        CollectionSchema(name="knowledge", weight=2, datasets=[DatasetInfo(name="mmlu"), DatasetInfo(name="arc")]),
    ])
    dump_jsonl_data(WeightedSampler(schema, seed=42).sample(1000), "mix.jsonl")

then `evalscope eval --datasets data_collection --dataset-args '{"data_collection": {"local_path": "mix.jsonl"}}'`.
Pure Python: importing this package loads no plugin, no pydantic. See docs/collections.md.
"""

from evalscope.collections.allocation import Apportionment, apportion
from evalscope.collections.loading import MemberLoader, MemberSample, default_loader
from evalscope.collections.records import DatasetEntry, dump_jsonl_data
from evalscope.collections.sampler import (
    MemberAllocation,
    Sampler,
    StratifiedSampler,
    UniformSampler,
    WeightedSampler,
)
from evalscope.collections.schema import CollectionSchema, DatasetInfo

__all__ = [
    "Apportionment",
    "CollectionSchema",
    "DatasetEntry",
    "DatasetInfo",
    "MemberAllocation",
    "MemberLoader",
    "MemberSample",
    "Sampler",
    "StratifiedSampler",
    "UniformSampler",
    "WeightedSampler",
    "apportion",
    "default_loader",
    "dump_jsonl_data",
]
