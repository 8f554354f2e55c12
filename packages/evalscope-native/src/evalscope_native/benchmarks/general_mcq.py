"""general_mcq: your own multiple-choice questions, as EvalScope 1.14.1's custom MCQ format.

Files (`local_path` or `dataset_id` = a folder): `<subset>_val.csv` (or .jsonl/.parquet/.json) holds
the questions, `<subset>_dev.csv` the few-shot examples; columns `id` (optional), `question`, `A`,
`B`, ... up to `J` (the choices are the columns from `A` on until the first one missing) and `answer`
(the letter). See docs/custom-datasets.md.

Prompt and parsing follow EvalScope: a Chinese single-answer template by default ('答案：X'), switched
by `extra_params` `multiple_correct` / `use_cot` unless the user gives `prompt_template`; few-shot
examples come from the dev split under EvalScope's English "Here are some examples..." header. Single
answers score `acc` (the letter, case-insensitive); `multiple_correct` scores `multi_choice_acc` (no
wrong letter allowed, partial credit for each right one).
"""

from __future__ import annotations

import re
from typing import Any

from evalscope.config import DatasetArgs
from evalscope.contracts import Sample
from evalscope.errors import ConfigError
from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks.general_mcq_answers import parse_choice
from evalscope_native.benchmarks.metric_selection import select_metrics
from evalscope_native.benchmarks.multiple_choice import MultipleChoiceBenchmark, format_choices

_SINGLE_HEAD = '回答下面的单项选择题，请选出其中的正确答案。你的回答的{where}应该是这样的格式："答案：[LETTER]"（不带引号），其中 [LETTER] 是 {{letters}} 中的一个。'
_MULTI_HEAD = '回答下面的多项选择题，请选出其中的所有正确答案。你的回答的{where}应该是这样的格式："答案：[LETTERS]"（不带引号），其中 [LETTERS] 是 {{letters}} 中的一个或多个。'
_WHOLE, _LAST_LINE, _THINK = "全部内容", "最后一行", "请在回答前进行一步步思考。"
_BODY = "问题：{question}\n选项：\n{choices}\n"

# EvalScope's four Chinese templates, verbatim (the plain multiple-answer one has a single newline).
ZH_SINGLE = _SINGLE_HEAD.format(where=_WHOLE) + "\n\n" + _BODY
ZH_SINGLE_COT = _SINGLE_HEAD.format(where=_LAST_LINE) + _THINK + "\n\n" + _BODY
ZH_MULTIPLE = _MULTI_HEAD.format(where=_WHOLE) + "\n" + _BODY
ZH_MULTIPLE_COT = _MULTI_HEAD.format(where=_LAST_LINE) + _THINK + "\n\n" + _BODY
CHINESE_TEMPLATES = (ZH_SINGLE, ZH_SINGLE_COT, ZH_MULTIPLE, ZH_MULTIPLE_COT)

CHOICE_KEYS = "ABCDEFGHIJ"
_LABEL_SEPARATORS = re.compile(r"[\s,，、/]+")


def choices_of(record: dict[str, Any]) -> list[str]:
    """Columns A, B, ... in order until the first missing one (EvalScope keeps empty CSV cells)."""
    choices: list[str] = []
    for key in CHOICE_KEYS:
        if key not in record:
            break
        value = record[key]
        if value is None:  # EvalScope drops a null choice too
            continue
        choices.append(value if isinstance(value, str) else str(value))
    return choices


def _labels(answer: Any) -> list[str]:
    """A multiple-answer target: a list of letters, or (for CSV) a string 'AC' / 'A,C' / 'A C'."""
    if isinstance(answer, list):
        values = [str(a).strip() for a in answer]
    elif isinstance(answer, str):
        parts = [p for p in _LABEL_SEPARATORS.split(answer.strip()) if p]
        values = parts if len(parts) > 1 else list(parts[0]) if parts else []
    else:
        raise ValueError(f'\'answer\' must be a list of letters like ["A", "C"], got {answer!r}')
    return list(dict.fromkeys(v for v in values if v))


def _single_label(answer: Any) -> str:
    if isinstance(answer, list) and len(answer) == 1:
        answer = answer[0]
    if not isinstance(answer, str):
        raise ValueError(
            f"'answer' must be one letter like \"C\", got {answer!r} "
            '(for several right letters set extra_params {"multiple_correct": true})'
        )
    return answer.strip()


class GeneralMCQ(MultipleChoiceBenchmark):
    prompt_template = ZH_SINGLE

    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None, seed: int | None = None) -> None:
        super().__init__(spec, args, seed)
        params = self.args.extra_params
        self.multiple_correct = bool(params.get("multiple_correct", False))
        self.use_cot = bool(params.get("use_cot", False))
        if not self.args.prompt_template:  # a user's own template wins over the variants
            self.prompt_template = (
                (ZH_MULTIPLE_COT if self.use_cot else ZH_MULTIPLE)
                if self.multiple_correct
                else (ZH_SINGLE_COT if self.use_cot else ZH_SINGLE)
            )
        for what, template in (
            ("prompt_template", self.prompt_template),
            ("few_shot_prompt_template", self.few_shot_prompt_template),
        ):
            if template is not None:
                _check_template(what, template)
        # EvalScope reads '答案：X' only for its own Chinese templates; any other prompt, 'ANSWER: X'.
        self.chinese = self.prompt_template in CHINESE_TEMPLATES
        if self.multiple_correct:
            self._metrics = ["multi_choice_acc"]  # as EvalScope: whatever metric_list says
        else:
            self._metrics = select_metrics(
                self.name, self.args.metric_list, spec.metrics, {"accuracy": ["acc"]}
            )

    @property
    def metrics(self) -> list[str]:
        return list(self._metrics)

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        record = {k.lstrip("\ufeff"): v for k, v in record.items()}  # an Excel CSV's byte-order mark
        question = record["question"]
        answer = record["answer"]
        target: str | list[str] = _labels(answer) if self.multiple_correct else _single_label(answer)
        if not target:
            raise ValueError("empty 'answer': give the right letter(s)")
        choices = choices_of(record)
        if not choices:
            raise ValueError("no choices: give columns A, B, ... (up to J)")
        row_id = record.get("id")
        has_id = row_id is not None and str(row_id).strip() != ""
        return Sample(
            id=f"{subset}/{row_id}" if has_id else f"{subset}/{index}",
            input=question if isinstance(question, str) else str(question),
            choices=choices,
            target=target,
            subset=subset,
            metadata={"id": row_id if has_id else "unknown"},
        )

    def sample_to_fewshot(self, sample: Sample) -> str:
        answer = sample.target if isinstance(sample.target, str) else "".join(sample.target)
        return f"{sample.input}\n{format_choices(sample.choices or [])}\nANSWER: {answer}"

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        return parse_choice(
            prediction, len(sample.choices or []), chinese=self.chinese, multiple=self.multiple_correct
        )


def _check_template(what: str, template: str) -> None:
    """EvalScope asserts {question} and {choices}; an unknown placeholder would fail on every sample."""
    if "{question}" not in template or "{choices}" not in template:
        raise ConfigError(
            f"general_mcq {what} must contain {{question}} and {{choices}}.",
            hint="placeholders: {question}, {choices} (the 'A) ...' lines), {letters} ('A,B,C,D')"
            + (", {fewshot}" if what.startswith("few_shot") else ""),
        )
    try:
        template.format(question="", choices="", letters="", fewshot="")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"general_mcq {what} has an unknown placeholder or a stray brace: {exc}.",
            hint="placeholders: {question}, {choices}, {letters}; write a literal brace as {{ or }}",
        ) from None
