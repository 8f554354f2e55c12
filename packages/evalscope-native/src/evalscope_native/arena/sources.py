"""The arena's data: the answers earlier runs recorded, paired up by question and by schedule.

`general_arena` takes `models: [{"name", "report_path": "<run>/reports/<model>"}]` (EvalScope's
interface). Each model's answers are read from the run folder its `report_path` belongs to:
`<run>/reviews/<model>/<benchmark>.jsonl` for every benchmark it has a report of. Only questions
every model answered without error are paired (the others are listed); a pair is one record per
question and per scheduled match:

* `baseline` — every model against the baseline (EvalScope's arena);
* `all_pairs` — every model against every other;
* `mxn` — each of `candidates` against each of `opponents`.

The arena's source travels as a `DataSource` whose `dataset_id` is `arena:<json>` (see
`ArenaSpec.to_id`), answered by `ArenaLoader` through the dataset-loader resolver hook, so the
benchmark adapter stays free of I/O like every other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalscope.contracts import ChatMessage
from evalscope.data_files import iter_jsonl
from evalscope.datasets import DataSource, LoadedSplit
from evalscope.errors import ConfigError, UnknownNameError

__all__ = ["ArenaLoader", "ArenaSpec", "PREFIX"]

PREFIX = "arena:"
SCHEDULES = ("baseline", "all_pairs", "mxn")


@dataclass
class ArenaSpec:
    models: list[dict[str, str]]
    baseline: str
    schedule: str = "baseline"
    candidates: list[str] = field(default_factory=list)
    opponents: list[str] = field(default_factory=list)
    bootstrap_rounds: int = 100

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ArenaSpec:
        known = {"models", "baseline", "schedule", "candidates", "opponents", "bootstrap_rounds"}
        unknown = sorted(set(params) - known)
        if unknown:
            raise UnknownNameError("general_arena extra_params key", unknown[0], known)
        models = params.get("models") or []
        if not isinstance(models, list) or len(models) < 2:
            raise ConfigError(
                "general_arena needs at least two models in extra_params.models.",
                hint='"models": [{"name": "a", "report_path": "outputs/<run>/reports/a"}, {"name": "b", ...}]',
            )
        names = [str(m.get("name", "")) if isinstance(m, dict) else "" for m in models]
        if "" in names or any(not isinstance(m, dict) or not m.get("report_path") for m in models):
            raise ConfigError("each general_arena model needs a 'name' and a 'report_path'.")
        if len(set(names)) != len(names):
            raise ConfigError(f"general_arena model names must be unique: {names}")
        baseline = str(params.get("baseline") or names[0])
        if baseline not in names:
            raise UnknownNameError(
                "general_arena baseline", baseline, names, hint="the baseline must be one of the models"
            )
        schedule = str(params.get("schedule", "baseline")).replace("×", "x").lower()
        if schedule not in SCHEDULES:
            raise UnknownNameError("general_arena schedule", schedule, SCHEDULES)
        spec = cls(
            models=[{"name": str(m["name"]), "report_path": str(m["report_path"])} for m in models],
            baseline=baseline,
            schedule=schedule,
            candidates=[str(c) for c in params.get("candidates") or []],
            opponents=[str(c) for c in params.get("opponents") or []],
            bootstrap_rounds=int(params.get("bootstrap_rounds", 100)),
        )
        for role in ("candidates", "opponents"):
            for name in getattr(spec, role):
                if name not in names:
                    raise UnknownNameError(f"general_arena {role[:-1]}", name, names)
        if schedule == "mxn" and not (spec.candidates and spec.opponents):
            raise ConfigError("schedule 'mxn' needs extra_params.candidates and extra_params.opponents.")
        return spec

    def pairs(self) -> list[tuple[str, str]]:
        """(candidate, opponent) matches; each is judged in both orders unless position_swap is off."""
        names = [m["name"] for m in self.models]
        if self.schedule == "all_pairs":
            return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
        if self.schedule == "mxn":
            return [(a, b) for a in self.candidates for b in self.opponents if a != b]
        return [(a, self.baseline) for a in names if a != self.baseline]

    def to_id(self) -> str:
        return PREFIX + json.dumps(self.__dict__, sort_keys=True)

    @classmethod
    def from_id(cls, dataset_id: str) -> ArenaSpec:
        return cls(**json.loads(dataset_id[len(PREFIX) :]))


@dataclass
class _Answer:
    question: str
    answer: str


def _run_of(model: dict[str, str]) -> tuple[Path, str]:
    """(run folder, model folder name) of a `report_path` (`<run>/reports/<model>`); errors name the fix."""
    path = Path(model["report_path"])
    if not path.is_dir():
        raise ConfigError(
            f"general_arena model {model['name']!r}: report_path {path} is not a folder.",
            hint="use the folder a run wrote its reports to: outputs/<timestamp>/reports/<model>",
        )
    if path.parent.name != "reports" or not list(path.glob("*.json")):
        raise ConfigError(
            f"general_arena model {model['name']!r}: {path} is not a run's reports/<model> folder "
            "(no report .json files in a folder named reports).",
            hint="run the model first (e.g. general_qa on your prompts), then point report_path at "
            "outputs/<timestamp>/reports/<model>",
        )
    return path.parent.parent, path.name


def _answers(model: dict[str, str]) -> dict[tuple[str, str, str], _Answer]:
    run_dir, folder = _run_of(model)
    out: dict[tuple[str, str, str], _Answer] = {}
    for report in sorted(Path(model["report_path"]).glob("*.json")):
        reviews = run_dir / "reviews" / folder / f"{report.stem}.jsonl"
        if not reviews.is_file():
            raise ConfigError(f"general_arena model {model['name']!r}: {report} has no reviews at {reviews}.")
        for _, rec in iter_jsonl(reviews):
            if rec.get("error") is not None or rec.get("prediction") is None:
                continue
            messages = [ChatMessage.model_validate(m) for m in rec.get("input") or []]
            out[(report.stem, str(rec["subset"]), str(rec["id"]))] = _Answer(
                _question(messages), rec["prediction"]
            )
    return out


def _question(messages: list[ChatMessage]) -> str:
    """The conversation the answer replies to: the user's text, or every turn when there are several."""
    if len(messages) == 1:
        return messages[0].content
    return "\n\n".join(f"**{m.role.capitalize()}**: {m.content}" for m in messages)


