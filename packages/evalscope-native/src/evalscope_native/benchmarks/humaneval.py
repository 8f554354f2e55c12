"""HumanEval: 164 hand-written Python functions, scored by running their tests in the sandbox.

Matches EvalScope 1.14.1: the same prompt, the first fenced block (else the bare reply) as the
completion, and the check program ``prompt + completion + "\\n" + test + "\\n" + check(entry_point)``.
EvalScope runs it with ``exec`` in one process (or Docker), where the completion can reach the
comparison: a returned object whose ``__eq__`` is always true passes 157 of 164 tasks there. We run
it in ``evalscope_native.sandbox`` as a *checked* run: ``prompt + completion`` in the candidate's
process, ``test`` + ``check(entry_point)`` in a separate checker (with the prompt's helpers) that
receives every return value by value; a pass needs the checker to run the tests to their end.
"""

from __future__ import annotations

import os
from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs
from evalscope.contracts import Sample
from evalscope.errors import ConfigError
from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks.code_extraction import extract_code
from evalscope_native.sandbox.checked import CheckedProgram
from evalscope_native.sandbox.result import Isolation

PROMPT = (
    "Read the following function signature and docstring, and fully implement the function described. "
    "Your response should only contain the code for this function.\n{question}"
)
#: EvalScope's review_timeout: seconds of execution per program
REVIEW_TIMEOUT_S = 4
#: kept in the score path: enough of stderr to see the failing assert or exception
STDERR_KEEP = 2000


def require_sandbox() -> Isolation:
    """The isolation the sandbox will use; a missing sandbox is a ConfigError before any request."""
    from evalscope_native.sandbox import SandboxUnavailable, choose_isolation

    try:
        return choose_isolation()
    except SandboxUnavailable as exc:
        raise ConfigError(
            f"Code benchmarks run model-written programs and need the sandbox: {exc}",
            hint="Install bubblewrap (./scripts/install.sh) or, for trusted code only, set EVALSCOPE_SANDBOX=weak.",
        ) from exc


def check_program(prompt: str, completion: str, test: str, entry_point: str) -> CheckedProgram:
    """EvalScope's check program (prompt, completion, test, ``check(entry_point)``), split in two.

    The candidate's process runs ``prompt + completion``. The checker runs the prompt (trusted: it
    defines the helpers some tests use, e.g. ``poly``, ``encode_cyclic``), then the test and
    ``check(entry_point)`` with ``entry_point`` bound to the candidate's function.
    """
    return CheckedProgram(
        program=prompt + completion,
        tests=test + "\n" + f"check({entry_point})",
        setup=prompt,
        remote=(entry_point,),
    )


def shorten(text: str, keep: int = STDERR_KEEP) -> str:
    """Head and tail of a long stream: the traceback's start and the exception line's end both show."""
    if len(text) <= keep:
        return text
    half = keep // 2 - 8
    return text[:half] + "\n[...]\n" + text[-half:]


def execution_summary(result: Any) -> dict[str, Any]:
    """The JSON-friendly part of a SandboxResult kept with the sample (status, short stderr)."""
    return {
        "status": result.status,
        "exit_code": result.exit_code,
        "detail": result.detail,
        "stderr": shorten(result.stderr),
        "wall_s": round(result.wall_s, 4),
        "isolation": result.isolation,
    }


class CodeBenchmark(Benchmark):
    """Runs ``program_for(code, sample)`` (a checked run) in the sandbox; ``acc`` is 1 when it passed.

    Results are cached by the hash of (program, tests, limits, isolation) (`SandboxCache`, under
    `$EVALSCOPE_CACHE_DIR/sandbox`), and samples are scored on one thread per core: each waits on its
    own sandbox process, so n completions per task run in parallel.
    """

    timeout_s: float = REVIEW_TIMEOUT_S
    scoring_workers = os.cpu_count() or 1

    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None, seed: int | None = None) -> None:
        super().__init__(spec, args, seed)
        self.isolation: Isolation = require_sandbox()
        from evalscope_native.sandbox import SandboxCache

        self.cache = SandboxCache()

    def limits(self) -> Any:
        """CPU time bounds the program like EvalScope's timeout; the wall clock allows for a loaded host."""
        from evalscope_native.sandbox import SandboxLimits

        return SandboxLimits(timeout_s=self.timeout_s * 2, cpu_s=max(1, int(self.timeout_s)))

    def report_extra(self) -> dict[str, Any]:
        return {"sandbox_isolation": self.isolation}

    def program_for(self, code: str, sample: Sample) -> CheckedProgram:
        raise NotImplementedError

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        return extract_code(prediction, sample.input)

    def execute(self, extracted: str, sample: Sample) -> bool:
        """Run the program and its tests in the sandbox (the `code_execution` scorer's verdict);
        the execution is recorded in `sample.metadata["executions"]`."""
        result = self.run_checked(self.program_for(extracted, sample))
        summary = execution_summary(result) | {"cached": result.cached}
        sample.metadata.setdefault("executions", []).append(summary)
        return result.passed

    def run_checked(self, case: CheckedProgram) -> Any:
        """One checked run with this benchmark's limits, isolation and verdict cache."""
        from evalscope_native.sandbox import run_checked

        return run_checked(case, limits=self.limits(), isolation=self.isolation, cache=self.cache)


class HumanEval(CodeBenchmark):
    prompt_template = PROMPT

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(
            id=record["task_id"],
            input=record["prompt"],
            target=record["canonical_solution"],
            subset=subset,
            metadata={
                "task_id": record["task_id"],
                "entry_point": record["entry_point"],
                "prompt": record["prompt"],
                "test": record["test"],
            },
        )

    def program_for(self, code: str, sample: Sample) -> CheckedProgram:
        meta = sample.metadata
        return check_program(meta["prompt"], code, meta["test"], meta["entry_point"])
