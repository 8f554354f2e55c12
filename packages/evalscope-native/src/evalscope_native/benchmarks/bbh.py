"""BIG-Bench Hard: 27 tasks, 3-shot chain-of-thought as in the BBH release, or zero-shot (EvalScope 1.14.1).

The 3-shot examples are the release's fixed chain-of-thought prompts (`cot-prompts/<task>.txt` in
github.com/suzgunmirac/BIG-Bench-Hard), not rows of a split. They are another project's data, so
they are not shipped here: they are read at run time from the first folder that has them:

1. `extra_params.cot_prompts_dir` (`--dataset-args '{"bbh": {"extra_params": {"cot_prompts_dir": …}}}'`);
2. `<bbh folder>/cot_prompts/` (or the release's own name `cot-prompts/`), where the bbh folder is
   `dataset_id` / `local_path` when it is a folder, else `<data dir>/bbh` (or the dataset id, or
   its last part, under it), the data dir being `$EVALSCOPE_DATA_DIR` (or the adapter's `data_dir`
   attribute, when the engine sets one from `--data-dir`).

A file's header — the release's canary line and the `-----` line under it — is dropped and the rest
stripped, which gives exactly the text EvalScope 1.14.1 embeds. Zero-shot (`few_shot_num: 0`)
needs no file. Answers are the text after the last "So the answer is "; multiple-choice tasks keep
the option letter, free-form tasks the first line (bold text preferred); `acc` compares them with
the target after stripping and lower-casing only, as EvalScope's `acc` does.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs
from evalscope.contracts import Sample
from evalscope.errors import ConfigError, DatasetNotFoundError
from evalscope.specs import BenchmarkSpec

MULTIPLE_CHOICE_TASKS = (
    "temporal_sequences",
    "disambiguation_qa",
    "date_understanding",
    "tracking_shuffled_objects_three_objects",
    "penguins_in_a_table",
    "geometric_shapes",
    "snarks",
    "ruin_names",
    "tracking_shuffled_objects_seven_objects",
    "tracking_shuffled_objects_five_objects",
    "logical_deduction_three_objects",
    "hyperbaton",
    "logical_deduction_five_objects",
    "logical_deduction_seven_objects",
    "movie_recommendation",
    "salient_translation_error_detection",
    "reasoning_about_colored_objects",
)
FREE_FORM_TASKS = (
    "multistep_arithmetic_two",
    "navigate",
    "dyck_languages",
    "word_sorting",
    "sports_understanding",
    "boolean_expressions",
    "object_counting",
    "formal_fallacies",
    "causal_judgement",
    "web_of_lies",
)
TASKS = MULTIPLE_CHOICE_TASKS + FREE_FORM_TASKS
TEST_COUNTS = {task: 250 for task in TASKS} | {
    "causal_judgement": 187,
    "penguins_in_a_table": 146,
    "snarks": 178,
}

PROMPT = (
    "Q: {question}\nA: Let's think step by step. Put your final answer in the format of "
    '"So the answer is [ANSWER]" (without quotes and markdown) where [ANSWER] is the answer to the problem.\n'
)
FEW_SHOT_PROMPT = "{fewshot}\n\n" + PROMPT
SHOT_COUNTS = (0, 3)  # the release has exactly three examples per task
PROMPT_DIR_NAMES = ("cot_prompts", "cot-prompts")
RELEASE_URL = "https://github.com/suzgunmirac/BIG-Bench-Hard/tree/main/cot-prompts"


def read_cot_prompt(path: Path) -> str:
    """A release prompt file without its header (canary line, then a `-----` line), stripped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if "-----" in lines[:3]:
        lines = lines[lines.index("-----") + 1 :]
    return "\n".join(lines).strip()


