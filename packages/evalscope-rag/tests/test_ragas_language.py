"""`eval.language: chinese`: the judge receives the adapted prompts, they are saved, scores come out.

The scripted judge (a real HTTP server on 127.0.0.1) "translates" by prefixing every string it is
given with `译:` and otherwise answers by the rules of `evalscope_rag.testing.ragas_judge`, which
read only a prompt's input section — so the Chinese run must score exactly as the English one while
every metric prompt it sends carries the translated instruction and few-shot examples (ragas'
`BasePrompt.adapt`), or, for noise_sensitivity whose prompts ragas renders from fixed English text,
the explicit "Answer in chinese" line.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from evalscope.errors import EvalScopeError
from evalscope.run import run_task
from evalscope.testing import InProcessServer
from evalscope_rag.testing.ragas_judge import make_responder, prompt_input, prompt_schema

pytestmark = pytest.mark.slow

MARK = "译:"
TO_TRANSLATE = "Statements to translate:"
NOTE = "Answer in chinese: write every free-text value of the JSON output in chinese"
SAMPLES = [
    {
        "question": "Where is the Eiffel Tower?",
        "contexts": ["The Eiffel Tower is in Paris. It opened in 1889.", "Berlin is the capital of Germany."],
        "answer": "The Eiffel Tower is in Paris. The tower is made of cheese.",
        "ground_truth": "The Eiffel Tower is in Paris. It opened in 1889.",
    },
    {
        "question": "At what temperature does water boil?",
        "contexts": ["Water boils at 100 degrees Celsius at sea level."],
        "answer": "Water boils at 100 degrees Celsius at sea level.",
        "ground_truth": "Water boils at 100 degrees Celsius at sea level.",
    },
]
METRICS = ["faithfulness", "context_recall", "answer_relevancy", "noise_sensitivity"]
# the prompts ragas adapts: metric -> (attribute, prompt class)
ADAPTED = {
    "faithfulness": [
        (
            "statement_generator_prompt",
            "ragas.metrics.collections.faithfulness.util:StatementGeneratorPrompt",
        ),
        ("nli_statement_prompt", "ragas.metrics.collections.faithfulness.util:NLIStatementPrompt"),
    ],
    "context_recall": [("prompt", "ragas.metrics.collections.context_recall.util:ContextRecallPrompt")],
    "answer_relevancy": [("prompt", "ragas.metrics.collections.answer_relevancy.util:AnswerRelevancePrompt")],
}


class TranslatingJudge:
    """Translation requests get every string back with MARK; the rest, the scripted RAGAS judge."""

    def __init__(self, miscount: bool = False) -> None:
        self.inner = make_responder()
        self.miscount = miscount
        self.prompts: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        prompt = str(messages[-1]["content"])
        with self._lock:
            self.prompts.append(prompt)
        at = prompt.find(TO_TRANSLATE)
        if at < 0:
            return self.inner(messages, body)
        items, _ = json.JSONDecoder().raw_decode(prompt[at + len(TO_TRANSLATE) :].lstrip())
        out = [f"{MARK}{s}" for s in items] + (["one too many"] if self.miscount else [])
        return json.dumps({"statements": out}, ensure_ascii=False)

    def translations(self) -> list[str]:
        return [p for p in self.prompts if TO_TRANSLATE in p]

    def metric_prompts(self) -> list[str]:
        return [p for p in self.prompts if TO_TRANSLATE not in p]


def _load(ref: str) -> Any:
    import importlib

    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


def _asked(prompt: str) -> tuple[str, str]:
    """What a metric prompt asks: its output schema and its input, whatever the language of the rest."""
    return prompt_schema(prompt), json.dumps(prompt_input(prompt), sort_keys=True)


def _strings(obj: Any) -> list[str]:
    from ragas.prompt.utils import get_all_strings

    return [s for s in get_all_strings(obj) if s]


def _config(testset: Path, url: str, work_dir: Path, minilm_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "eval_backend": "RAGEval",
        "model_id": "my-rag",
        "work_dir": str(work_dir),
        "retry": {"max_retries": 2, "backoff_base_s": 0.01, "backoff_max_s": 0.05},
        "eval_config": {
            "tool": "RAGAS",
            "eval": {
                "testset_file": str(testset),
                "critic_llm": {"model_name": "judge", "api_base": url, "max_retries": 2},
                "embeddings": {"model_name_or_path": str(minilm_path)},
                "metrics": METRICS,
                **extra,
            },
        },
    }


def _scores(run_dir: Path) -> list[dict[str, float]]:
    path = run_dir / "reviews" / "my-rag" / "testset.jsonl"
    return [json.loads(line)["scores"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_chinese_prompts_reach_the_judge_are_saved_and_score(tmp_path: Path, minilm_path: Path) -> None:
    testset = tmp_path / "testset.jsonl"
    testset.write_text("\n".join(json.dumps(s) for s in SAMPLES) + "\n", encoding="utf-8")

    english = TranslatingJudge()
    with InProcessServer(chat=english) as server:
        run_task(_config(testset, server.base_url, tmp_path / "en", minilm_path))
    assert english.translations() == []
    chinese = TranslatingJudge()
    with InProcessServer(chat=chinese) as server:
        report = run_task(
            _config(testset, server.base_url, tmp_path / "zh", minilm_path, language="chinese")
        )["testset"]
    run_dir = next((tmp_path / "zh").iterdir())

    # the same calls as in English, plus one translation per adapted prompt's examples and instruction
    # (an English faithfulness prompt and its noise_sensitivity twin are the same text, sent once)
    assert {_asked(p) for p in chinese.metric_prompts()} == {_asked(p) for p in english.prompts}
    assert len(chinese.translations()) == 2 * sum(len(v) for v in ADAPTED.values())
    assert all('"title": "_TranslatedStrings"' in p for p in chinese.translations())  # schema sent

    # every metric prompt the judge received is the adapted one
    by_schema: dict[str, list[str]] = {}
    for p in chinese.metric_prompts():
        by_schema.setdefault(prompt_schema(p), []).append(p)
    for metric, prompts in ADAPTED.items():
        for _attr, ref in prompts:
            cls = _load(ref)
            sent = [
                p for p in by_schema[cls.output_model.__name__] if NOTE not in p
            ]  # not noise_sensitivity's
            translated = [p for p in sent if p.startswith(f"{MARK}{cls.instruction}")]
            assert translated and len(translated) == len(sent), (metric, ref)
            for original in _strings(cls.examples):
                assert json.dumps(f"{MARK}{original}", ensure_ascii=False) in translated[0], original
                assert json.dumps(original, ensure_ascii=False) not in translated[0], original
    noise = [p for p in chinese.metric_prompts() if not p.startswith(MARK)]
    assert noise and all(NOTE in p for p in noise)

    # the adapted prompts are saved in the run folder for review
    saved = json.loads((run_dir / "prompts" / "ragas_chinese.json").read_text(encoding="utf-8"))
    assert saved["language"] == "chinese" and saved["adapt_instruction"] is True
    expected = {f"{m}.{attr}" for m, v in ADAPTED.items() for attr, _ in v}
    expected |= {"noise_sensitivity.statement_prompt", "noise_sensitivity.faithfulness_prompt"}
    assert set(saved["prompts"]) == expected
    for label, entry in saved["prompts"].items():
        if label.startswith("noise_sensitivity."):
            assert entry["method"].startswith("language line") and "chinese" in entry["language_line"]
        else:
            assert entry["method"] == "ragas BasePrompt.adapt"
            assert entry["instruction"].startswith(MARK)
            assert all(s.startswith(MARK) for s in _strings(entry["examples"]))
    assert report.extra["prompts_file"] == str(run_dir / "prompts" / "ragas_chinese.json")
    replies = (run_dir / "predictions" / "my-rag" / "testset.judge.jsonl").read_text(encoding="utf-8")
    assert sum(1 for line in replies.splitlines() if json.loads(line)["index"] == -1) == len(
        chinese.translations()
    )

    # scores: the scripted judge reads only the inputs, so they equal the English run's
    en_dir = next((tmp_path / "en").iterdir())
    zh_scores = _scores(run_dir)
    for zh, en in zip(zh_scores, _scores(en_dir), strict=True):
        assert set(zh) == set(METRICS) and zh == pytest.approx(en, abs=1e-9)
    assert report.num_errors == 0 and zh_scores[0]["faithfulness"] == pytest.approx(0.5)

    # adapted once per run: resuming the folder asks the judge nothing, translations included
    again = TranslatingJudge()
    with InProcessServer(chat=again) as server:
        cfg = _config(testset, server.base_url, tmp_path / "zh", minilm_path, language="chinese")
        run_task({**cfg, "use_cache": str(run_dir)})
    assert again.prompts == []
    assert json.loads((run_dir / "prompts" / "ragas_chinese.json").read_text(encoding="utf-8")) == saved
    assert _scores(run_dir) == zh_scores


def test_a_translation_that_never_fits_stops_the_run_before_scoring(
    tmp_path: Path, minilm_path: Path
) -> None:
    testset = tmp_path / "testset.jsonl"
    testset.write_text(json.dumps(SAMPLES[1]) + "\n", encoding="utf-8")
    judge = TranslatingJudge(miscount=True)
    with InProcessServer(chat=judge) as server:
        cfg = _config(testset, server.base_url, tmp_path / "out", minilm_path, language="chinese")
        cfg["eval_config"]["eval"]["metrics"] = ["context_recall"]
        with pytest.raises(
            EvalScopeError, match=r"Could not adapt the context_recall.prompt prompt to 'chinese'"
        ):
            run_task(cfg)
    assert judge.metric_prompts() == []  # nothing was scored with half-translated prompts
    assert len(judge.translations()) == 3  # one request, retried max_retries times, never cached
    run_dir = next((tmp_path / "out").iterdir())
    assert not (run_dir / "predictions" / "my-rag" / "testset.jsonl").exists()
