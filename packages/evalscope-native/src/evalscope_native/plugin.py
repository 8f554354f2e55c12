"""The native plugin's hooks. Only cheap specs here: implementations load on use."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from evalscope.datasets import DatasetLoader, DataSource
from evalscope.hookspecs import hookimpl
from evalscope.specs import (
    BackendCapabilities,
    BackendSpec,
    BenchmarkSpec,
    CommandSpec,
    MetricSpec,
    ModelSpec,
    ScorerSpec,
)

if TYPE_CHECKING:
    from evalscope.collections import MemberLoader
    from evalscope.config import TaskConfig


@hookimpl
def evalscope_register_benchmarks() -> list[BenchmarkSpec]:
    from evalscope_native.benchmarks.catalog import builtin_benchmarks

    return builtin_benchmarks()


@hookimpl
def evalscope_register_models() -> list[ModelSpec]:
    return [
        ModelSpec(
            name="openai_api",
            impl="evalscope_native.models.openai_api:OpenAIModel",
            description="Any OpenAI-compatible service (vLLM, SGLang, Ollama, OpenAI, ...): chat or completions.",
            eval_types=("service", "openai_api"),
            aliases=("service",),
        ),
        ModelSpec(
            name="mock_llm",
            impl="evalscope_native.models.mock:MockModel",
            description="Answers every prompt with a fixed text; for smoke runs of the pipeline.",
            eval_types=("mock_llm",),
        ),
        ModelSpec(
            name="scripted",
            impl="evalscope_native.models.scripted:ScriptedModel",
            description="A reply table served on 127.0.0.1 by the run itself (model_args.table; by default "
            "the quickstart's table): the whole service path with no model to install.",
            eval_types=("scripted",),
        ),
        ModelSpec(
            name="transformers",
            impl="evalscope_native.models.local_hf:TransformersModel",
            description="A local checkpoint (hub id or folder) run in-process with transformers, in batches; "
            "needs torch and transformers (the `local` extra).",
            eval_types=("checkpoint", "llm_ckpt"),
            aliases=("local_hf",),
        ),
        ModelSpec(
            name="vllm",
            impl="evalscope_native.models.local_vllm:VLLMModel",
            description="A local checkpoint run in-process with vLLM (a CUDA GPU and `pip install vllm`); "
            'chosen by --model-args \'{"engine": "vllm"}\'.',
        ),
    ]


@hookimpl
def evalscope_resolve_model(config: TaskConfig) -> str | None:
    """`--model-args '{"engine": "vllm"}'` picks the vLLM engine for a local checkpoint."""
    from evalscope_native.models.local_args import engine_model

    return engine_model(config)


@hookimpl
def evalscope_register_scorers() -> list[ScorerSpec]:
    scorers = "evalscope_native.scorers"
    return [
        ScorerSpec(
            name="acc",
            impl=f"{scorers}:accuracy",
            aliases=("accuracy", "exact_match"),
            values=("acc",),
            description="Equal to a target after stripping and lower-casing (numeric=True: Math-Verify).",
        ),
        ScorerSpec(
            name="math_verify",
            impl=f"{scorers}:math_verify",
            values=("acc",),
            description="Math-Verify equivalence of the extracted answer with a target (EvalScope 1.14.1).",
        ),
        ScorerSpec(
            name="mcq_letters",
            impl=f"{scorers}:mcq_letters",
            values=("acc",),
            description="Chosen letter(s) against the answer; partial credit with several correct letters.",
        ),
        ScorerSpec(
            name="multi_choice_acc",
            impl=f"{scorers}:multi_choice_acc",
            values=("multi_choice_acc",),
            description="TruthfulQA MC2: share of true letters chosen, 0 if any chosen letter is false.",
        ),
        ScorerSpec(
            name="drop_f1_em",
            impl=f"{scorers}:drop_f1_em",
            values=("f1", "em"),
            description="DROP: bag-of-answers F1 and exact match against every gold answer set.",
        ),
        ScorerSpec(
            name="text_overlap",
            impl=f"{scorers}:text_overlap",
            values=(*(f"bleu-{n}" for n in range(1, 5)), *(f"Rouge-{n}-{s}" for n in "12L" for s in "RPF")),
            description="BLEU-1..4 and ROUGE-1/2/L recall, precision, F against the reference.",
        ),
        ScorerSpec(
            name="ifeval",
            impl=f"{scorers}:ifeval_levels",
            values=("prompt_level_strict", "inst_level_strict", "prompt_level_loose", "inst_level_loose"),
            description="IFEval: prompt- and instruction-level accuracy, strict and loose.",
        ),
        ScorerSpec(
            name="llm_judge",
            impl="evalscope_native.judge.scorers:generic_judge",
            values=("acc",),
            kind="model",
            description="LLM judge: EvalScope's reference-guided grading (A/B) or 0-1 rating (judge.contract).",
        ),
        *_judge_scorers(),
        *_family_scorers(),
        ScorerSpec(
            name="collection_member",
            impl="evalscope_native.benchmarks.data_collection:member_scorers",
            values=("acc",),
            description="data_collection: each sample scored by its member benchmark's own scorers (its headline value).",
        ),
        ScorerSpec(
            name="code_execution",
            impl=f"{scorers}:code_execution",
            values=("acc",),
            kind="execution",
            description="Runs the extracted program and its tests in the bubblewrap sandbox: 1 if all pass.",
        ),
    ]


@hookimpl
def evalscope_register_metrics() -> list[MetricSpec]:
    return [
        *_family_metrics(),
        MetricSpec(
            name="bradley_terry",
            impl="evalscope_native.judge.stats:bradley_terry",
            description="Win rate against the baseline from the judge's games (Arena-Hard's counting), "
            "with a seeded bootstrap interval.",
        ),
        *(
            MetricSpec(
                name=f"arena_{which}",
                impl=f"evalscope_native.arena.results:{which}",
                description=f"Arena {which.replace('_', ' ')}: the Bradley-Terry win rate against the baseline "
                "over the pooled battles (seeded bootstrap interval).",
            )
            for which in ("winrate", "winrate_lower", "winrate_upper")
        ),  # fmt: skip
        MetricSpec(
            name="length_controlled",
            impl="evalscope_native.judge.stats:length_controlled",
            description="AlpacaEval 2-style length-controlled win rate: the preference at equal answer length.",
        ),
    ]


@hookimpl
def evalscope_register_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            name="native",
            impl="evalscope_native.engine.backend:NativeBackend",
            description="EvalScope's own asyncio engine (default).",
            capabilities=BackendCapabilities(
                fractional_limit=True, resume=True, sample_events=True, judge=True, distributed=True
            ),
        )
    ]


@hookimpl
def evalscope_resolve_dataset_loader(source: DataSource) -> DatasetLoader | None:
    from evalscope_native.data.loader import pick_loader

    return pick_loader(source)


@hookimpl
def evalscope_resolve_collection_loader(data_dir: Path | None) -> MemberLoader | None:
    """Collection members load through this engine's benchmarks and data loader."""
    from evalscope_native.collections.members import NativeMemberLoader

    return NativeMemberLoader(data_dir)