class ArenaLoader:
    """Builds the battle records of an `arena:` data source (every subset in one split)."""

    def load(self, source: DataSource) -> LoadedSplit:
        spec = ArenaSpec.from_id(source.dataset_id)
        answers = {m["name"]: _answers(m) for m in spec.models}
        shared = set.intersection(*(set(a) for a in answers.values()))
        every = set.union(*(set(a) for a in answers.values()))
        if not shared:
            raise ConfigError(
                "general_arena: the models share no answered question (compare the same benchmark, "
                "subset and sample ids: run each model on the same query file).",
                hint=", ".join(f"{name}: {len(a)} answers" for name, a in answers.items()),
            )
        records = []
        for a, b in spec.pairs():
            for dataset, subset, qid in sorted(shared):
                first, second = answers[a][(dataset, subset, qid)], answers[b][(dataset, subset, qid)]
                records.append({
                    "question": first.question, "answer_1": first.answer, "answer_2": second.answer,
                    "model_1": a, "model_2": b, "dataset": dataset, "subset": subset, "question_id": qid,
                    "bootstrap_rounds": spec.bootstrap_rounds,
                })  # fmt: skip
        skipped = sorted("/".join(k) for k in every - shared)
        if records:  # the questions left out travel with the first battle, for the report
            records[0]["skipped_questions"] = skipped
        return LoadedSplit(
            records=records, origin=f"arena of {len(spec.models)} models", extra={"skipped": skipped}
        )
