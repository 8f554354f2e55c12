"""code_tests: your own code problems (prompt + tests), scored in the sandbox like HumanEval.

Each row has ``prompt`` (shown to the model as is, or through ``prompt_template``) and its tests:
``tests`` (trusted Python run after the code, e.g. asserts or a ``def check(candidate)``) and/or
``test_cases`` (LiveCodeBench-style input/output cases: a list of ``{"input", "output"}``, or that
list as JSON text in a csv cell). Cases are stdin cases (the program reads ``input`` on stdin, its
stdout must match ``output`` line by line) unless the row names ``fn_name``: then each case calls
that function (a ``Solution()`` method when the code defines ``class Solution``) with the JSON
arguments on ``input``'s lines and compares the return value with the JSON ``output``. The host
judges the cases (see ``live_code_bench_cases``); a completion passes when the asserts and every
case pass.

Optional: ``entry_point`` (then ``check(<entry_point>)`` is called after the tests, HumanEval-style)
and ``setup`` (run before the code: imports, helpers). A bare completion that continues a
function-signature prompt is completed with the prompt: when ``entry_point`` is given and the
extracted code does not define it, the prompt is put in front (as HumanEval always does).

The ``tests`` run as a checked run: in a checker process of their own, with ``setup``, where the
names they use but do not define (and ``entry_point``, and the top-level names of a
``canonical_solution`` they use, even builtins) are the candidate's, whose values arrive by value.
"""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.code_extraction import defines
from evalscope_native.benchmarks.humaneval import CodeBenchmark, execution_summary
from evalscope_native.benchmarks.live_code_bench_cases import TestCase, parse_cases, run_cases
from evalscope_native.sandbox.checked import CheckedProgram, defined_names, read_names


class CodeTests(CodeBenchmark):
    prompt_template = "{question}"

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        entry_point = record.get("entry_point") or ""
        fn_name = str(record.get("fn_name") or "")
        cases = parse_cases(record.get("test_cases"), functional=bool(fn_name))
        tests = record.get("tests") or ""
        if not tests and not cases:
            raise ValueError(
                "a code_tests row needs `tests` (Python asserts run after the code) and/or `test_cases` "
                '(a list of {"input": ..., "output": ...}, JSON text in a csv cell)'
            )
        return Sample(
            id=str(record.get("id") or record.get("task_id") or f"{subset}/{index}"),
            input=record["prompt"],
            target=str(record.get("canonical_solution") or ""),
            subset=subset,
            metadata={
                "tests": tests,
                "entry_point": str(entry_point),
                "setup": str(record.get("setup") or ""),
                "fn_name": fn_name,
                "test_cases": [{"input": c.input, "output": c.output} for c in cases],
            },
        )

    def candidate_code(self, code: str, sample: Sample) -> str:
        """The set-up code and the model's code (after the prompt, for a bare signature completion)."""
        meta = sample.metadata
        entry_point = meta["entry_point"]
        if entry_point and not defines(code, entry_point):
            code = sample.input + code
        return "\n".join(p for p in (meta["setup"], code) if p)

    def program_for(self, code: str, sample: Sample) -> CheckedProgram:
        """The candidate's code in its process; the tests (and ``check(entry_point)``) in the checker."""
        meta = sample.metadata
        entry_point = meta["entry_point"]
        tests = meta["tests"] + (f"\ncheck({entry_point})" if entry_point else "")
        remote = {entry_point} if entry_point else set()
        if isinstance(sample.target, str) and sample.target:
            # A builtin the reference solution redefines (a function named `sum`) is the candidate's too.
            remote |= defined_names(sample.target) & (read_names(tests) | read_names(meta["setup"]))
        return CheckedProgram(
            program=self.candidate_code(code, sample),
            tests=tests,
            setup=meta["setup"],
            remote=tuple(sorted(remote)),
        )

    def execute(self, extracted: str, sample: Sample) -> bool:
        meta = sample.metadata
        cases = [TestCase(c["input"], c["output"]) for c in meta.get("test_cases") or []]
        if not cases:
            return super().execute(extracted, sample)
        asserts: dict[str, Any] | None = None
        if meta["tests"]:
            asserts = self._run_asserts(extracted, sample)
        if asserts is not None and asserts["status"] != "passed":
            # The asserts failed: the cases are not run (as a failing case stops the later ones).
            summary = asserts | {"cases_total": len(cases), "cases_passed": 0, "case_statuses": []}
        else:
            summary = run_cases(
                self.candidate_code(extracted, sample),
                cases,
                fn_name=meta["fn_name"],
                limits=self.limits(),
                isolation=self.isolation,
                cache=self.cache,
            )
        if asserts is not None:
            summary["asserts"] = asserts
        sample.metadata.setdefault("executions", []).append(summary)
        return bool(summary["status"] == "passed")

    def _run_asserts(self, extracted: str, sample: Sample) -> dict[str, Any]:
        result = self.run_checked(self.program_for(extracted, sample))
        return execution_summary(result) | {"cached": result.cached}
