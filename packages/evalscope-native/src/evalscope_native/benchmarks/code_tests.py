"""code_tests: your own code problems (prompt + tests), scored in the sandbox like HumanEval.

Each row has ``prompt`` (shown to the model as is, or through ``prompt_template``) and ``tests``
(trusted Python run after the code, e.g. asserts or a ``def check(candidate)``); optional
``entry_point`` (then ``check(<entry_point>)`` is called after the tests, HumanEval-style) and
``setup`` (run before the code: imports, helpers). A bare completion that continues a
function-signature prompt is completed with the prompt: when ``entry_point`` is given and the
extracted code does not define it, the prompt is put in front (as HumanEval always does).
"""

from __future__ import annotations

from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.code_extraction import defines
from evalscope_native.benchmarks.humaneval import CodeBenchmark


class CodeTests(CodeBenchmark):
    prompt_template = "{question}"

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        entry_point = record.get("entry_point") or ""
        return Sample(
            id=str(record.get("id") or record.get("task_id") or f"{subset}/{index}"),
            input=record["prompt"],
            target=str(record.get("canonical_solution") or ""),
            subset=subset,
            metadata={
                "tests": record["tests"],
                "entry_point": str(entry_point),
                "setup": str(record.get("setup") or ""),
            },
        )

    def program_for(self, code: str, sample: Sample) -> str:
        meta = sample.metadata
        entry_point = meta["entry_point"]
        if entry_point and not defines(code, entry_point):
            code = sample.input + code
        parts = [meta["setup"], code, meta["tests"]]
        if entry_point:
            parts.append(f"check({entry_point})")
        return "\n".join(p for p in parts if p)
