"""The benchmarks the harness compares: one `Entry` per benchmark that both engines have.

Adding a benchmark is one entry. Most need only the name; the fields exist for the ways the two
engines legitimately differ in how they *find* data (never in how they score it):

* `args` go to both engines (e.g. GSM8K's `few_shot_num: 0`, because the shared data has no
  train split to draw the 4 examples from);
* `their_aggregate` names the one config EvalScope loads and splits by a field of each record
  (its `reformat_subset` benchmarks: MMLU loads `all`, CMMLU and MATH-500 load `default`);
* `their_record` rewrites a record into the field names of the hub copy EvalScope reads when the
  shared data follows another hub's schema (CMMLU: `haonan-li/cmmlu` here, `evalscope/cmmlu` there);
* `their_texts` hands us the prompt texts EvalScope ships inside its package, which our fixture only
  imitates: BBH's chain-of-thought examples (a dict `task -> text`) are written, one `<task>.txt`
  each, into a temporary folder named to our adapter by that `extra_params` key.

An entry whose benchmark is missing from either engine is skipped with a note, so entries for
benchmarks still being written can sit here ahead of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Entry", "ENTRIES", "by_name"]

Record = dict[str, Any]


@dataclass(frozen=True)
class Entry:
    name: str  # our benchmark name (`evalscope list`)
    theirs: str = ""  # EvalScope 1.14.1's name; default: the same
    data: str = ""  # folder under the data dir, or a repo-relative path; default: `name`
    family: str = ""  # reply family (replies.FORMATS); default: guessed from each sample
    args: Mapping[str, Any] = field(default_factory=dict)  # dataset_args for both engines
    their_args: Mapping[str, Any] = field(default_factory=dict)  # EvalScope only
    their_aggregate: str = ""  # EvalScope reads one config of this name holding every subset
    their_subsets: Mapping[str, str] = field(default_factory=dict)  # our subset -> their config name
    their_as_is: bool = False  # the data is in EvalScope's own custom-dataset layout already
    their_record: Callable[[Record, str], Record] | None = None  # (record, subset) -> their fields
    their_texts: tuple[str, str] = ("", "")  # ("module:DICT" in EvalScope, our extra_params key): see below
    metrics: Mapping[str, str] = field(default_factory=dict)  # our metric -> their score key
    label: str = ""  # the row name when one benchmark has several entries (other args)
    note: str = ""

    @property
    def their_name(self) -> str:
        return self.theirs or self.name

    @property
    def key(self) -> str:
        return self.label or self.name

    @property
    def data_name(self) -> str:
        return self.data or self.name


def _cmmlu_record(record: Record, subset: str) -> Record:
    """haonan-li/cmmlu (Question, A-D, Answer) → evalscope/cmmlu (question, '(A) …' choices, '(B)')."""
    return {
        "question": record["Question"],
        "choices": [f"({x}) {record[x]}" for x in "ABCD"],
        "answer": f"({record['Answer']})",
        "category": subset,
    }


FIXTURES = "packages/evalscope-native/tests/fixtures"

ENTRIES: tuple[Entry, ...] = (
    Entry("gsm8k", args={"few_shot_num": 0}, note="0-shot: the shared data has no train split"),
    Entry("arc"),
    Entry("mmlu", their_aggregate="all"),
    Entry("cmmlu", their_aggregate="default", their_record=_cmmlu_record),
    Entry("truthful_qa", data="truthfulqa"),
    Entry("math_500", data="math500", family="math"),
    Entry("ifeval", family="free"),
    # Benchmarks whose only copy here is a small fixture in the hub's schema: few samples, so several rounds.
    Entry(
        "hellaswag",
        data=f"{FIXTURES}/hellaswag",
        note="the shared copy lacks ctx_a/ctx_b, which EvalScope reads",
    ),
    Entry("ceval", data=f"{FIXTURES}/ceval"),
    Entry("mmlu_pro", data=f"{FIXTURES}/mmlu_pro", args={"subset_list": ["computer science", "math"]}),
    Entry("mmlu_redux", data=f"{FIXTURES}/mmlu_redux"),
    Entry("gpqa_diamond", data=f"{FIXTURES}/gpqa_diamond", their_subsets={"gpqa_diamond": "default"}),
    Entry("race", data=f"{FIXTURES}/race"),
    Entry("boolq", data=f"{FIXTURES}/boolq"),
    Entry("winogrande", data=f"{FIXTURES}/winogrande"),
    Entry("competition_math", data=f"{FIXTURES}/competition_math", family="math"),
    Entry("aime24", data=f"{FIXTURES}/aime24", family="math"),
    Entry("aime25", data=f"{FIXTURES}/aime25", family="math"),
    Entry(
        "bbh",
        data=f"{FIXTURES}/bbh",
        their_texts=("evalscope.benchmarks.bbh.cot_prompts:COT_PROMPTS", "cot_prompts_dir"),
    ),
    Entry("trivia_qa", data=f"{FIXTURES}/trivia_qa"),
    Entry("drop", data=f"{FIXTURES}/drop"),
    # Not the fixture's `other` subset: EvalScope 1.14.1 crashes on its numeric options (docs/fidelity.md).
    Entry(
        "general_mcq",
        data=f"{FIXTURES}/general_mcq",
        their_as_is=True,
        args={"subset_list": ["example"]},
    ),
    Entry(
        "general_mcq",
        label="general_mcq (multiple_correct)",
        data=f"{FIXTURES}/general_mcq",
        their_as_is=True,
        args={"subset_list": ["multi"], "extra_params": {"multiple_correct": True}},
    ),
    Entry("general_qa", data=f"{FIXTURES}/general_qa", their_as_is=True, args={"subset_list": ["example"]}),
)


def by_name(names: list[str] | None = None) -> list[Entry]:
    """The entries asked for by benchmark name or label (all when `names` is empty); unknown ones fail."""
    if not names:
        return list(ENTRIES)
    missing = [n for n in names if not any(n in (e.name, e.key) for e in ENTRIES)]
    if missing:
        raise SystemExit(f"no fidelity entry for {missing}; known: {sorted(e.key for e in ENTRIES)}")
    return [e for n in names for e in ENTRIES if n in (e.name, e.key)]
