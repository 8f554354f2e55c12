"""needle_haystack: find facts (needles) hidden at set depths in long contexts (EvalScope 1.14.1, v1.1).

Not a dataset of questions but a grid: every context length × every needle depth, cut from a corpus
(`PaulGraham_Essays.txt` for `english`, `Journey_to_the_West.txt` for `chinese`, the files of the hub
dataset `AI-ModelScope/Needle-in-a-Haystack-Corpus`) with a tokenizer (`haystack.py`). The corpus is
read from the local dataset folder (`local_path`, or `<data dir>/needle_haystack/`), else downloaded
from ModelScope. Settings are EvalScope's `extra_params`, same names and defaults: `retrieval_question`,
`needles`, `context_lengths_min/max/num_intervals`, `document_depth_percent_min/max/intervals`,
`tokenizer_path`, `show_score`.

Scoring as EvalScope: by the judge by default (`judge_default`: a 1-10 rating / 10, `judge.py`), by rule
with `--judge-strategy rule` (normalised exact match). The report's `extra["needle_haystack"]` holds
every (context length, depth) cell's mean per subset, and `needle_haystack_heatmap_<subset>.png` is
drawn next to the report (matplotlib, imported only then).

A context length above the tokenizer's `model_max_length` fails that grid cell's samples (never sent,
counted as failed, the message names the fix); the other cells run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import product
from pathlib import Path
from typing import Any

from evalscope.benchmark import Benchmark, SampleInputError
from evalscope.config import DatasetArgs
from evalscope.contracts import ChatMessage, Sample
from evalscope.datasets import LoadedSplit
from evalscope.errors import ConfigError, DatasetNotFoundError, MissingDependencyError
from evalscope.report import Report, SampleRecord
from evalscope.specs import BenchmarkSpec

from evalscope_native.families.long_context.haystack import (
    context_tokens,
    insert_needles,
    linspace_int,
    load_tokenizer,
)

PROMPT_TEMPLATE = """Please read the following text and answer the question below.

<text>
{context}
</text>

<question>
{question}
</question>

Don't give information outside the document or repeat your findings."""

SYSTEM_PROMPT = (
    "You are a helpful AI bot that answers questions for a user. Keep your response short and direct"
)
CORPUS_FILES = {"english": "PaulGraham_Essays.txt", "chinese": "Journey_to_the_West.txt"}
HUB_DATASET = "AI-ModelScope/Needle-in-a-Haystack-Corpus"

DEFAULTS: dict[str, Any] = {
    "retrieval_question": "What is the best thing to do in San Francisco?",
    "needles": [
        "\nThe best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.\n"
    ],
    "context_lengths_min": 1000,
    "context_lengths_max": 32000,
    "context_lengths_num_intervals": 10,
    "document_depth_percent_min": 0,
    "document_depth_percent_max": 100,
    "document_depth_percent_intervals": 10,
    "tokenizer_path": "Qwen/Qwen3-0.6B",
    "show_score": False,
}


