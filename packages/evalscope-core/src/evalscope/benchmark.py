"""The benchmark adapter contract: records → samples → prompts; predictions → answers → scores.

A benchmark is a `BenchmarkSpec` (declarative, cheap) plus a small `Benchmark` subclass named by
the spec's `impl`. Engines drive it; it never does I/O or talks to models itself, which is what
lets the same adapter run under the native engine, a distributed runner, or a re-scoring pass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from evalscope.config import DatasetArgs, GenerationConfig
from evalscope.contracts import ChatMessage, GenerateRequest, ModelOutput, Sample
from evalscope.errors import ConfigError
from evalscope.specs import BenchmarkSpec

__all__ = ["AgentSession", "Benchmark", "DEFAULT_CATEGORY", "SampleInputError"]

if TYPE_CHECKING:
    from evalscope.datasets import LoadedSplit
    from evalscope.report import Report, SampleRecord

DEFAULT_CATEGORY = "default"


class SampleInputError(ValueError):
    """One sample cannot be sent as it is (a tool schema that is not valid JSON Schema).

    Raised by `Benchmark.request_tools`; the engine records the sample as failed with this message
    (it should name the sample and the fix), sends nothing for it and goes on with the others.
    """


class AgentSession(Protocol):
    """What an engine lends an agent benchmark's `run_agent` for one sample.

    `generate` asks the model under test (the run's model): looked up in the prediction cache first
    (the key is the request's content hash, plus the trial number for trials after the first, so the
    trials of one task are independent), sent with the run's retry policy otherwise; a request that
    fails for good raises `ModelError` (the sample is recorded as failed). `call` runs any other model
    call (a simulated user) under the same retry policy, cached under `key` when one is given (a content
    hash the benchmark computes), and raises `ModelError` when it fails for good.
    """

    async def generate(self, request: GenerateRequest, *, trial: int = 0) -> ModelOutput: ...

    async def call(
        self, fn: Callable[[], Awaitable[ModelOutput]], *, label: str, key: str | None = None
    ) -> ModelOutput: ...


class Benchmark:
    """Base adapter. Subclasses implement `record_to_sample` and usually `extract_answer`."""

    #: keyword arguments for the scorer's factory (e.g. TriviaQA's {"nonempty": True})
    scorer_kwargs: dict[str, Any] = {}
    #: threads the engine scores this benchmark's samples on; >1 only for scorers that are thread-safe
    #: and wait on other processes (code execution in the sandbox), so scoring uses every core
    scoring_workers: int = 1
    #: the user-prompt template; `{question}` is the sample input
    prompt_template: str = "{question}"
    #: the template used when few-shot examples are present; `{fewshot}` holds them
    few_shot_prompt_template: str | None = None
    #: the engine asks `next_turn` after each answer (MT-Bench: a second question builds on the first)
    multi_turn: bool = False
    #: the engine hands each sample to `run_agent` instead of sending one request (τ-bench: the model
    #: calls tools that run in process and talks with a simulated user until the episode ends)
    agent: bool = False
    #: report pass^k (all k of n trials succeed, τ-bench's measure) next to pass@k when n > 1
    pass_hat_k: bool = False

    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None, seed: int | None = None) -> None:
        self.spec = spec
        self.args = args or DatasetArgs()
        #: the run's --seed, for adapters that shuffle (choices, few-shot examples)
        self.seed = seed
        #: the run's local data root (--data-dir / EVALSCOPE_DATA_DIR), for adapters with side files
        self.data_dir: Path | None = None
        #: the run is offline (--offline / HF_HUB_OFFLINE=1): an adapter that downloads side files must not
        self.offline = False
        if self.args.prompt_template:
            self.prompt_template = self.args.prompt_template
        if self.args.few_shot_prompt_template:
            self.few_shot_prompt_template = self.args.few_shot_prompt_template

    # --- resolved settings ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def dataset_id(self) -> str:
        return self.args.dataset_id or self.args.local_path or self.spec.dataset_id

    @property
    def eval_split(self) -> str:
        return self.args.eval_split or self.spec.eval_split

    @property
    def few_shot_split(self) -> str | None:
        return self.args.train_split or self.spec.few_shot_split

    @property
    def few_shot_num(self) -> int:
        return self.args.few_shot_num if self.args.few_shot_num is not None else self.spec.few_shot_num

    @property
    def metrics(self) -> list[str]:
        return list(self.args.metric_list or self.spec.metrics)

    def subsets(self) -> list[str]:
        """The subsets to evaluate: the user's `subset_list`, else the spec's defaults."""
        if self.args.subset_list:
            unknown = [s for s in self.args.subset_list if s not in self.spec.subsets]
            if unknown and self.spec.subsets != ("default",):
                from evalscope.errors import closest

                hints = {s: closest(s, self.spec.subsets) for s in unknown}
                detail = "; ".join(
                    f"{s!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for s, h in hints.items()
                )
                raise ConfigError(
                    f"Unknown subset(s) for {self.spec.name}: {detail}.",
                    hint=f"Valid subsets: {', '.join(self.spec.subsets)}",
                )
            return list(self.args.subset_list)
        return list(self.spec.default_subsets or self.spec.subsets)

    # --- records to samples ---------------------------------------------------------------------

    def data_subset(self, subset: str) -> str:
        """The dataset config / local folder that holds `subset`'s records (default: the subset itself).

        MMLU-Pro ships one table whose `category` column makes the subsets: every subset then reads
        the same data subset and `keep_record` picks its rows.
        """
        return subset

    def generated_split(self, subset: str) -> LoadedSplit | None:
        """A benchmark that builds its records instead of reading a split returns them here (default
        None: the engine loads the split through the data-loader hook). needle_haystack cuts a grid of
        contexts from a corpus file under `data_dir` with a tokenizer; like `data_dir` side files,
        this is the one place an adapter may read files, and it runs at planning time."""
        return None

    def keep_record(self, record: dict[str, Any], subset: str) -> bool:
        """Whether a record of the loaded split belongs to `subset` (default: every record)."""
        return True

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        """Turn one dataset record into a Sample. A missing field raises KeyError (reported with file:line)."""
        raise NotImplementedError

    def category_of(self, subset: str) -> str:
        """The category a subset belongs to in reports (e.g. MMLU's STEM/Humanities)."""
        return DEFAULT_CATEGORY

    # --- prompts -------------------------------------------------------------------------------

    def check_prompt_template(self, hint: str, **fields: str) -> None:
        """Fail before any request when a user's `prompt_template` names a placeholder this
        benchmark does not fill (`fields` are the ones it does)."""
        try:
            self.prompt_template.format(**fields)
        except (KeyError, IndexError) as exc:
            raise ConfigError(
                f"{self.spec.name} prompt_template has an unknown placeholder {exc}.", hint=hint
            ) from None

    def sample_to_fewshot(self, sample: Sample) -> str:
        """One solved example for the few-shot block."""
        target = sample.target if isinstance(sample.target, str) else sample.target[0]
        return f"{sample.input}\n{target}"

    def format_prompt(self, sample: Sample, fewshot: str | None) -> str:
        if fewshot and self.few_shot_prompt_template:
            return self.few_shot_prompt_template.format(question=sample.input, fewshot=fewshot)
        return self.prompt_template.format(question=sample.input)

    def generation(self, sample: Sample, base: GenerationConfig) -> GenerationConfig:
        """The sampling settings of this sample's request (default: the run's). MT-Bench sets its
        per-category temperature here."""
        return base

    def next_turn(self, sample: Sample, conversation: list[ChatMessage]) -> list[ChatMessage] | None:
        """Multi-turn benchmarks: the next request's messages after the model's last answer (the
        conversation ends with it), or None when the sample is complete."""
        return None

    def turn_generation(self, sample: Sample, previous: GenerationConfig) -> GenerationConfig:
        """The sampling settings of a follow-up turn (default: the same as the turn before)."""
        return previous

    async def run_agent(self, sample: Sample, request: GenerateRequest, session: AgentSession) -> ModelOutput:
        """Agent benchmarks (`agent = True`): run the sample's episode(s) and return the output to score.

        `request` is the planned first request (messages, tools, generation config); with
        `config.n` > 1 the benchmark runs n independent trials and returns one completion per trial.
        Talk to models only through `session`. Raise `ModelError` when an episode cannot finish (a
        simulated user that fails): the sample is recorded as failed with the message, never scored.
        """
        raise NotImplementedError(f"{self.name} sets agent = True but does not implement run_agent")

    async def check_services(self) -> None:
        """Before the run, with the model's connection check: any service the benchmark calls itself
        (τ-bench's simulated user) answers. Raise an `EvalScopeError` naming the service and the
        setting to fix: a dead endpoint must stop the run in seconds, not fail every sample after its
        retries. Default: nothing to check."""
        return None

    def request_tools(
        self, sample: Sample
    ) -> tuple[list[dict[str, Any]] | None, str | dict[str, Any] | None]:
        """Function-calling benchmarks: the OpenAI `tools` list and `tool_choice` sent with this
        sample's request (default: none, a plain chat request). Raise `SampleInputError` when the
        sample's tools cannot be sent: that sample fails with the message, the run goes on."""
        return None, None

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        fewshot = "\n\n".join(self.sample_to_fewshot(s) for s in fewshot_samples) if fewshot_samples else None
        messages: list[ChatMessage] = []
        if self.args.system_prompt:
            messages.append(ChatMessage(role="system", content=self.args.system_prompt))
        messages.append(ChatMessage(role="user", content=self.format_prompt(sample, fewshot)))
        return messages

    # --- scoring -------------------------------------------------------------------------------

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        """The answer the metric compares with the target; default: the stripped prediction."""
        return prediction.strip()

    def reference(self, sample: Sample) -> str | list[str]:
        return sample.target

    @property
    def aggregation(self) -> str:
        """The registered metric that aggregates each value (`evalscope list metrics`)."""
        return self.args.aggregation or self.spec.aggregation

    @property
    def scorer(self) -> str:
        """The registered scorer that judges this benchmark's completions (`evalscope list scorers`).

        Scoring lives in scorers, not in adapters: the same Math-Verify or sandbox scorer serves a
        whole family, and a judge can take a benchmark over without touching its adapter.
        """
        return self.spec.scorer

    def report_extra(self) -> dict[str, Any]:
        """Facts about how this benchmark was scored, stored in the report's `extra` (e.g. the code
        sandbox's isolation mode, so a weaker fallback is visible in the results)."""
        return {}

    def report_files(self, report: Report, records: Sequence[SampleRecord]) -> Mapping[str, str | bytes]:
        """Extra files written next to the report, `reports/<model>/<name>`: name → text or bytes (the
        arena's `leaderboard.txt` and battles file, needle_haystack's heat map PNG); default none."""
        return {}

    def metric_weights(self, sample: Sample) -> dict[str, float]:
        """Per-sample weights by metric (default 1): IFEval's instruction-level accuracy weighs each
        prompt by its number of instructions, so the report's mean is over instructions."""
        return {}

    def finalize_report(self, report: Report, records: Sequence[SampleRecord]) -> Report:
        """The benchmark's last word on its report, given every sample's record (default: as is).

        For figures that per-subset aggregation cannot give: `data_collection` splits its metrics by
        the member benchmarks' own and adds EvalScope's subset/dataset/task/tag/category levels to
        `extra["collection"]`. Called by the engine after `build_report`, before the report is written.
        """
        return report
