"""The data_collection benchmark: a mixed file of other benchmarks' samples (docs/collections.md)."""

from __future__ import annotations

from evalscope.specs import BenchmarkSpec


def specs() -> list[BenchmarkSpec]:
    return [
        BenchmarkSpec(
            name="data_collection",
            pretty_name="Data-Collection",
            impl="evalscope_native.benchmarks.data_collection:DataCollection",
            scorer="collection_member",
            description="A mixed file from `evalscope collection sample` (or EvalScope's samplers): each sample "
            "prompted, extracted and scored by its own member benchmark; local_path names the file.",
            tags=("custom",),
            dataset_id="data_collection",
            local_only=True,
            subsets=("default",),
            eval_split="test",
            metrics=("acc",),
            version="1.0.0",
        )
    ]