@hookimpl
def evalscope_register_commands() -> list[CommandSpec]:
    return [
        CommandSpec(
            name="collection",
            impl="evalscope_native.collections.cli:app",
            help="Mix benchmarks into one weighted evaluation set (sample a schema into JSONL).",
            description="EvalScope's collections: `evalscope collection sample --schema s.json --count 1000 --out mix.jsonl`.",
        )
    ]


def _judge_scorers() -> list[ScorerSpec]:
    builtin = "evalscope_native.judge.builtin"
    return [
        ScorerSpec(name="simple_qa_grader", impl=f"{builtin}:simple_qa_grader", kind="model",
                   values=("is_correct", "is_incorrect", "is_not_attempted"),
                   description="SimpleQA's grader: correct / incorrect / not attempted against the gold target."),
        ScorerSpec(name="chinese_simpleqa_grader", impl=f"{builtin}:chinese_simpleqa_grader", kind="model",
                   values=("is_correct", "is_incorrect", "is_not_attempted"),
                   description="Chinese SimpleQA's grader (its own prompt and system prompt)."),
        ScorerSpec(name="aime_equivalence", impl=f"{builtin}:aime_equivalence", kind="model", values=("acc",),
                   description="AIME's judge: is the reply equivalent to the answer (Yes/No); for llm_recall."),
        ScorerSpec(name="arena_hard_battle", impl=f"{builtin}:arena_hard_battle", kind="model", values=("win_rate",),
                   description="Arena-Hard's pairwise verdict (A>>B ... B>>A) against the baseline, both orders."),
        ScorerSpec(name="general_arena_battle", impl=f"{builtin}:general_arena_battle", kind="model",
                   values=("winrate", "winrate_lower", "winrate_upper"),
                   description="general_arena: Arena-Hard's pairwise verdict between two models' answers, both orders."),
        ScorerSpec(name="mt_bench_rating", impl=f"{builtin}:mt_bench_rating", kind="model",
                   values=("judge_score", "first_turn_judge_score", "second_turn_judge_score"),
                   description="MT-Bench: each of the two turns rated 1-10 (reference-guided where it applies)."),
        ScorerSpec(name="alpaca_eval_preference", impl=f"{builtin}:alpaca_eval_preference", kind="model",
                   values=("win_rate", "lc_win_rate"),
                   description="AlpacaEval 2.0's preference (m/M) between the output and the reference."),
    ]  # fmt: skip


def _family_scorers() -> list[ScorerSpec]:
    """The scorers of the benchmark families under `evalscope_native/families/` (each lists its own)."""
    from evalscope_native.families.function_calling.catalog import scorer_specs as function_calling
    from evalscope_native.families.long_context.catalog import scorer_specs as long_context
    from evalscope_native.families.multimodal.catalog import scorer_specs as multimodal

    return multimodal() + long_context() + function_calling()


def _family_metrics() -> list[MetricSpec]:
    """The metrics of the benchmark families under `evalscope_native/families/`."""
    from evalscope_native.families.function_calling.catalog import metric_specs as function_calling

    return function_calling()
