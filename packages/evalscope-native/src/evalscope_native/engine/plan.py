"""Planning: everything that can be wrong with the user's input is found here, before any output.

The plan resolves the model family and every benchmark, loads and converts the data, renders every
prompt and computes every cache key. Nothing is written and no model is called.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, field
from typing import Any

from evalscope import registry
from evalscope.aggregation import passhatk_names, passk_names
from evalscope.benchmark import Benchmark, SampleInputError
from evalscope.config import TaskConfig
from evalscope.contracts import GenerateRequest, Sample
from evalscope.datasets import DataSource, LoadedSplit, resolve_loader
from evalscope.errors import ConfigError, DataFormatError, DatasetNotFoundError, EvalScopeError, closest
from evalscope.scoring import Metric
from evalscope.specs import BenchmarkSpec, ModelSpec

from evalscope_native.engine.scorer_plan import BoundScorer, Judging, build_scorers

log = logging.getLogger("evalscope.native")


@dataclass
class Item:
    index: int
    sample: Sample
    request: GenerateRequest
    key: str = ""
    #: why this sample cannot be sent (`SampleInputError`): it is recorded as failed, never requested
    error: str | None = None


@dataclass
class BenchmarkPlan:
    spec: BenchmarkSpec
    adapter: Benchmark
    subsets: list[str]
    items: list[Item]
    scorers: list[BoundScorer]
    values: list[str] = field(default_factory=list)
    report_metrics: list[str] = field(default_factory=list)
    aggregate: Metric | None = None
    aggregation: str = "mean"
    aggregates: dict[str, tuple[str, Metric]] = field(default_factory=dict)  # per value, when it differs


@dataclass
class Plan:
    config: TaskConfig
    model_spec: ModelSpec
    benchmarks: list[BenchmarkPlan] = field(default_factory=list)
    judge_panel: Any = None  # the run's JudgePanel when a benchmark is judged (closed after the run)


def resolve_model_spec(config: TaskConfig) -> ModelSpec:
    from evalscope.hooks import first_result

    models = registry.models()
    chosen = first_result("evalscope_resolve_model", config=config)
    if chosen:
        return models.resolve(chosen)
    if config.model is None and config.datasets and all(d in ("general_arena", "native/general_arena")
                                                         for d in config.datasets):  # fmt: skip
        return models.resolve("mock_llm")  # the arena judges recorded answers: no model answers here
    if config.model is None:
        raise ConfigError(
            "No model given.", hint="pass --model NAME (with --api-url for a service) or --model mock_llm"
        )
    explicit = config.model_args.get("model_type")
    if explicit:
        return models.resolve(str(explicit))
    eval_type = config.eval_type
    if eval_type is None:
        # Built-in models need no service or weights; `--model scripted --api-url URL` is a service's
        # model that happens to be called "scripted" (the scripted test server's default name).
        if config.model == "mock_llm":
            eval_type = "mock_llm"
        elif config.api_url:
            eval_type = "service"
        else:
            eval_type = "scripted" if config.model == "scripted" else "checkpoint"
    for spec in models.all():
        if eval_type in spec.eval_types:
            return spec
    if eval_type in ("checkpoint", "llm_ckpt"):
        raise ConfigError(
            f"--model {config.model!r} with no --api-url means a local checkpoint, and no installed plugin "
            "evaluates local checkpoints yet.",
            hint="serve the model (e.g. vLLM) and pass --api-url http://host:port/v1 --eval-type service",
        )
    from evalscope.errors import UnknownNameError

    known = sorted({t for spec in models.all() for t in spec.eval_types})
    raise UnknownNameError(
        "eval_type", eval_type, known, hint=f"the installed model families take: {', '.join(known)}"
    )


def build_plan(config: TaskConfig, identity: dict[str, Any] | None = None) -> Plan:
    if not config.datasets:
        raise ConfigError(
            "No benchmark given.", hint="pass --datasets gsm8k arc (see `evalscope list benchmarks`)"
        )
    plan = Plan(config=config, model_spec=resolve_model_spec(config))
    judging = Judging(config)
    specs = {name: registry.benchmarks().resolve(name) for name in config.datasets}
    _check_dataset_args_keys(config, list(specs.values()))
    for name in config.datasets:
        spec: BenchmarkSpec = specs[name]
        args = config.args_for(name, spec.name, spec.canonical_name, *spec.aliases)
        adapter_cls = registry.load_impl(spec)
        adapter: Benchmark = adapter_cls(spec, args)
        adapter.seed = config.seed
        adapter.data_dir = config.resolved_data_dir()
        adapter.offline = config.is_offline()
        scorers = build_scorers(adapter, judging)
        values = [n for b in scorers for n in b.names]
        aggregation = registry.metrics().resolve(adapter.aggregation)
        subsets = adapter.subsets()
        items: list[Item] = []
        for subset in subsets:
            items += _subset_items(config, adapter, subset, start=len(items))
        report_metrics = values + passk_names(config.generation_config.n)
        if adapter.pass_hat_k:  # τ-bench: all k of the n trials succeed
            report_metrics += passhatk_names(config.generation_config.n)
        plan.benchmarks.append(
            BenchmarkPlan(
                spec,
                adapter,
                subsets,
                items,
                scorers,
                values,
                report_metrics,
                aggregate=registry.load_impl(aggregation),
                aggregation=aggregation.name,
                aggregates={
                    value: (name, registry.load_impl(registry.metrics().resolve(name)))
                    for value, name in spec.aggregations.items()
                    if value in values and not adapter.args.aggregation
                },
            )
        )
    plan.judge_panel = judging.panel
    return plan


def _check_dataset_args_keys(config: TaskConfig, selected: list[BenchmarkSpec]) -> None:
    """Every `--dataset-args` key must name a benchmark: a typo would otherwise be ignored in silence.

    A key naming a known benchmark that is not in `--datasets` is only logged (config files often
    carry settings for more benchmarks than one run selects); anything else fails with the closest names.
    """
    own = {n.lower() for s in selected for n in (s.name, s.canonical_name, *s.aliases)}
    for key in config.dataset_args:
        if key.lower() in own:
            continue
        try:
            other = registry.benchmarks().resolve(key)
        except EvalScopeError:
            names = [n for s in selected for n in (s.name, *s.aliases)]
            near = closest(key, names) or closest(key, [s.name for s in registry.benchmarks().all()])
            guess = f" Did you mean {', '.join(repr(n) for n in near)}?" if near else ""
            raise ConfigError(
                f"--dataset-args has settings for {key!r}, which is not a benchmark.{guess}",
                hint=f"its keys must be benchmark names from --datasets ({', '.join(config.datasets)})",
            ) from None
        log.warning(
            "--dataset-args has settings for %s, which is not in --datasets (%s): they are not used",
            other.name,
            ", ".join(config.datasets),
        )


def _source(config: TaskConfig, adapter: Benchmark, subset: str, split: str) -> DataSource:
    return DataSource(
        benchmark=adapter.name,
        dataset_id=adapter.dataset_id,
        subset=adapter.data_subset(subset),
        split=split,
        data_dir=config.resolved_data_dir(),
        offline=config.is_offline(),
        hub=config.dataset_hub,
        aliases=adapter.spec.aliases,
        local_only=adapter.spec.local_only,
    )


def _samples(adapter: Benchmark, split: LoadedSplit, subset: str, stop: int | None = None) -> list[Sample]:
    """The split's samples for `subset`, the first `stop` of them when given (a `--limit 5` of a
    14,000-row split converts 5 records, not all)."""
    out: list[Sample] = []
    for i, record in enumerate(split.records):
        if stop is not None and len(out) >= stop:
            break
        try:
            if not adapter.keep_record(record, subset):
                continue
            out.append(adapter.record_to_sample(record, subset, i))
        except KeyError as exc:
            origin, line = split.where(i)
            raise DataFormatError(
                origin, f"record is missing field {exc.args[0]!r} needed by {adapter.name}", line=line
            ) from None
        except (TypeError, ValueError, IndexError) as exc:
            origin, line = split.where(i)
            raise DataFormatError(
                origin, f"cannot read record for {adapter.name}: {exc}", line=line
            ) from None
    return out


def _subset_items(config: TaskConfig, adapter: Benchmark, subset: str, start: int) -> list[Item]:
    source = _source(config, adapter, subset, adapter.eval_split)
    split = adapter.generated_split(subset)  # needle_haystack builds its records from a corpus
    if split is None:
        split = resolve_loader(source).load(source)
    whole = config.limit is not None and config.limit >= 1
    samples = _samples(adapter, split, subset, stop=int(config.limit) if whole and config.limit else None)
    if config.limit is not None and not whole:
        samples = samples[: math.ceil(config.limit * len(samples))]
    fewshot = _fewshot(config, adapter, subset)
    items = []
    for offset, sample in enumerate(samples):
        messages = adapter.build_messages(sample, fewshot)
        generation = adapter.generation(sample, config.generation_config)
        error = None
        try:
            tools, tool_choice = adapter.request_tools(sample)
        except SampleInputError as exc:
            tools, tool_choice, error = None, None, str(exc)
        request = GenerateRequest(messages=messages, config=generation, tools=tools, tool_choice=tool_choice)
        items.append(Item(start + offset, sample, request, error=error))
    return items


def _fewshot(config: TaskConfig, adapter: Benchmark, subset: str) -> list[Sample]:
    k = adapter.few_shot_num
    if k <= 0:
        return []
    split_name = adapter.few_shot_split
    if split_name is None:
        raise ConfigError(f"{adapter.name} has no few-shot split; set few_shot_num to 0.")
    source = _source(config, adapter, subset, split_name)
    try:
        split = resolve_loader(source).load(source)
    except DatasetNotFoundError as exc:
        raise DatasetNotFoundError(
            f"{adapter.name} is {k}-shot by default and needs its {split_name!r} split: {exc.message}",
            hint=f"provide the {split_name} split, or evaluate zero-shot: "
            f'--dataset-args \'{{"{adapter.name}": {{"few_shot_num": 0}}}}\'',
        ) from None
    pool = _samples(adapter, split, subset)
    if len(pool) < k:
        raise ConfigError(
            f"{adapter.name}/{subset}: only {len(pool)} few-shot examples, {k} requested; lower few_shot_num."
        )
    if adapter.args.few_shot_random:
        return random.Random(config.seed).sample(pool, k)
    return pool[:k]


__all__ = [
    "BenchmarkPlan",
    "BoundScorer",
    "EvalScopeError",
    "Item",
    "Plan",
    "build_plan",
    "build_scorers",
    "resolve_model_spec",
]
