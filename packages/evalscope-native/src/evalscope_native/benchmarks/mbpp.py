"""MBPP (Mostly Basic Python Problems), full and sanitized, scored by running the asserts in the sandbox.

Matches EvalScope 1.14.1's `mbpp` adapter: the same zero-shot and fixed 3-shot prompts (the 3-shot
examples are baked into the template, so the few-shot split only switches the template on), the same
code extraction (cut at `[DONE]`, first fenced block, else first heuristic `def`/`class` block, cut
at stop words and at `if __name__ ==`), and a pass when the extracted code plus the task's set-up code
plus its `test_list` asserts run to the end. The asserts run as a checked run (as HumanEval's): in a
checker process of their own that receives the values the code returns by value. EvalScope only
knows the `full` subset; `sanitized` (whose records carry `prompt` and `test_imports` instead of
`text` and `test_setup_code`) is ours.
"""

from __future__ import annotations

import re
from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.contracts import Sample

from evalscope_native.sandbox.checked import CheckedProgram, defined_names, read_names

#: EvalScope's timeout for one MBPP program (`review_timeout`)
TIMEOUT_S = 20.0

_EXAMPLES = (
    "You are an expert Python programmer, and here is your task: Write a function to find the similar "
    "elements from the given two tuple lists. Your code should pass these tests:\n\n"
    "assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)\n"
    "assert similar_elements((1, 2, 3, 4),(5, 4, 3, 7)) == (3, 4)\n"
    "assert similar_elements((11, 12, 14, 13),(17, 15, 14, 13)) == (13, 14)\n"
    "[BEGIN]\n"
    "def similar_elements(test_tup1, test_tup2):\r\n"
    "  res = tuple(set(test_tup1) & set(test_tup2))\r\n"
    "  return (res)\n"
    "[DONE]\n"
    "You are an expert Python programmer, and here is your task: Write a python function to identify "
    "non-prime numbers. Your code should pass these tests:\n\n"
    "assert is_not_prime(2) == False\n"
    "assert is_not_prime(10) == True\n"
    "assert is_not_prime(35) == True\n"
    "[BEGIN]\n"
    "import math\r\n"
    "def is_not_prime(n):\r\n"
    "    result = False\r\n"
    "    for i in range(2,int(math.sqrt(n)) + 1):\r\n"
    "        if n % i == 0:\r\n"
    "            result = True\r\n"
    "    return result\n"
    "[DONE]\n"
    "You are an expert Python programmer, and here is your task: Write a function to find the largest "
    "integers from a given list of numbers using heap queue algorithm. Your code should pass these tests:\n\n"
    "assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],3)==[85, 75, 65]\n"
    "assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],2)==[85, 75]\n"
    "assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],5)==[85, 75, 65, 58, 35]\n"
    "[BEGIN]\n"
    "import heapq as hq\r\n"
    "def heap_queue_largest(nums,n):\r\n"
    "  largest_nums = hq.nlargest(n, nums)\r\n"
    "  return largest_nums\n"
    "[DONE]\n"
)
PROMPT = (
    "You are an expert Python programmer, and here is your task: {question} Your code should pass these tests:\n\n"
    "{tests}"
)
FEW_SHOT_PROMPT = _EXAMPLES + PROMPT + "\n[BEGIN]\n"

_FENCED = re.compile(r"```([^\n]*)\n(.*?)\n\s*```", re.DOTALL)
_OPEN_FENCE = re.compile(r"```([^\n]*)\n(.*)", re.DOTALL)
_PY_BLOCK = re.compile(r"(?:^(?:import|from|#)[^\n]+\n)*^(?:def|class) [^\n]+\n(?:\s+[^\n]+\n)+", re.M)
_STOP_WORDS = ("\nassert", '\n"""')


def first_code_block(completion: str) -> str:
    """EvalScope's `extract_code_from_freeform_completion(..., 'python', first_block_only=True)`.

    The first complete fenced block; else the first unterminated one (a truncated reply); else the
    first run of imports/comments + a `def`/`class` with its indented body, blank lines dropped.
    Only the first block counts, so a bare reply with two top-level functions keeps only the first,
    as in EvalScope. Then `\\r` is removed and the code is cut at `if __name__ == "__main__":` and
    at `# Example usage`.
    """
    blocks = [m.group(2) for m in _FENCED.finditer(completion)]
    if not blocks:
        blocks = [m.group(2) for m in _OPEN_FENCE.finditer(completion)]
    if not blocks:
        dense = "\n".join(line for line in completion.split("\n") if line.strip()) + "\n"
        blocks = _PY_BLOCK.findall(dense)
    code = blocks[0].replace("\r", "") if blocks else ""
    for marker in ('if __name__ == "__main__":', "# Example usage"):
        if marker in code:
            code = code[: code.index(marker)].strip()
    return code


def extract_mbpp_code(completion: str, setup_code: str) -> str:
    """The program to test: set-up code + the reply's code, as EvalScope's `extract_answer` builds it."""
    if "[DONE]" in completion:
        completion = completion[: completion.index("[DONE]")]
    code = first_code_block(completion)
    for stop in _STOP_WORDS:
        if stop in code:
            code = code[: code.index(stop)]
    code = "\n".join([setup_code, code])
    if "if __name__ ==" in code:
        code = code[: code.index("if __name__ ==")]
    return code


def check_program(code: str, sample: Sample) -> CheckedProgram:
    """EvalScope's program (the code, then `'\\n' + test + '\\n'` for each assert), split in two.

    The code runs in the candidate's process; the set-up code and the asserts in the checker. The
    names the asserts call are the candidate's: every name they use that they do not define, and
    the top-level names of the reference code they use even when a builtin has the name (task 126
    asks for a function called `sum`).
    """
    tests = "".join("\n" + test + "\n" for test in sample.metadata["test_list"])
    setup = sample.metadata["test_setup_code"]
    reference = sample.target if isinstance(sample.target, str) else ""
    remote = defined_names(reference) & (read_names(tests) | read_names(setup))
    return CheckedProgram(program=code, tests=tests, setup=setup, remote=tuple(sorted(remote)))


class MBPP(Benchmark):
    prompt_template = PROMPT
    few_shot_prompt_template = FEW_SHOT_PROMPT

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        if subset == "sanitized" or "prompt" in record:
            question, setup = record["prompt"], "\n".join(record["test_imports"])
        else:
            question, setup = record["text"], record["test_setup_code"]
        return Sample(
            id=str(record["task_id"]),
            input=question,
            target=record["code"],
            subset=subset,
            metadata={
                "task_id": record["task_id"],
                "test_list": list(record["test_list"]),
                "test_setup_code": setup,
            },
        )

    def sample_to_fewshot(self, sample: Sample) -> str:
        # The 3 examples live in FEW_SHOT_PROMPT (EvalScope's fixed few-shot mode).
        return ""

    def format_prompt(self, sample: Sample, fewshot: str | None) -> str:
        tests = "\n".join(sample.metadata["test_list"])
        template = (
            self.few_shot_prompt_template if fewshot is not None and self.few_shot_prompt_template else None
        )
        return (template or self.prompt_template).format(question=sample.input, tests=tests)

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        return extract_mbpp_code(prediction, sample.metadata["test_setup_code"])

    def execute(self, extracted: str, sample: Sample) -> bool:
        """Run the program and MBPP's asserts in the sandbox (the `code_execution` scorer's verdict)."""
        from evalscope_native.sandbox import SandboxLimits, run_checked

        limits = SandboxLimits(timeout_s=TIMEOUT_S, cpu_s=int(TIMEOUT_S))
        return run_checked(check_program(extracted, sample), limits=limits).passed
