"""IFEval: verifiable instructions ("no commas", "at least 300 words", "wrap in JSON"), scored by rule.

EvalScope 1.14.1 `ifeval`: the prompt is sent as it is (no template, 0-shot, split `train`), the
whole reply is checked (no answer extraction, no stripping), and four scores come out of every
reply: `prompt_level_strict` (every instruction followed), `inst_level_strict` (the share of
instructions followed) and their loose forms (see `evaluate.py`). The instruction-level scores are
means over *instructions*, not prompts: each sample weighs as many instructions as it carries.
"""

from __future__ import annotations

from typing import Any

from evalscope.benchmark import Benchmark
from evalscope.config import DatasetArgs
from evalscope.contracts import Sample
from evalscope.errors import ConfigError
from evalscope.specs import BenchmarkSpec

from evalscope_native.benchmarks.ifeval.args import Checker, SentenceSplitter, compact
from evalscope_native.benchmarks.ifeval.evaluate import INST_LOOSE, INST_STRICT
from evalscope_native.benchmarks.ifeval.registry import build_checkers
from evalscope_native.benchmarks.ifeval.text import SPLITTERS, sentence_splitter

#: `extra_params` this benchmark reads
SENTENCE_SPLITTER = "sentence_splitter"


class IFEval(Benchmark):
    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None, seed: int | None = None) -> None:
        super().__init__(spec, args, seed)
        unknown = set(self.args.extra_params) - {SENTENCE_SPLITTER}
        if unknown:
            raise ConfigError(
                f"Unknown extra_params for {spec.name}: {', '.join(sorted(unknown))}.",
                hint=f"{spec.name} reads only {SENTENCE_SPLITTER!r} ({' or '.join(SPLITTERS)}).",
            )
        self.splitter_name = str(self.args.extra_params.get(SENTENCE_SPLITTER, "builtin"))
        if self.splitter_name not in SPLITTERS:
            sentence_splitter(self.splitter_name)  # raises the ConfigError naming the choices
        if self.splitter_name == "punkt":
            sentence_splitter("punkt")  # a missing model fails now, before any request is sent
        self._split: SentenceSplitter | None = None

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        ids = [str(i) for i in record["instruction_id_list"]]
        kwargs = [compact(k) for k in record["kwargs"]]
        build_checkers(ids, kwargs, self._splitter)  # validates ids and arguments now, not at scoring
        key = record.get("key")
        return Sample(
            id=str(key) if key is not None else f"{subset}/{index}",
            input=record["prompt"],
            target="",
            subset=subset,
            metadata={"key": key, "instruction_id_list": ids, "kwargs": kwargs},
        )

    def _splitter(self, text: str) -> list[str]:
        """The configured sentence splitter, resolved on first use (NLTK is imported only then)."""
        if self._split is None:
            self._split = sentence_splitter(self.splitter_name)
        return self._split(text)

    def checkers(self, sample: Sample) -> list[Checker]:
        return build_checkers(
            sample.metadata["instruction_id_list"], sample.metadata["kwargs"], self._splitter
        )

    def extract_answer(self, prediction: str, sample: Sample) -> str:
        """The reply as it is: leading blank lines or trailing spaces decide some instructions."""
        return prediction

    def metric_weights(self, sample: Sample) -> dict[str, float]:
        n = float(len(sample.metadata["instruction_id_list"]))
        return {INST_STRICT: n, INST_LOOSE: n}
