"""`general_arena`: models compared on the answers earlier runs recorded, by an LLM judge (EvalScope).

`--datasets general_arena --dataset-args '{"general_arena": {"extra_params": {"models": [...],
"baseline": "..."}}}'` with a judge (`--judge-model-args`). The model of the run itself is a stand-in
(`--model mock_llm`): its reply is ignored, the sample's "answer" is `model_1`'s recorded answer and
its target `model_2`'s. Pairs come from the schedule (`arena/sources.py`); each pair is judged with
Arena-Hard's prompts, the candidate first and then swapped, unless `system_prompt` /
`prompt_template` replace the judge's (EvalScope's keys; the template fills `{question}`,
`{answer_1}`, `{answer_2}`).

Report (EvalScope's layout): rows `winrate`, `winrate_lower`, `winrate_upper` per subset named
`<dataset>&<subset>@<model>&<opponent>`, each model's pooled figure as its category, and
`extra["arena"]` with the leaderboard (Bradley-Terry ratings, win rates and intervals, Elo, the
length-controlled rating) overall, per dataset and per subset; next to the report,
`leaderboard.txt` and `battles.jsonl` (every judgment in both orders).
"""

from __future__ import annotations

from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.contracts import ChatMessage, Sample
from evalscope.report import Report

from evalscope_native.arena.sources import ArenaSpec

__all__ = ["GeneralArena"]


class GeneralArena(Benchmark):
    prompt_template = "{question}"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arena = ArenaSpec.from_params(dict(self.args.extra_params))  # bad input fails here, at plan time
        # EvalScope's general_arena keys: these shape the JUDGE's prompt, not the stand-in model's.
        self.judge_system_prompt = self.args.system_prompt
        self.judge_template = self.args.prompt_template

    @property
    def dataset_id(self) -> str:
        return self.arena.to_id()

    def subsets(self) -> list[str]:
        return ["default"]  # every pair's battles load at once; each sample names its own subset

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        a, b = record["model_1"], record["model_2"]
        meta = {k: record[k] for k in ("model_1", "model_2", "answer_1", "answer_2", "dataset", "subset",
                                        "question_id", "bootstrap_rounds")}  # fmt: skip
        meta["baseline"] = self.arena.baseline
        if "skipped_questions" in record:
            meta["skipped_questions"] = record["skipped_questions"]
        return Sample(
            id=f"{record['dataset']}/{record['subset']}/{record['question_id']}@{a}&{b}",
            input=record["question"],
            target=record["answer_2"],
            subset=f"{record['dataset']}&{record['subset']}@{a}&{b}",
            metadata=meta,
        )

    def category_of(self, subset: str) -> str:
        return subset.rsplit("@", 1)[-1].split("&", 1)[0]  # the candidate: its battles pool into one figure

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        # No system prompt here: in general_arena it belongs to the judge.
        return [ChatMessage(role="user", content=self.format_prompt(sample, None))]

    def format_prompt(self, sample: Sample, fewshot: str | None) -> str:
        return str(sample.input)

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        return str(sample.metadata["answer_1"])  # the recorded answer, not the stand-in model's

    def finalize_report(self, report: Report, records: Any) -> Report:
        from evalscope_native.arena.results import leaderboard

        board = leaderboard(list(records), self.seed or 0)
        # EvalScope's rows are `winrate`, `winrate_lower`, `winrate_upper`: a Bradley-Terry figure is
        # not a mean, so the report's usual `mean_` prefix would misname it.
        metrics = [m.model_copy(update={"name": m.name.removeprefix("mean_")}) for m in report.metrics]
        return report.model_copy(update={"metrics": metrics, "extra": {**report.extra, "arena": board}})

    def report_files(self, report: Report, records: Any) -> dict[str, str]:
        from evalscope_native.arena.results import battles_file, leaderboard_text

        return {
            "leaderboard.txt": leaderboard_text(report.extra.get("arena") or {}),
            "battles.jsonl": battles_file(list(records)),
        }
