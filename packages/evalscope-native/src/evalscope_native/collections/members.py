"""Collection members on the native engine: each member's adapter, and its samples rendered.

The core's samplers ask for a member's samples through the `evalscope_resolve_collection_loader`
hook; `NativeMemberLoader` answers with the same machinery a run uses — the registry resolves the
benchmark, its adapter reads the records through the dataset-loader hook (local data under
`--data-dir`, else the hub) and renders each prompt (`engine.plan._subset_items`: template,
few-shot examples, system prompt) — so a mixed file holds exactly the requests the member would
send on its own. `member_adapter` is shared with the `data_collection` benchmark, which rebuilds the
members at evaluation time to extract and score their samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalscope import registry
from evalscope.benchmark import Benchmark
from evalscope.collections import DatasetInfo, MemberSample
from evalscope.config import DatasetArgs, TaskConfig, format_validation_error
from evalscope.errors import ConfigError
from evalscope.specs import BenchmarkSpec
from pydantic import ValidationError

__all__ = ["COLLECTION", "NativeMemberLoader", "member_adapter", "member_spec"]

#: the benchmark that evaluates a mixed file; it cannot be a member of one
COLLECTION = "data_collection"


def member_spec(name: str) -> BenchmarkSpec:
    """The registered benchmark a member names; an unknown name fails with the closest names."""
    spec = registry.benchmarks().resolve(name)
    if spec.name == COLLECTION:
        raise ConfigError(
            f"{name!r} cannot be a member of a collection: it evaluates a mixed file itself.",
            hint="nest a CollectionSchema instead, or name the benchmarks of the other mix",
        )
    return spec


def member_adapter(
    name: str, args: DatasetArgs | dict[str, Any], *, data_dir: Path | None = None, seed: int | None = 42
) -> Benchmark:
    """The member's adapter with its dataset args, as a run would build it; members a collection
    cannot score the same way alone (multi-turn, judged) are refused here, before any data is read."""
    spec = member_spec(name)
    if not isinstance(args, DatasetArgs):
        try:
            args = DatasetArgs.model_validate(args)
        except ValidationError as exc:
            raise ConfigError(
                format_validation_error(exc, DatasetArgs, f"args of collection member {name!r}")
            ) from None
    adapter: Benchmark = registry.load_impl(spec)(spec, args)
    adapter.seed = seed
    adapter.data_dir = data_dir
    if adapter.multi_turn:
        raise ConfigError(
            f"{spec.name} is multi-turn; a collection holds single-request samples only.",
            hint=f"evaluate {spec.name} on its own (--datasets {spec.name})",
        )
    if type(adapter).request_tools is not Benchmark.request_tools:
        raise ConfigError(
            f"{spec.name} sends tools with its requests (function calling), which a collection's mixed "
            "file does not carry yet.",
            hint=f"evaluate {spec.name} on its own (--datasets {spec.name})",
        )
    if spec.scoring_policy == "judge_only":
        raise ConfigError(
            f"{spec.name} is scored only by an LLM judge, which collection members cannot use yet.",
            hint=f"evaluate {spec.name} on its own (--datasets {spec.name} with --judge-model-args)",
        )
    return adapter


class NativeMemberLoader:
    """`MemberLoader` of the native engine: a member's samples with their rendered prompts."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = data_dir

    def check(self, infos: Sequence[DatasetInfo]) -> None:
        for info in infos:
            member_adapter(info.name, info.args, data_dir=self.data_dir)

    def __call__(self, info: DatasetInfo) -> list[MemberSample]:
        from evalscope_native.engine.plan import _subset_items

        adapter = member_adapter(info.name, info.args, data_dir=self.data_dir)
        config = TaskConfig(
            datasets=[info.name], dataset_args={info.name: adapter.args}, data_dir=self.data_dir
        )
        adapter.data_dir = config.resolved_data_dir()
        spec = adapter.spec
        common = {
            "benchmark": spec.canonical_name,
            "version": spec.version,
            "args": adapter.args.model_dump(mode="json", exclude_defaults=True),
        }
        out: list[MemberSample] = []
        for subset in adapter.subsets():
            for item in _subset_items(config, adapter, subset, start=0):
                sample = item.sample
                prompt: dict[str, Any] = {"input": [m.model_dump(mode="json") for m in item.request.messages]}
                if sample.choices is not None:
                    prompt["choices"] = list(sample.choices)
                prompt["target"] = sample.target
                prompt["id"] = item.index  # EvalScope's Sample.id is the position in the subset, an int
                prompt["metadata"] = sample.model_dump(mode="json")["metadata"]
                member = {**common, "id": sample.id, "input": sample.input}
                out.append(MemberSample(subset=sample.subset, prompt=prompt, member=member))
        return out
