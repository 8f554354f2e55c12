"""HellaSwag: pick the most plausible ending of an everyday scene (validation split, 0-shot).

EvalScope 1.14.1 builds the question as `ctx_a + " " + ctx_b.capitalize()` and cleans it and every
ending with WikiHow's tag rules (`_clean`). A hub download (`Rowan/hellaswag`) has `ctx_a`/`ctx_b`
and takes exactly that path. Text-only releases (such as the one in `../shared/data`) keep only the
joined `ctx = ctx_a + " " + ctx_b`, already cleaned; `_split_joined_ctx` recovers EvalScope's text:

* ActivityNet rows end mid-sentence: `ctx_b` is the fragment after the last sentence end
  ("... on a roof. he"), capitalised as EvalScope does ("... on a roof. He");
* WikiHow rows end with a full sentence (`ctx_b` is empty) and began with a `[header]` tag, which
  EvalScope's cleaning turns into a leading space (it strips *before* removing tags); that space is
  restored so both sources give the same prompt.
"""

from __future__ import annotations

import re
from typing import Any

from evalscope.contracts import Sample

from evalscope_native.benchmarks.multiple_choice import MultipleChoiceBenchmark

_TAG = re.compile(r"\[.*?\]")
# "<ctx_a ending with a sentence end> <ctx_b fragment without one>"
_JOINED = re.compile(r"(?s)(.*[.!?])\s+([^.!?]*)")


def _clean(text: str) -> str:
    """EvalScope's (and lm-eval's) HellaSwag cleaning, in its order: strip, '[title]' → '. ', tags, '  '."""
    text = text.strip().replace(" [title]", ". ")
    return _TAG.sub("", text).replace("  ", " ")


def _split_joined_ctx(ctx: str) -> str:
    """EvalScope's question text from a release that kept only the joined, cleaned `ctx`."""
    text = _clean(ctx)
    if text[-1:] in (".", "!", "?"):
        return " " + text  # WikiHow: EvalScope's cleaning leaves the space of the removed '[header]'
    m = _JOINED.fullmatch(text)
    return f"{m.group(1)} {m.group(2).capitalize()}" if m else text


class HellaSwag(MultipleChoiceBenchmark):
    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        if "ctx_a" in record and "ctx_b" in record:
            question = _clean(record["ctx_a"] + " " + record["ctx_b"].capitalize())
        else:
            question = _split_joined_ctx(record["ctx"])
        endings = [_clean(e) for e in record["endings"]]
        return Sample(
            id=f"{subset}/{index}",
            input=question,
            choices=endings,
            target="ABCD"[int(record["label"])],
            subset=subset,
            metadata={"activity_label": record.get("activity_label", "unknown")},
        )
