"""Language identification for the checkers that name a language, with `langdetect`.

`langdetect` (a port of Google's language-detection library; its profiles ship inside the package,
so nothing is downloaded) samples n-grams at random, so the seed is pinned as the reference pins it
(`DetectorFactory.seed = 0`): the same text is always given the same language. Its detector
factory is built lazily and without a lock, so concurrent first calls could read half-loaded
profiles; it is built once, under a lock, before any detection.
"""

from __future__ import annotations

import threading
from typing import Any

from evalscope_native.benchmarks.ifeval.args import Checker, InstructionArgs

_LOCK = threading.Lock()
_module: Any = None


def _langdetect() -> Any:
    global _module
    if _module is None:
        with _LOCK:
            if _module is None:
                import langdetect
                from langdetect.detector_factory import init_factory

                langdetect.DetectorFactory.seed = 0
                init_factory()
                _module = langdetect
    return _module


def is_language(text: str, code: str) -> bool:
    """Whether `text` is detected as ISO 639-1 `code`; True when no language can be detected.

    The reference counts an undetectable text (no letters, e.g. only digits or emoji) as following
    the instruction, and so do we.
    """
    langdetect = _langdetect()
    try:
        return bool(langdetect.detect(text) == code)
    except langdetect.LangDetectException:
        return True


def response_language(args: InstructionArgs) -> Checker:
    """`language:response_language` — the whole response is detected as the ISO 639-1 code."""
    code = args.text("language")
    return lambda response: is_language(response, code)