class NeedleHaystack(Benchmark):
    prompt_template = PROMPT_TEMPLATE

    def __init__(self, spec: BenchmarkSpec, args: DatasetArgs | None = None, seed: int | None = None) -> None:
        super().__init__(spec, args, seed)
        unknown = sorted(set(self.args.extra_params) - set(DEFAULTS))
        if unknown:
            raise ConfigError(
                f"needle_haystack: unknown extra_params {', '.join(unknown)}.",
                hint=f"the settings are: {', '.join(DEFAULTS)}",
            )
        self.settings = {**DEFAULTS, **self.args.extra_params}
        needles = self.settings["needles"]
        if not isinstance(needles, list) or not needles or not all(isinstance(n, str) for n in needles):
            raise ConfigError("needle_haystack: extra_params.needles must be a non-empty list of strings.")
        self.check_prompt_template("use {context} and {question}", context="", question="")
        s = self.settings
        self.context_lengths = linspace_int(
            s["context_lengths_min"], s["context_lengths_max"], s["context_lengths_num_intervals"]
        )
        self.depths = linspace_int(
            s["document_depth_percent_min"],
            s["document_depth_percent_max"],
            s["document_depth_percent_intervals"],
        )
        self._tokenizer: Any = None

    # --- the grid -----------------------------------------------------------------------------

    def generated_split(self, subset: str) -> LoadedSplit:
        if subset not in CORPUS_FILES:
            raise ConfigError(f"needle_haystack has no subset {subset!r}.", hint="subsets: english, chinese")
        corpus_path = self._corpus(CORPUS_FILES[subset])
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(str(self.settings["tokenizer_path"]))
        tok = self._tokenizer
        limit = tok.model_max_length
        fits = [n for n in self.context_lengths if limit is None or n <= limit]
        corpus = corpus_path.read_text(encoding="utf-8")
        tokens = context_tokens(tok, corpus, max(fits)) if fits else []
        answer = "\n".join(self.settings["needles"])
        records = []
        for length, depth in product(self.context_lengths, self.depths):
            record: dict[str, Any] = {
                "context_length": length, "depth_percent": depth,
                "question": self.settings["retrieval_question"], "answer": answer,
            }  # fmt: skip
            if limit is not None and length > limit:
                record["context"] = ""
                record["error"] = (
                    f"needle_haystack {subset}/L{length}_D{depth}: context length {length} exceeds the "
                    f"tokenizer's model_max_length {limit} ({tok.folder}): lower extra_params."
                    f"context_lengths_max to {limit} or less, or use the tokenizer of a longer-context model"
                )
            else:
                record["context"] = insert_needles(tok, tokens, self.settings["needles"], depth, length)
            records.append(record)
        return LoadedSplit(records=records, origin=str(corpus_path))

    def _corpus(self, filename: str) -> Path:
        given = Path(self.dataset_id).expanduser()
        roots = [given.parent if given.is_file() else given]
        if self.data_dir is not None:
            roots.append(self.data_dir / self.name)
        for root in roots:
            if (root / filename).is_file():
                return root / filename
        if self.dataset_id != HUB_DATASET:
            raise DatasetNotFoundError(
                f"needle_haystack: no {filename} in {' or '.join(str(r) for r in roots)}.",
                hint=f"put the corpus there (the files of the ModelScope dataset {HUB_DATASET})",
            )
        return _download(filename, [str(r / filename) for r in roots])

    def record_to_sample(self, record: dict[str, Any], subset: str, index: int) -> Sample:
        length, depth = int(record["context_length"]), int(record["depth_percent"])
        metadata: dict[str, Any] = {
            "context": record["context"],
            "context_length": length,
            "depth_percent": depth,
        }
        if record.get("error"):
            metadata["error"] = record["error"]
        return Sample(
            id=f"{subset}/L{length}_D{depth}",
            input=record["question"],
            target=record["answer"],
            subset=subset,
            metadata=metadata,
        )

    def build_messages(self, sample: Sample, fewshot_samples: list[Sample]) -> list[ChatMessage]:
        prompt = self.prompt_template.format(context=sample.metadata["context"], question=sample.input)
        system = self.args.system_prompt or SYSTEM_PROMPT
        return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=prompt)]

    def request_tools(self, sample: Sample) -> tuple[None, None]:
        # The engine's per-sample refusal: a sample that raises `SampleInputError` here is recorded as
        # failed with the message and never sent (a context past the tokenizer's limit).
        if sample.metadata.get("error"):
            raise SampleInputError(sample.metadata["error"])
        return None, None

    # --- the report ---------------------------------------------------------------------------

    def finalize_report(self, report: Report, records: Sequence[SampleRecord]) -> Report:
        from evalscope_native.families.long_context.heatmap import cell_scores

        value = report.metrics[0].name.removeprefix("mean_") if report.metrics else "acc"
        report.extra = {**report.extra, "needle_haystack": {
            "value": value, "context_lengths": self.context_lengths, "depth_percents": self.depths,
            "cells": cell_scores(records, value),
        }}  # fmt: skip
        return report

    def report_files(self, report: Report, records: Sequence[SampleRecord]) -> Mapping[str, str | bytes]:
        from evalscope_native.families.long_context.heatmap import draw_heatmap

        info = report.extra.get("needle_haystack") or {}
        files: dict[str, str | bytes] = {}
        for subset, cells in (info.get("cells") or {}).items():
            png = draw_heatmap(cells, show_score=bool(self.settings["show_score"]))
            if png is not None:
                files[f"needle_haystack_heatmap_{subset}.png"] = png
        return files


def _download(filename: str, looked: list[str]) -> Path:
    from evalscope.hub_access import require_hub

    require_hub(
        "modelscope",
        f"download {filename} of {HUB_DATASET} for needle_haystack",
        "put the corpus in <data dir>/needle_haystack/ or pass its folder as local_path",
        looked,
    )
    try:
        from modelscope.hub.snapshot_download import dataset_snapshot_download
    except ImportError:
        raise MissingDependencyError(
            f"needle_haystack downloads its corpus from ModelScope ({HUB_DATASET}).",
            hint="pip install modelscope, or put the corpus in <data dir>/needle_haystack/",
        ) from None
    folder = Path(dataset_snapshot_download(HUB_DATASET, allow_file_pattern=[filename]))
    return folder / filename