class BBH(Benchmark):
    prompt_template = PROMPT
    few_shot_prompt_template = FEW_SHOT_PROMPT

    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None, **kwargs: Any) -> None:
        super().__init__(spec, args, **kwargs)
        asked = self.args.few_shot_num
        self.shots = asked if asked is not None else spec.few_shot_num
        if self.shots not in SHOT_COUNTS:
            raise ConfigError(
                f"bbh supports few_shot_num 0 or 3 (the release's fixed examples), not {self.shots}.",
                hint='--dataset-args \'{"bbh": {"few_shot_num": 0}}\' for zero-shot',
            )
        self._prompts: dict[str, str] = {}

    @property
    def few_shot_num(self) -> int:
        """0 for the engine: the examples are the release's fixed prompts, not rows it should sample."""
        return 0

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        target = str(record["target"]).strip()
        task_type: str | None
        if subset in MULTIPLE_CHOICE_TASKS:
            task_type = "multiple_choice"
            target = target.replace("(", "").replace(")", "").strip()  # '(A)' -> 'A'
        else:
            # dyck_languages targets are brackets: they stay as they are
            task_type = "free_form" if subset in FREE_FORM_TASKS else None
        return Sample(
            id=f"{subset}/{index}",
            input=record["input"],
            target=target,
            subset=subset,
            metadata={"task_type": task_type},
        )

    def format_prompt(self, sample: Sample, fewshot: str | None) -> str:
        if self.shots and self.few_shot_prompt_template:
            examples = self.cot_prompt(sample.subset)
            return self.few_shot_prompt_template.format(fewshot=examples, question=sample.input)
        return self.prompt_template.format(question=sample.input)

    # --- the release's chain-of-thought prompts --------------------------------------------------

    def prompt_dirs(self) -> list[Path]:
        explicit = self.args.extra_params.get("cot_prompts_dir")
        if explicit:
            return [Path(str(explicit)).expanduser()]
        roots: list[Path] = []
        as_path = Path(self.dataset_id).expanduser()
        if as_path.is_dir():
            roots.append(as_path)
        # `data_dir` is --data-dir once the engine hands it to adapters; until then only the variable is seen.
        data_dir = getattr(self, "data_dir", None) or os.environ.get("EVALSCOPE_DATA_DIR")
        if data_dir:
            for name in dict.fromkeys((self.name, self.dataset_id, self.dataset_id.rsplit("/", 1)[-1])):
                roots.append(Path(data_dir).expanduser() / name)
        return [root / name for root in roots for name in PROMPT_DIR_NAMES]

    def cot_prompt(self, task: str) -> str:
        if task not in self._prompts:
            dirs = self.prompt_dirs()
            path = next((d / f"{task}.txt" for d in dirs if (d / f"{task}.txt").is_file()), None)
            if path is None:
                looked = ", ".join(str(d / f"{task}.txt") for d in dirs) or "(no folder to look in)"
                raise DatasetNotFoundError(
                    f"bbh is 3-shot by default and needs the BBH release's chain-of-thought prompt for "
                    f"{task!r}; looked for {looked}.",
                    hint=f"put the release's cot-prompts/<task>.txt files ({RELEASE_URL}) in <bbh folder>/"
                    'cot_prompts/, or set extra_params.cot_prompts_dir, or run zero-shot: --dataset-args \'{"bbh": '
                    '{"few_shot_num": 0}}\'',
                )
            self._prompts[task] = read_cot_prompt(path)
        return self._prompts[task]

    # --- answers ---------------------------------------------------------------------------------

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        task_type = sample.metadata.get("task_type")
        if task_type == "multiple_choice":
            return _option_letter(_final_line(prediction))
        if task_type == "free_form":
            answer = _final_line(prediction)
            bold = re.search(r"\*\*(.*?)\*\*", answer)
            return bold.group(1).strip() if bold else answer
        return prediction.strip()


def _final_line(reply: str) -> str:
    """The first line after the last 'So the answer is ' (the whole reply if absent), minus a final '.'."""
    answer = reply.strip().split("So the answer is ")[-1].strip()
    answer = answer.split("\n")[0].strip()
    return answer[:-1].strip() if answer.endswith(".") else answer


def _option_letter(answer: str) -> str:
    """'(B)' or a lone capital letter, else the text itself."""
    for pattern in (r"\(([A-Z])\)", r"\b([A-Z])\b"):
        found = re.search(pattern, answer)
        if found:
            return found.group(1)
    return answer
