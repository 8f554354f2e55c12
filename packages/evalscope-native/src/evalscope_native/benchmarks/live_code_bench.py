"""LiveCodeBench (code generation, lite): competitive-programming problems judged on their test cases.

Matches EvalScope 1.14.1's ``live_code_bench``: its system prompt and ``### Question`` / ``### Format``
user prompt verbatim, the code between the reply's last two lines holding a fence, public + private
test cases (stdin cases for AtCoder/Codeforces, functional ``class Solution`` cases for LeetCode),
6 s per case, LiveCodeBench's output comparison, and the ``start_date`` / ``end_date`` filters of
``extra_params``. A completion passes when every case passes. What differs (each case runs in its
own bubblewrap sandbox and is judged on the host; private tests are unpickled safely) is listed in
docs/benchmarks/code.md.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from evalscope.config import DatasetArgs
from evalscope.contracts import ChatMessage, Sample
from evalscope.errors import ConfigError, closest
from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks import live_code_bench_data as data
from evalscope_native.benchmarks.code_extraction import extract_last_fenced_block
from evalscope_native.benchmarks.humaneval import CodeBenchmark
from evalscope_native.benchmarks.live_code_bench_cases import IMPORT_PRELUDE, TestCase, parse_cases, run_cases

#: EvalScope's review_timeout: seconds per test case
CASE_TIMEOUT_S = 6
EXTRA_PARAMS = ("start_date", "end_date", "debug")


@functools.lru_cache(maxsize=16)
def _decoded_cases(public: str, private: str, functional: bool) -> tuple[TestCase, ...]:
    """All cases of one problem, public first (as EvalScope orders them); memoised for n completions.

    The raw strings are the key: Python caches a str's hash, so the lookup costs nothing after the
    first one, and only the compressed form stays in memory for the whole dataset.
    """
    cases = parse_cases(public, functional=functional, field="public_test_cases")
    cases += parse_cases(data.decode_private(private), functional=functional, field="private_test_cases")
    return tuple(cases)


class LiveCodeBench(CodeBenchmark):
    prompt_template = data.PROMPT_TEMPLATE
    timeout_s = CASE_TIMEOUT_S

    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None, seed: int | None = None) -> None:
        super().__init__(spec, args, seed)
        params = self.args.extra_params
        unknown = sorted(set(params) - set(EXTRA_PARAMS))
        if unknown:
            hints = "; ".join(
                f"{k!r}" + (f" (did you mean {h[0]!r}?)" if (h := closest(k, EXTRA_PARAMS)) else "")
                for k in unknown
            )
            raise ConfigError(
                f"Unknown extra_params for {spec.name}: {hints}.",
                hint=f"Valid keys: {', '.join(EXTRA_PARAMS)}",
            )
        try:
            self.start_date = data.parse_day(params.get("start_date"), "start_date")
            self.end_date = data.parse_day(params.get("end_date"), "end_date")
        except ValueError as exc:
            raise ConfigError(
                f"{spec.name}: {exc}.",
                hint='e.g. --dataset-args \'{"live_code_bench": {"extra_params": {"start_date": "2024-08-01"}}}\'',
            ) from None
        self.debug = bool(params.get("debug", False))
        self.check_prompt_template(
            "use {question_content} (the problem) and {format_prompt} (the starter code / stdin instruction)",
            question_content="",
            format_prompt="",
        )
        #: the raw test-case fields per sample, decoded when the sample is scored (see _decoded_cases)
        self._raw_cases: dict[tuple[str, str], tuple[str, str]] = {}

    def keep_record(self, record: dict[str, Any], subset: str) -> bool:
        if self.start_date is None and self.end_date is None:
            return True
        return data.in_date_range(
            data.contest_datetime(record["contest_date"]), self.start_date, self.end_date
        )

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        meta = record.get("metadata") or "{}"
        extra = json.loads(meta) if isinstance(meta, str) else dict(meta)
        fn_name = str(extra.get("func_name") or "")
        public, private = record["public_test_cases"], record["private_test_cases"]
        public = public if isinstance(public, str) else json.dumps(public)
        private = private if isinstance(private, str) else json.dumps(private)
        # Decoding here (not only when scoring) finds a broken or unsafe row before any request,
        # reported with its file and line.
        cases = _decoded_cases(public, private, bool(fn_name))
        if not cases:
            raise ValueError(
                "the problem has no test cases (public_test_cases and private_test_cases are empty)"
            )
        sample_id = str(record.get("question_id") or f"{subset}/{index}")
        self._raw_cases[(subset, sample_id)] = (public, private)
        return Sample(
            id=sample_id,
            input=record["question_content"],
            target="",
            subset=subset,
            metadata={
                "question_id": sample_id,
                "question_title": str(record.get("question_title") or ""),
                "platform": str(record.get("platform") or ""),
                "difficulty": str(record.get("difficulty") or ""),
                "contest_date": str(record["contest_date"]),
                "starter_code": str(record.get("starter_code") or ""),
                "fn_name": fn_name,
                "num_test_cases": len(cases),
            },
        )

    def format_prompt(self, sample: Sample, fewshot: str | None) -> str:
        return self.prompt_template.format(
            question_content=sample.input, format_prompt=data.format_prompt(sample.metadata["starter_code"])
        )

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        """EvalScope's system prompt unless the user gives one (an empty one drops it)."""
        system = self.args.system_prompt if self.args.system_prompt is not None else data.SYSTEM_PROMPT
        messages = [ChatMessage(role="system", content=system)] if system else []
        return messages + [ChatMessage(role="user", content=self.format_prompt(sample, None))]

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        return extract_last_fenced_block(prediction)

    def cases_for(self, sample: Sample) -> list[TestCase]:
        public, private = self._raw_cases[(sample.subset, sample.id)]
        return list(_decoded_cases(public, private, bool(sample.metadata["fn_name"])))

    def execute(self, extracted: str, sample: Sample) -> bool:
        cases = self.cases_for(sample)
        if not extracted.strip():  # nothing to run: say why instead of failing case 0 on empty output
            summary = no_code_summary(len(cases), sample.metadata["fn_name"], self.isolation)
        else:
            summary = run_cases(
                extracted,
                cases,
                fn_name=sample.metadata["fn_name"],
                prelude=IMPORT_PRELUDE,
                limits=self.limits(),
                isolation=self.isolation,
                cache=self.cache,
            )
        sample.metadata.setdefault("executions", []).append(summary)
        return bool(summary["status"] == "passed")

    def report_extra(self) -> dict[str, Any]:
        dates = {"start_date": self.start_date, "end_date": self.end_date}
        return super().report_extra() | {k: v.date().isoformat() for k, v in dates.items() if v is not None}


def no_code_summary(cases: int, fn_name: str, isolation: str) -> dict[str, Any]:
    """The execution summary of a reply without code (shaped as ``run_cases``'s, nothing ran)."""
    return {
        "kind": "functional" if fn_name else "stdin",
        "status": "failed",
        "detail": "no code: the reply has no two lines with ``` (the code is taken from between the last two)",
        "cases_total": cases,
        "cases_passed": 0,
        "case_statuses": [],
        "first_failure": None,
        "wall_s": 0.0,
        "isolation": isolation,
        "cached": False,
    }
