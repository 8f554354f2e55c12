"""RAGAS test-set generation from documents, offline, against an OpenAI-compatible generator LLM.

Why not ragas' own `TestsetGenerator`: in ragas 0.4.3 it cannot run here even with explicit
transforms. Its persona step needs summaries and summary embeddings, its query synthesizers need
theme/entity properties made by LLM extractors whose prompts go through the legacy `BaseRagasLLM`
(langchain) interface, its headline splitter and default transforms count tokens with tiktoken
(`cl100k_base`/`o200k_base`, downloaded on first use), the overlap builders need `rapidfuzz`, and
`generate()` posts usage analytics to the network. So the generator is ours, with the same shape:

* documents: every .txt/.md file named in `docs` (files or folders), read as UTF-8;
* chunks: paragraphs packed up to `chunk_size` characters;
* query types as ragas names them — single_hop_specific (one chunk), multi_hop_specific and
  multi_hop_abstract (two chunks) — with EvalScope's default equal weights, or `distribution`;
  single-hop rows are planned first, and with one chunk only single-hop is possible;
* one request per row through the evaluation's `JudgeLLM` (transport retries with backoff, a
  malformed reply retried `max_retries` times); the chunk(s) whose replies stay unusable are
  skipped, recorded in `<output>.skipped.jsonl`, never offered again, and the next sampled chunk
  takes their place (attempts are bounded by test_size + number of chunks);
* then, like EvalScope, an answer per question from the same LLM given the contexts.

Output (`output_file`, .jsonl or a .json list, by suffix): rows with `user_input`,
`reference_contexts`, `retrieved_contexts`, `response`, `reference` and `synthesizer_name`, which the
RAGAS evaluation reads as is; EvalScope's `<stem>_with_answer<suffix>` is written too.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalscope.config import TaskConfig
from evalscope.errors import ConfigError, DataFormatError, EvalScopeError
from evalscope.run_context import RunInfo, atomic_write_text
from pydantic import BaseModel

from evalscope_rag.config import RAGASTestsetConfig
from evalscope_rag.ragas_eval.judge import JudgeLLM, JudgeRecorder, JudgeReplyError

log = logging.getLogger("evalscope.rag.testset")

QUERY_TYPES = {
    "single_hop_specific": "single_hop_specific_query_synthesizer",
    "multi_hop_specific": "multi_hop_specific_query_synthesizer",
    "multi_hop_abstract": "multi_hop_abstract_query_synthesizer",
}
DOC_SUFFIXES = (".txt", ".md", ".markdown")

_STYLE = {
    "single_hop_specific": "a specific factual question answered by the context alone",
    "multi_hop_specific": "a specific question that needs facts from BOTH contexts together",
    "multi_hop_abstract": "an abstract, conceptual question that connects ideas across BOTH contexts",
}


class GeneratedQA(BaseModel):
    question: str
    answer: str


class RAGAnswer(BaseModel):
    answer: str


@dataclass(eq=False)  # identity: two equal paragraphs are still two chunks
class Chunk:
    source: str
    text: str


def _query_key(name: str) -> str:
    key = name.removesuffix("_query_synthesizer").lower()
    if key not in QUERY_TYPES:
        close = difflib.get_close_matches(key, list(QUERY_TYPES), n=1)
        raise ConfigError(
            f"testset_generation.distribution: unknown query type {name!r}"
            + (f"; did you mean {close[0]!r}?" if close else ""),
            hint=f"one of {', '.join(QUERY_TYPES)}",
        )
    return key


def _weights(cfg: RAGASTestsetConfig) -> dict[str, float]:
    if not cfg.distribution:
        return dict.fromkeys(QUERY_TYPES, 1.0)
    weights = {_query_key(k): float(v) for k, v in cfg.distribution.items()}
    if any(v < 0 for v in weights.values()) or sum(weights.values()) <= 0:
        raise ConfigError("testset_generation.distribution: weights must be >= 0 and not all 0.")
    return {k: weights[k] for k in QUERY_TYPES if weights.get(k, 0) > 0}


def document_files(cfg: RAGASTestsetConfig) -> list[Path]:
    files: list[Path] = []
    for entry in cfg.docs:
        path = Path(entry).expanduser()
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in DOC_SUFFIXES)
            )
        elif path.is_file():
            files.append(path)
        else:
            raise ConfigError(
                f"testset_generation.docs: {path} does not exist.",
                hint="list document files or folders of .txt/.md files",
            )
    if not files:
        raise ConfigError(
            f"testset_generation.docs: no .txt/.md documents in {', '.join(cfg.docs)}.",
            hint="convert PDFs/HTML to text first; the offline generator reads plain text and Markdown",
        )
    return files


def check_generation(cfg: RAGASTestsetConfig) -> None:
    """Validate without writing: documents exist, the endpoint is set, the distribution names exist."""
    from evalscope_rag.ragas_eval.runner import _check_endpoint

    _check_endpoint(cfg.generator_llm, "testset_generation.generator_llm")
    _weights(cfg)
    document_files(cfg)


def split_chunks(source: str, text: str, size: int) -> list[Chunk]:
    """Paragraphs (blank-line separated) packed up to `size` characters; a longer paragraph alone."""
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    chunks: list[Chunk] = []
    current = ""
    for para in filter(None, paragraphs):
        if current and len(current) + 2 + len(para) > size:
            chunks.append(Chunk(source, current))
            current = ""
        current = f"{current}\n\n{para}" if current else para
    if current:
        chunks.append(Chunk(source, current))
    return chunks


def read_chunks(cfg: RAGASTestsetConfig) -> list[Chunk]:
    chunks: list[Chunk] = []
    for path in document_files(cfg):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataFormatError(str(path), f"cannot read the document as UTF-8 text ({exc})") from None
        chunks.extend(split_chunks(str(path), text, cfg.chunk_size))
    if not chunks:
        raise DataFormatError(", ".join(cfg.docs), "the documents hold no text")
    return chunks


def plan(cfg: RAGASTestsetConfig, n_chunks: int) -> list[str]:
    """Query type per row: counts by weight (largest remainder), single-hop first."""
    weights = _weights(cfg) if n_chunks > 1 else {"single_hop_specific": 1.0}
    if n_chunks <= 1 and cfg.distribution:
        log.warning("one chunk only: every generated question is single-hop")
    total = sum(weights.values())
    exact = {k: cfg.test_size * w / total for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: counts[k] - exact[k])[: cfg.test_size - sum(counts.values())]:
        counts[k] += 1
    return [k for k in QUERY_TYPES if k in counts for _ in range(counts[k])]


def _prompt(kind: str, contexts: list[str], language: str) -> str:
    schema = json.dumps(GeneratedQA.model_json_schema())
    return (
        f"Write {_STYLE[kind]}, and its answer, using only the given context(s). "
        f"Write both in {language}. Reply with one JSON object that follows this schema: {schema}\n"
        f"input: {json.dumps({'query_type': kind, 'contexts': contexts}, ensure_ascii=False)}\nOutput:"
    )


def _answer_prompt(question: str, contexts: list[str], language: str) -> str:
    schema = json.dumps(RAGAnswer.model_json_schema())
    data = {"question": question, "contexts": contexts}
    return (
        "Answer the question from the retrieved contexts; if they do not say, answer that you don't know. "
        f"Answer in {language}. Reply with one JSON object that follows this schema: {schema}\n"
        f"input: {json.dumps(data, ensure_ascii=False)}\nOutput:"
    )


async def _generate(
    cfg: RAGASTestsetConfig, judge: JudgeLLM, chunks: list[Chunk]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(cfg.seed)
    deck: list[Chunk] = []
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    budget = cfg.test_size + len(chunks)  # bounded: every skip costs one attempt, never retried forever

    bad: set[int] = set()  # chunks the LLM could not use once: not offered again

    def draw(n: int) -> list[Chunk] | None:
        """n distinct usable chunks; the deck is reshuffled (seeded) when it runs out, so chunks repeat
        only after every usable one was used; None when fewer than n usable chunks are left."""
        if sum(1 for c in chunks if id(c) not in bad) < n:
            return None
        picked: list[Chunk] = []
        while len(picked) < n:
            if not deck:
                deck.extend(rng.sample(chunks, len(chunks)))
            c = deck.pop(0)
            if id(c) not in bad and all(c is not p for p in picked):
                picked.append(c)
        return picked

    for kind in plan(cfg, len(chunks)):
        while budget > 0:
            budget -= 1
            picked = draw(1 if kind == "single_hop_specific" else 2)
            if picked is None:
                break
            contexts = [c.text for c in picked]
            try:
                qa = await judge.agenerate(_prompt(kind, contexts, cfg.language), GeneratedQA)
                ans = await judge.agenerate(_answer_prompt(qa.question, contexts, cfg.language), RAGAnswer)
            except JudgeReplyError as exc:
                log.warning("chunk(s) from %s skipped: %s", ", ".join(c.source for c in picked), exc)
                skipped.append({"query_type": kind, "sources": [c.source for c in picked], "error": str(exc)})
                bad.update(id(c) for c in picked)
                continue
            rows.append(
                {
                    "user_input": qa.question,
                    "reference_contexts": contexts,
                    "retrieved_contexts": contexts,
                    "response": ans.answer,
                    "reference": qa.answer,
                    "synthesizer_name": QUERY_TYPES[kind],
                    "sources": [c.source for c in picked],
                }
            )
            break
    return rows, skipped


def _dump(path: Path, rows: list[dict[str, Any]]) -> None:
    if path.suffix == ".jsonl":
        atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    else:
        atomic_write_text(path, json.dumps(rows, ensure_ascii=False, indent=2) + "\n")


def generate_testset(cfg: RAGASTestsetConfig, config: TaskConfig, run: RunInfo) -> Path:
    from evalscope_rag.ragas_eval.runner import make_judge

    chunks = read_chunks(cfg)
    judge = make_judge(cfg.generator_llm, config, JudgeRecorder())

    async def go() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        try:
            return await _generate(cfg, judge, chunks)
        finally:
            await judge.aclose()

    rows, skipped = asyncio.run(go())
    out = Path(cfg.output_file).expanduser()
    skipped_path = out.with_name(f"{out.stem}.skipped.jsonl")
    atomic_write_text(skipped_path, "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in skipped))
    if not rows:
        raise EvalScopeError(
            f"testset_generation produced no rows: all {len(skipped)} attempts failed (see {skipped_path}).",
            hint="check generator_llm (it must reply with JSON {question, answer}) and its api_base",
        )
    if len(rows) < cfg.test_size:
        log.warning("only %d of %d rows generated: the documents ran out of chunks", len(rows), cfg.test_size)
    _dump(out, rows)
    with_answer = [
        {k: r[k] for k in ("user_input", "retrieved_contexts", "response", "reference")} for r in rows
    ]
    _dump(out.with_name(f"{out.stem}_with_answer{out.suffix}"), with_answer)
    log.info("test set (%d rows, %d skipped) written to %s", len(rows), len(skipped), out)
    return out
