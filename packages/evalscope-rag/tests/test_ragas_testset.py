"""RAGAS test-set generation: documents written here, a scripted generator LLM over real HTTP.

The generator answers by the rules in `evalscope_rag.testing.ragas_judge` (question = query type and
the first sentence of the first context, reference = first sentences), so every row is predictable.
One document makes the generator answer garbage: it is retried, then recorded as skipped and another
chunk takes its place. The generated file then feeds the real ragas metrics in the same `run_task`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from evalscope.errors import ConfigError
from evalscope.run import run_task
from evalscope.testing import InProcessServer
from evalscope_rag.ragas_eval.testset import split_chunks
from evalscope_rag.testing.ragas_judge import make_responder, sentences

DOCS = {
    "paris.txt": "The Eiffel Tower is in Paris. It opened in 1889.",
    "science.md": "Water boils at 100 degrees Celsius at sea level. It freezes at zero degrees.\n\n"
    "Leonardo da Vinci painted the Mona Lisa. He also drew the Vitruvian Man.",
    "broken.txt": "MALFORMED notes that the generator cannot read.",
    "scan.pdf": "not a text document: ignored",
}
CHUNK_SIZE = 100


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("RAGAS_DO_NOT_TRACK", "true")
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def _docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _config(docs: Path, url: str, out: Path, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    llm = {"model_name": "gen", "api_base": url, "api_key": "sk-gen", "max_retries": 2}
    return {
        "eval_backend": "RAGEval",
        "model_id": "my-rag",
        "work_dir": str(tmp_path / "outputs"),
        "retry": {"max_retries": 4, "backoff_base_s": 0.01, "backoff_max_s": 0.05},
        "eval_config": {
            "tool": "RAGAS",
            "testset_generation": {
                "docs": [str(docs)],
                "test_size": 4,
                "output_file": str(out),
                "generator_llm": llm,
                "embeddings": {"model_name_or_path": "unused"},
                "chunk_size": CHUNK_SIZE,
                **extra,
            },
        },
    }


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_generation_rows_come_from_the_documents_and_a_malformed_reply_is_recorded(tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    out = tmp_path / "gen" / "testset.jsonl"
    with InProcessServer({"faults": {"fail_first": 1}}, chat=make_responder()) as gen:
        reports = run_task(_config(docs, gen.base_url, out, tmp_path))
        assert gen.stats()["routes"]["chat"]["faults"] == 1  # an HTTP 500 is retried, not fatal
    assert reports == {}

    chunks = {
        c.text
        for name, text in DOCS.items()
        if name != "scan.pdf"
        for c in split_chunks(name, text, CHUNK_SIZE)
    }
    assert len(chunks) == 4  # science.md holds two paragraph chunks
    rows = _rows(out)
    assert len(rows) == 4
    kinds = Counter(r["synthesizer_name"] for r in rows)
    assert kinds == {
        "single_hop_specific_query_synthesizer": 2,
        "multi_hop_specific_query_synthesizer": 1,
        "multi_hop_abstract_query_synthesizer": 1,
    }
    assert rows[0]["synthesizer_name"].startswith("single_hop")  # single-hop planned first
    for r in rows:
        ctx = r["reference_contexts"]
        assert set(ctx) <= chunks and r["retrieved_contexts"] == ctx
        assert not any("MALFORMED" in c for c in ctx)
        assert len(set(ctx)) == (1 if r["synthesizer_name"].startswith("single") else 2)
        kind = r["synthesizer_name"].removesuffix("_query_synthesizer")
        firsts = [sentences(c)[0] for c in ctx]
        assert r["user_input"] == f"{kind}: {firsts[0]}?"
        assert r["reference"] == " ".join(f"{f}." for f in firsts)
        assert r["response"] == f"{firsts[0]}."

    # the garbage chunk: asked 3 times (1 + max_retries), then recorded, never silently dropped
    skipped = _rows(out.with_name("testset.skipped.jsonl"))
    assert len(skipped) == 1 and any(s.endswith("broken.txt") for s in skipped[0]["sources"])
    assert "after 3 attempts" in skipped[0]["error"] and "cannot answer in JSON" in skipped[0]["error"]
    with_answer = _rows(out.with_name("testset_with_answer.jsonl"))
    assert [set(r) for r in with_answer] == [
        {"user_input", "retrieved_contexts", "response", "reference"}
    ] * 4


@pytest.mark.slow
def test_generation_chains_into_evaluation(tmp_path: Path, minilm_path: Path) -> None:
    docs = _docs(tmp_path)
    out = tmp_path / "gen" / "generated.json"
    out.parent.mkdir()
    stale = {"question": "stale?", "contexts": ["old"], "answer": "old", "ground_truth": "old"}
    out.write_text(json.dumps([stale]))  # a previous run's file: the new one must be scored
    with InProcessServer(chat=make_responder()) as server:
        cfg = _config(docs, server.base_url, out, tmp_path)
        cfg["eval_config"]["eval"] = {
            "testset_file": str(out),
            "critic_llm": {"model_name": "judge", "api_base": server.base_url, "max_retries": 2},
            "embeddings": {"model_name_or_path": str(minilm_path)},
            "metrics": ["faithfulness", "context_recall"],
        }
        report = run_task(cfg)["generated"]
        first = json.loads(out.read_text())
        # the same seed gives the same test set
        out.unlink()
        run_task(_config(docs, server.base_url, out, tmp_path))
        assert json.loads(out.read_text()) == first
    assert len(first) == 4
    assert report.num_samples == 4 and report.num_errors == 0
    scores = {m.name.removeprefix("mean_"): m.score for m in report.metrics}
    assert scores == {"faithfulness": pytest.approx(1.0), "context_recall": pytest.approx(1.0)}


def test_bad_generation_config_fails_before_the_run(tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    out = tmp_path / "t.jsonl"
    with pytest.raises(ConfigError, match="does not exist"):
        run_task(_config(tmp_path / "nowhere", "http://127.0.0.1:9/v1", out, tmp_path))
    with pytest.raises(ConfigError, match="did you mean 'multi_hop_abstract'"):
        run_task(
            _config(docs, "http://127.0.0.1:9/v1", out, tmp_path, distribution={"multi_hop_abstrakt": 1})
        )
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "x.pdf").write_text("binary")
    with pytest.raises(ConfigError, match="no .txt/.md documents"):
        run_task(_config(empty, "http://127.0.0.1:9/v1", out, tmp_path))
    assert not out.exists() and not (tmp_path / "outputs").exists()
