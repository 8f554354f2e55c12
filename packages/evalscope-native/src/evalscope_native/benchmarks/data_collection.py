"""data_collection: evaluate a mixed file, each sample prompted, extracted and scored by its member.

The file is what `evalscope collection sample` (or EvalScope 1.14.1's samplers) wrote: one line a
sample, with its member benchmark's name and its rendered prompt (`evalscope.collections.records`).
Every line is handed to its own member:

* the prompt is the one in the file — rendered by the member when the mix was sampled, so it is the
  request the member sends on its own (and its cache key is the same);
* the answer is extracted by the member's adapter (`extract_answer`) and scored by the member's own
  scorers, built through the registry as a run builds them (`engine.scorer_plan.build_scorers`);
  the member's headline value (its first) is the sample's value `acc`;
* the member's own sample (target, choices, metadata, the question) comes from the line: from the
  `member` field ours write, else (EvalScope's files) from the prompt.

The report (`collections/report.py`) has one metric per member headline (`mean_acc` when all are
accuracies), categories by schema path and subsets `<dataset>/<subset>`, and EvalScope's five
levels — subset, dataset, task type, tag, category, each with micro / macro / weighted averages
and their standard errors — in `extra["collection"]`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalscope.benchmark import DEFAULT_CATEGORY, Benchmark
from evalscope.collections.records import DatasetEntry
from evalscope.config import DatasetArgs, GenerationConfig
from evalscope.contracts import ChatMessage, Sample
from evalscope.errors import ConfigError, EvalScopeError
from evalscope.report import Report, SampleRecord
from evalscope.scoring import Score
from evalscope.specs import BenchmarkSpec

from evalscope_native.collections.members import member_adapter
from evalscope_native.engine.scorer_plan import BoundScorer, build_scorers

__all__ = ["INFO", "VALUE", "DataCollection", "MemberScorer", "member_scorers"]

log = logging.getLogger("evalscope.native")

#: where a sample's collection fields live in its metadata (EvalScope's `DataCollection.INFO`)
INFO = "collection_info"
#: the value every sample reports: its member's headline value
VALUE = "acc"


@dataclass
class Member:
    """A member benchmark, built once per (name, args) for the whole file."""

    name: str
    adapter: Benchmark
    scorers: list[BoundScorer]
    headline: str
    #: as many threads at once as the member itself scores on (Math-Verify one, the sandbox many)
    gate: threading.BoundedSemaphore


@dataclass
class Entry:
    member: Member
    sample: Sample  # the member's own sample
    messages: list[ChatMessage]


class DataCollection(Benchmark):
    prompt_template = "{question}"

    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None, seed: int | None = None) -> None:
        super().__init__(spec, args, seed)
        hint = '--dataset-args \'{"data_collection": {"local_path": "mix.jsonl"}}\''
        if not (self.args.local_path or self.args.dataset_id):
            raise ConfigError(
                "data_collection evaluates a mixed file; name it with local_path.",
                hint=f"{hint} (make one with `evalscope collection sample --schema s.json --count 1000 --out mix.jsonl`)",
            )
        if not Path(self.dataset_id).expanduser().exists():
            raise ConfigError(f"data_collection: the mixed file {self.dataset_id} does not exist.", hint=hint)
        if self.args.metric_list:
            raise ConfigError(
                "data_collection scores every sample with its member benchmark's own metrics; it takes no metric_list.",
                hint="set metric_list in the member's args in the collection schema, then sample again",
            )
        self._members: dict[str, Member] = {}
        self._entries: dict[str, Entry] = {}
        self._subset_names: dict[tuple[tuple[str, ...], str, str], str] = {}
        self._categories: dict[str, str] = {}
        self._versions_checked: set[str] = set()
        #: the engine scores on this many threads: the most any member uses (each member gated to its own)
        self.scoring_workers = 1

    # --- records to samples ---------------------------------------------------------------------

    def data_subset(self, subset: str) -> str:
        """A folder is read as EvalScope reads it: `test.jsonl` or `test_test.jsonl` (its collection's
        subset is always 'test'); a file is read whatever the subset."""
        return "test"

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        """A line of the mixed file (file:line on any error, via the engine)."""
        entry = DatasetEntry.from_dict(record)
        member = self._member(entry)
        own = _member_sample(entry, index)
        messages = _messages(entry.prompt["input"])
        sample_id = f"{entry.dataset_name}/{own.id}"
        if sample_id in self._entries:  # the same sample twice (a name listed twice in the schema)
            sample_id = f"{sample_id}#{index}"
        info = {k: v for k, v in record.items() if k not in ("prompt", "member")}
        info["benchmark"] = member.adapter.spec.canonical_name
        self._entries[sample_id] = Entry(member, own, messages)
        return Sample(
            id=sample_id,
            input=own.input,
            target=own.target,
            choices=own.choices,
            subset=self._subset_name(entry),
            metadata={**own.metadata, INFO: info},
        )

    def _member(self, entry: DatasetEntry) -> Member:
        args = entry.member.get("args") or {}
        if not isinstance(args, dict):
            raise ValueError(f"member.args must be an object (the member's dataset args), got {args!r}")
        key = f"{entry.dataset_name}\0{sorted(args.items())!r}"
        member = self._members.get(key)
        if member is None:
            try:
                adapter = member_adapter(entry.dataset_name, args, data_dir=self.data_dir, seed=self.seed)
                scorers = build_scorers(adapter)
            except EvalScopeError as exc:  # the engine reports a ValueError with the file and line
                raise ValueError(f"member {entry.dataset_name!r}: {exc}") from None
            if any(b.is_async for b in scorers):
                raise ValueError(
                    f"member {entry.dataset_name!r} is scored by a judge, which collections cannot use yet"
                )
            names = [n for b in scorers for n in b.names]
            member = Member(
                entry.dataset_name,
                adapter,
                scorers,
                names[0] if names else VALUE,
                threading.BoundedSemaphore(max(1, adapter.scoring_workers)),
            )
            self._members[key] = member
            self.scoring_workers = max(self.scoring_workers, adapter.scoring_workers)
        version = entry.member.get("version")
        if version and version != member.adapter.spec.version and key not in self._versions_checked:
            self._versions_checked.add(key)
            log.warning(
                "%s: the mix was sampled with %s version %s, this is version %s: its prompts are the old ones",
                self.name,
                member.adapter.spec.name,
                version,
                member.adapter.spec.version,
            )
        return member

    def _subset_name(self, entry: DatasetEntry) -> str:
        """`<dataset>/<subset>`; the same pair under two schema paths gets the path appended."""
        path = tuple(entry.categories)
        key = (path, entry.dataset_name, entry.subset_name)
        name = self._subset_names.get(key)
        if name is None:
            name = f"{entry.dataset_name}/{entry.subset_name}"
            if name in self._categories:
                name = f"{name} [{'/'.join(path)}]"
            self._subset_names[key] = name
            self._categories[name] = "/".join(path) or DEFAULT_CATEGORY
        return name

    def category_of(self, subset: str) -> str:
        return self._categories.get(subset, DEFAULT_CATEGORY)

    def entry(self, sample: Sample) -> Entry:
        return self._entries[sample.id]

    def metric_of(self, sample_id: str) -> str:
        """The headline value name of the member a sample belongs to."""
        entry = self._entries.get(sample_id)
        return entry.member.headline if entry is not None else VALUE

    # --- prompts: the member's, as rendered into the file -----------------------------------------

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        messages = list(self.entry(sample).messages)
        if self.args.system_prompt and not any(m.role == "system" for m in messages):
            messages.insert(0, ChatMessage(role="system", content=self.args.system_prompt))
        return messages

    def generation(self, sample: Sample, base: GenerationConfig) -> GenerationConfig:
        entry = self.entry(sample)
        return entry.member.adapter.generation(entry.sample, base)

    # --- answers and scores: the member's ---------------------------------------------------------

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        entry = self.entry(sample)
        with entry.member.gate:
            return entry.member.adapter.extract_answer(prediction, entry.sample)

    def metric_weights(self, sample: Sample) -> dict[str, float]:
        entry = self.entry(sample)
        weights = entry.member.adapter.metric_weights(entry.sample)
        return {VALUE: weights[entry.member.headline]} if entry.member.headline in weights else {}

    def finalize_report(self, report: Report, records: Sequence[SampleRecord]) -> Report:
        from evalscope_native.collections.report import collection_report

        return collection_report(self, report, records)

    def report_files(self, report: Report, records: Sequence[SampleRecord]) -> dict[str, str]:
        from evalscope_native.collections.report import detailed_report_files

        return detailed_report_files(report)


class MemberScorer:
    """Scores a collection sample with its member's scorers; the member's headline is the value."""

    def __init__(self, collection: DataCollection) -> None:
        self.collection = collection
        self.values: Sequence[str] = (VALUE,)

    def __call__(self, sample: Sample, completion: str, extracted: str) -> Score:
        entry = self.collection.entry(sample)
        member = entry.member
        with member.gate:
            scores = [_checked(b.scorer(entry.sample, completion, extracted)) for b in member.scorers]
        values: dict[str, float] = {}
        for score in scores:
            values |= {k: float(v) for k, v in score.values.items()}
        weights: dict[str, float] = {}
        metadata: dict[str, Any] = dict(entry.sample.metadata)  # a scorer may record what it did there
        for score in scores:
            weights |= score.weights
            metadata |= score.metadata
        unscored = [s.unscored for s in scores if s.unscored]
        explanations = [s.explanation for s in scores if s.explanation]
        scored = {name: values.get(name, 0.0) for b in member.scorers for name in b.names}
        metadata[INFO] = {**sample.metadata.get(INFO, {}), "metric": member.headline, "scores": scored}
        return Score(
            values={VALUE: scored.get(member.headline, 0.0)},
            answer=extracted,
            explanation="\n\n".join(explanations) if explanations else None,
            weights={VALUE: weights[member.headline]} if member.headline in weights else {},
            metadata=metadata,
            unscored=unscored[0] if unscored else None,
        )


def _checked(score: Any) -> Score:
    if not isinstance(score, Score):
        raise TypeError(f"a scorer must return evalscope.scoring.Score, not {type(score).__name__}")
    return score


def member_scorers(benchmark: DataCollection, **_: Any) -> MemberScorer:
    """The `collection_member` scorer's factory (only data_collection uses it)."""
    if not isinstance(benchmark, DataCollection):
        raise ConfigError(
            "the collection_member scorer scores data_collection samples only.",
            hint="name another scorer for this benchmark (`evalscope list scorers`)",
        )
    return MemberScorer(benchmark)


