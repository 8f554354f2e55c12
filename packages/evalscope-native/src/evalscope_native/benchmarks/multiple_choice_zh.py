"""Chinese multiple-choice prompts and the '答案：X' parser (CMMLU, C-Eval), after EvalScope 1.x.

The templates are EvalScope's verbatim: prompts change scores. The parser is our own code with
the contract of EvalScope 1.14.1's `parse_answers_zh` for single answers, because a Chinese prompt
asks for '答案：[LETTER]' and an English 'ANSWER:' parser would fall back to the last capital letter:

1. the *last* '答案：' / '答案:' marker (bold '**答案：**' too) followed by a label wins. Reasoning
   models restate the format or revise themselves, so an earlier marker may hold a placeholder or a
   rejected choice. Math wrappers in front of the label are skipped ('答案：$\\boxed{B}$');
2. the label may be bracketed ('(B)', '（B）', '【B】') or plain; only the leading run of labels
   counts ('答案：B，因为…' → 'B'; 'A and B' / 'A or B' are one run, which is then not one label);
3. the run, without a trailing '。' or '.', must be one valid label, else the answer is empty;
4. with no marker followed by a label, the reply's last capital letter if it is a valid label.
"""

from __future__ import annotations

import re

from evalscope_native.benchmarks.multiple_choice import fallback_label, last_labelled_answer, letter

CHINESE_SINGLE_ANSWER_COT = (
    '回答下面的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式："答案：[LETTER]"（不带引号），'
    "其中 [LETTER] 是 {letters} 中的一个。请在回答前进行一步步思考。\n\n"
    "问题：{question}\n选项：\n{choices}\n"
)
CHINESE_FEW_SHOT_PREFIX = "以下是一些示例问题：\n\n{fewshot}\n\n"

_MARKER = re.compile(r"答案\s*[:：]\s*\**\s*")
_PLAIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9 ,，/、]*)")


def asks_for_chinese_answer(template: str) -> bool:
    """Whether a prompt asks for '答案：X', i.e. replies must be read with `parse_single_answer_zh`."""
    return "答案：" in template or "答案:" in template


def parse_single_answer_zh(text: str, n_choices: int) -> str:
    """The chosen letter of a reply to a Chinese prompt, or '' when it names no single valid label."""
    allowed = {letter(i) for i in range(n_choices)}
    run = last_labelled_answer(text, allowed, marker=_MARKER, plain=_PLAIN)
    if run is None:
        return fallback_label(text, allowed)
    run = run.strip().rstrip("。.")
    return run if run in allowed else ""
