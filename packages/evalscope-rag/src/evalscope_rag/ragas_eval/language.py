"""`eval.language`: the metric prompts in another language, adapted once per run through the judge.

ragas 0.4.3's metric collections hold their prompts as `BasePrompt` objects (`metric.prompt`,
`metric.statement_generator_prompt`, …) and `BasePrompt.adapt(language, llm, adapt_instruction)`
translates a prompt's few-shot examples — every string in them, in one request — and, when asked, its
instruction; `to_string` then renders the translated examples. There is no metric-level
`adapt_prompts` in the collections (that was the legacy `PromptMixin`), so this module walks each
metric's attributes, adapts every `BasePrompt` it finds with ragas' own `adapt`, and puts the adapted
copy back on the metric. The judge is the run's `JudgeLLM`, so the translations are cached with the
other judge replies (a resumed run does not translate again) and recorded in the judge log.

Two things are added around ragas' `adapt`:

* ragas' translation prompt names no output format (its own LLM client passes the schema through
  `instructor`); ours sends plain chat, so the JSON schema is appended as ragas' metric prompts do,
  and a reply with a different number of strings than was sent is retried like a malformed one
  (ragas would raise on it) instead of being cached;
* a prompt class that renders fixed English text and ignores its examples (in 0.4.3:
  `noise_sensitivity`'s two prompts) cannot be adapted by ragas; it keeps its text and gets an explicit
  "Answer in <language>" line after the instruction — our own adaptation, recorded as such.

`adapt_instruction` (default true, as EvalScope 1.14.1 adapts the prompts of its test-set generation)
translates the instructions too. Every adapted prompt is written to `prompts/ragas_<language>.json` in the run
folder for review; the file is a record, not an input.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from evalscope.errors import EvalScopeError

from evalscope_rag.ragas_eval.judge import JudgeLLM, current_call

if TYPE_CHECKING:
    from pydantic import BaseModel

log = logging.getLogger("evalscope.rag.language")

ENGLISH = {"", "english", "en", "en-us", "en_us", "en-gb", "en_gb"}
_SCHEMA_LINE = (
    "Please return the output in a JSON format that complies with the following schema as "
    "specified in JSON Schema:\n{schema}Do not use single quotes in your response but double quotes,"
    "properly escaped with a backslash."
)
_TO_TRANSLATE = "Statements to translate:"


def is_english(language: str) -> bool:
    return language.strip().lower() in ENGLISH


def file_label(language: str) -> str:
    """A file-name-safe form of the language (`prompts/ragas_<label>.json`)."""
    return re.sub(r"[^\w.-]+", "_", language.strip().lower()) or "language"


def language_line(language: str) -> str:
    return (
        f"Answer in {language}: write every free-text value of the JSON output in {language}, "
        "keeping the JSON keys as the schema names them."
    )


class _TranslationJudge:
    """The LLM `BasePrompt.adapt` is given: our judge, with the schema spelled out and the count checked."""

    def __init__(self, judge: JudgeLLM) -> None:
        self.judge = judge

    async def agenerate(self, prompt: str, response_model: type[BaseModel]) -> BaseModel:
        schema = json.dumps(response_model.model_json_schema())
        if schema not in prompt:
            prompt = f"{prompt}\n\n{_SCHEMA_LINE.format(schema=schema)}"
        expected = _expected_count(prompt)

        def check(parsed: BaseModel) -> str | None:
            got = getattr(parsed, "statements", None)
            if expected is None or not isinstance(got, list) or len(got) == expected:
                return None
            return f"{len(got)} translations for {expected} statements"

        return await self.judge.agenerate(prompt, response_model, check=check)


def _expected_count(prompt: str) -> int | None:
    """How many strings ragas' translation prompt sends (its JSON list after 'Statements to translate:')."""
    at = prompt.rfind(_TO_TRANSLATE)
    if at < 0:
        return None
    try:
        items, _ = json.JSONDecoder().raw_decode(prompt[at + len(_TO_TRANSLATE) :].lstrip())
    except ValueError:
        return None
    return len(items) if isinstance(items, list) else None


class LanguageNotePrompt:
    """A prompt rendered from fixed English text, plus an explicit 'Answer in <language>' line."""

    def __init__(self, inner: Any, language: str) -> None:
        self.inner = inner
        self.language = language
        self.note = language_line(language)

    def to_string(self, data: Any) -> str:
        text = str(self.inner.to_string(data))
        at = text.find("\nPlease return the output in a JSON format")
        if at < 0:
            return f"{self.note}\n{text}"
        return f"{text[:at]}\n{self.note}{text[at:]}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _prompts_of(metric: Any) -> dict[str, Any]:
    from ragas.prompt.metrics.base_prompt import BasePrompt

    return {attr: value for attr, value in vars(metric).items() if isinstance(value, BasePrompt)}


def _ragas_can_adapt(prompt: Any) -> bool:
    """True when ragas' `adapt` changes what the judge reads (the class renders its examples)."""
    from ragas.prompt.metrics.base_prompt import BasePrompt

    cls = type(prompt)
    return cls.to_string is BasePrompt.to_string or cls.adapt is not BasePrompt.adapt


def _describe(prompt: Any) -> dict[str, Any]:
    cls = type(prompt)
    examples = []
    for pair in getattr(prompt, "examples", None) or []:
        inp, out = pair
        examples.append({"input": inp.model_dump(mode="json"), "output": out.model_dump(mode="json")})
    return {
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "instruction": getattr(prompt, "instruction", None),
        "examples": examples,
    }


async def adapt_metric_prompts(
    metrics: dict[str, Any], language: str, judge: JudgeLLM, *, adapt_instruction: bool = True
) -> dict[str, Any]:
    """Replace every metric's prompts by their `language` versions; returns the record to save.

    Raises `EvalScopeError` when the judge cannot translate a prompt (after its retries): scoring with
    half-translated prompts would be neither what was asked nor comparable, and nothing but the
    translations has been spent yet — which the cache keeps for the re-run.
    """
    translator = _TranslationJudge(judge)
    record: dict[str, Any] = {}
    jobs: list[tuple[str, str, Any]] = [
        (name, attr, prompt)
        for name, metric in metrics.items()
        for attr, prompt in _prompts_of(metric).items()
    ]

    async def adapt(name: str, attr: str, prompt: Any) -> None:
        label = f"{name}.{attr}"
        current_call.set((-1, f"adapt:{label}"))  # groups the exchanges in the judge log
        if not _ragas_can_adapt(prompt):
            setattr(metrics[name], attr, LanguageNotePrompt(prompt, language))
            record[label] = {
                **_describe(prompt),
                "method": "language line (ragas renders this prompt from fixed English text)",
                "language_line": language_line(language),
            }
            return
        try:
            adapted = await prompt.adapt(language, translator, adapt_instruction=adapt_instruction)
        except Exception as exc:
            raise EvalScopeError(
                f"Could not adapt the {label} prompt to {language!r}: {type(exc).__name__}: {exc}",
                hint="re-run with --use-cache <run folder> to try again (finished translations are "
                "reused), or set eval.language: english",
            ) from exc
        setattr(metrics[name], attr, adapted)
        record[label] = {**_describe(adapted), "method": "ragas BasePrompt.adapt"}

    await asyncio.gather(*(adapt(*job) for job in jobs))
    log.info("adapted %d metric prompts to %s", len(record), language)
    return {
        "language": language,
        "adapt_instruction": adapt_instruction,
        "judge": judge.request_identity(),
        "prompts": {label: record[label] for label in sorted(record)},
    }