# --- a line's member sample -------------------------------------------------------------------------


def _member_sample(entry: DatasetEntry, index: int) -> Sample:
    """The member's own sample: from our `member` field, else rebuilt from EvalScope's prompt."""
    prompt, member = entry.prompt, entry.member
    if "id" in member:
        sample_id = str(member["id"])
    elif prompt.get("id") is not None:
        sample_id = f"{entry.subset_name}/{prompt['id']}"
    else:
        sample_id = f"{entry.subset_name}/{index}"
    question = member.get("input")
    if not isinstance(question, str):
        users = [m for m in _messages(prompt["input"]) if m.role == "user"]
        question = users[-1].content if users else ""
    metadata = prompt.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValueError(f"prompt.metadata must be an object, got {type(metadata).__name__}")
    return Sample(
        id=sample_id,
        input=question,
        target=prompt.get("target", ""),
        choices=prompt.get("choices"),
        subset=entry.subset_name,
        metadata=dict(metadata),
    )


def _messages(value: Any) -> list[ChatMessage]:
    """The prompt's input: a string (one user message) or chat messages; EvalScope's messages carry
    extra fields (`id`, `source`) and may hold text as a list of content parts."""
    if isinstance(value, str):
        return [ChatMessage(role="user", content=value)]
    if not isinstance(value, list) or not value:
        raise ValueError("prompt.input must be a string or a non-empty list of chat messages")
    out = []
    for m in value:
        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            raise ValueError(f"prompt.input holds {m!r}, not a chat message with role and content")
        role, content = m["role"], m["content"]
        if role not in ("system", "user", "assistant"):
            raise ValueError(
                f"prompt.input has a {role!r} message; only system, user and assistant are supported"
            )
        if isinstance(content, list):
            parts = [p for p in content if isinstance(p, dict)]
            if any(p.get("type") != "text" for p in parts) or len(parts) != len(content):
                raise ValueError("prompt.input has non-text content (images, audio), which is not supported")
            content = "".join(str(p.get("text", "")) for p in parts)
        if not isinstance(content, str):
            raise ValueError(f"a message's content must be text, got {type(content).__name__}")
        out.append(ChatMessage(role=role, content=content))
    return out
