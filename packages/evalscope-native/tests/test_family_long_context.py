"""needle_haystack end to end: a corpus and a tiny byte-level BPE tokenizer made here, the grid run
against the core's scripted server (model and judge), the heat map PNG, a context past the
tokenizer's limit failing its own samples; and EvalScope 1.14.1's `_insert_needles` on the same
tokenizer giving the same contexts (skipped without its venv)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.testing import InProcessServer, last_user_text
from evalscope_native.families.long_context.haystack import insert_needles, linspace_int, load_tokenizer
from evalscope_native.families.long_context.scorers import ORM_SYSTEM, QUALITY_DIMENSIONS

NEEDLE = "\nThe best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.\n"
SENTENCES = [
    "The founders met in a small office near the river.",
    "Startups grow when they make something people want.",
    "Most ideas look bad at first, which is why they are open.",
    "Hackers like to build things and see them work.",
    "Cities change slowly, then all at once.",
    "A good essay starts with a question and follows it.",
]
CORPUS = " ".join(SENTENCES[i % len(SENTENCES)] for i in range(60))
BASELINE = Path(os.environ.get("EVALSCOPE_BASELINE_VENV", "/tmp/evalscope-baseline")) / "bin" / "python"


def make_tokenizer(folder: Path, max_length: int) -> Path:
    """A byte-level BPE trained on the corpus (exact round trip), with a model_max_length."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([CORPUS, NEEDLE, "。"], trainer=trainer)
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    config = {"model_max_length": max_length, "tokenizer_class": "PreTrainedTokenizerFast"}
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def test_linspace_matches_numpy() -> None:
    np = pytest.importorskip("numpy")
    for low, high, n in ((1000, 32000, 10), (0, 100, 10), (0, 100, 7), (5, 5, 1), (300, 700, 3)):
        assert linspace_int(low, high, n) == np.round(np.linspace(low, high, num=n)).astype(int).tolist()


def test_needles_go_to_sentence_ends(tmp_path: Path) -> None:
    tok = load_tokenizer(str(make_tokenizer(tmp_path / "tok", 10_000)))
    tokens = tok.encode(CORPUS, special=False)
    assert tok.decode(tokens) == CORPUS
    for depth in (0, 30, 50):
        text = insert_needles(tok, tokens, [NEEDLE], depth, 400)
        before = text.split(NEEDLE)[0]
        assert NEEDLE in text and (before == "" or before.endswith("."))
        assert len(tok.encode(text, special=False)) <= 400 - 150
    assert insert_needles(tok, tokens, [NEEDLE], 100, 400).endswith(NEEDLE)  # 100%: at the very end


def _responder(long_chars: int) -> Any:
    def chat(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        if messages[0].get("content") == ORM_SYSTEM:  # the judge
            answer = last_user_text(messages).split("Model Answer:", 1)[1]
            verdict = 10 if "Dolores Park" in answer else 1
            return json.dumps({"reasoning": "compared with the reference", "verdict": verdict})
        text = re.search(r"<text>\n(.*)\n</text>", last_user_text(messages), flags=re.S)
        assert text is not None
        context = text.group(1)
        at = context.find("Dolores Park") / max(len(context), 1)
        if len(context) > long_chars and at < 0.8:  # a long context hides a needle unless it is at the end
            return "I do not know."
        return NEEDLE.strip()

    return chat


def test_needle_haystack_end_to_end(tmp_path: Path) -> None:
    data = tmp_path / "data" / "needle_haystack"
    data.mkdir(parents=True)
    (data / "PaulGraham_Essays.txt").write_text(CORPUS, encoding="utf-8")
    tok = make_tokenizer(tmp_path / "tok", 600)
    params = {"tokenizer_path": str(tok), "context_lengths_min": 300, "context_lengths_max": 700,
              "context_lengths_num_intervals": 3, "document_depth_percent_intervals": 3}  # fmt: skip
    with InProcessServer({"model": "scripted"}, chat=_responder(long_chars=900)) as server:
        base = {
            "model": "scripted", "api_url": server.base_url, "datasets": ["needle_haystack"],
            "data_dir": str(tmp_path / "data"), "eval_batch_size": 4,
            "dataset_args": {"needle_haystack": {"subset_list": ["english"], "extra_params": params}},
        }  # fmt: skip
        judged = run_task(
            {
                **base,
                "work_dir": str(tmp_path / "judged"),
                "judge_model_args": {"model_id": "scripted", "api_url": server.base_url},
            }  # fmt: skip
        )["needle_haystack"]
        ruled = run_task({**base, "work_dir": str(tmp_path / "rule"), "judge_strategy": "rule"})[
            "needle_haystack"
        ]
    for report in (judged, ruled):
        assert report.num_samples == 9 and report.num_errors == 3
        assert {e.id for e in report.errors} == {"english/L700_D0", "english/L700_D50", "english/L700_D100"}
        assert all("exceeds the tokenizer's model_max_length 600" in e.error for e in report.errors)
        cells = {(c["context_length"], c["depth_percent"]): c["score"]
                 for c in report.extra["needle_haystack"]["cells"]["english"]}  # fmt: skip
        assert cells[(700, 0)] == 0.0 and cells[(300, 0)] == 1.0 and cells[(300, 100)] == 1.0
    judged_cells = {(c["context_length"], c["depth_percent"]): c["score"]
                    for c in judged.extra["needle_haystack"]["cells"]["english"]}  # fmt: skip
    # the judge's verdict 1 of 10 for "I do not know" is 0.1, the rule's exact match 0
    assert judged_cells[(500, 0)] == pytest.approx(0.1) and judged_cells[(500, 100)] == 1.0
    assert judged.score() == pytest.approx((3 + 0.1 + 0.1 + 1) / 9)
    assert ruled.score() == pytest.approx(4 / 9)
    (png,) = (tmp_path / "judged").glob("*/reports/*/needle_haystack_heatmap_english.png")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "judge" in judged.extra  # the judge's statistics, as for every judged benchmark


@pytest.mark.skipif(not BASELINE.exists(), reason="EvalScope 1.14.1 venv not found")
def test_contexts_equal_evalscope_1_14_1(tmp_path: Path) -> None:
    folder = make_tokenizer(tmp_path / "tok", 100_000)
    tok = load_tokenizer(str(folder))
    lengths, depths = [300, 500, 900], [0, 11, 33, 50, 89, 100]
    needles = [NEEDLE, "\nThe secret number is 42.\n"]
    script = f"""
import json, sys
sys.argv = ["x"]
from evalscope.benchmarks.needle_haystack.needle_haystack_adapter import NeedleHaystackAdapter
from transformers import AutoTokenizer
a = NeedleHaystackAdapter.__new__(NeedleHaystackAdapter)
a.tokenizer = AutoTokenizer.from_pretrained({str(folder)!r})
a.context_lengths = {lengths!r}
corpus = json.loads(sys.stdin.read())
tokens = a._get_context_tokens(corpus)
out = {{}}
for needles in ({[NEEDLE]!r}, {needles!r}):
    a.needles = needles
    for length in {lengths!r}:
        for depth in {depths!r}:
            out[f"{{len(needles)}}/{{length}}/{{depth}}"] = a._insert_needles(tokens, depth, length)
print(json.dumps(out))
"""
    done = subprocess.run([str(BASELINE), "-c", script], input=json.dumps(CORPUS), capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": ""})  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    from evalscope_native.families.long_context.haystack import context_tokens

    tokens = context_tokens(tok, CORPUS, max(lengths))
    ours = {
        f"{len(ns)}/{n}/{d}": insert_needles(tok, tokens, ns, d, n)
        for ns in ([NEEDLE], needles)
        for n in lengths
        for d in depths
    }
    assert ours == theirs


# --- longbench_write ----------------------------------------------------------------------------

WRITING = [
    ("Write a note of 10 words. WORDS=10", 10),
    ("Write 20 words. WORDS=30", 20),
    ("五个字。 WORDS=4", 5),
]


def _writer_and_judge(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
    text = last_user_text(messages)
    if text.startswith("You are an expert in evaluating text quality."):
        top = "WORDS=10" in text.split("<User Request>", 1)[1].split("</User Request>", 1)[0]
        dims = dict.fromkeys(QUALITY_DIMENSIONS, 5 if top else 4)
        return "```json\n" + json.dumps({"Analysis": "clear and relevant", **dims}) + "\n```"
    n = int(re.search(r"WORDS=(\d+)", text).group(1))  # type: ignore[union-attr]
    return ("字" * n) if "五个字" in text else " ".join(["word"] * n)


def test_longbench_write_end_to_end(tmp_path: Path) -> None:
    data = tmp_path / "data" / "longbench_write"
    data.mkdir(parents=True)
    rows = [{"prompt": p, "type": "Functional Writing", "length": n} for p, n in WRITING]
    (data / "test.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    with InProcessServer({"model": "scripted"}, chat=_writer_and_judge) as server:
        report = run_task({
            "model": "scripted", "api_url": server.base_url, "datasets": ["longbench_write"],
            "data_dir": str(tmp_path / "data"), "work_dir": str(tmp_path / "out"),
            "judge_model_args": {"model_id": "scripted", "api_url": server.base_url},
        })["longbench_write"]  # fmt: skip
    assert report.num_samples == 3 and report.num_errors == 0 and report.num_unscored == 0
    scores = {m.name: m.score for m in report.metrics}
    assert scores["mean_score_q"] == pytest.approx((100 + 75 + 75) / 3)
    assert scores["mean_score_l"] == pytest.approx((100 + 100 * (1 - 0.5 / 3) + 100 * (1 - 0.25 / 2)) / 3)


def test_length_score_and_word_count_equal_evalscope_1_14_1() -> None:
    from evalscope_native.families.long_context.longbench_write import count_words, length_score

    texts = ["Hello world, this is 5.", "你好世界", "mixed 中文 and English-words 2024", "", "a b c " * 40]
    pairs = [(100, 103), (100, 50), (100, 400), (200, 199), (5, 1), (1000, 10), (150, 150)]
    ours: dict[str, list[Any]] = {
        "words": [count_words(t) for t in texts],
        "scores": [round(length_score(x, y), 9) for x, y in pairs],
    }
    assert ours["scores"][:2] == [pytest.approx(99.0), pytest.approx(50.0)]
    if not BASELINE.exists():
        pytest.skip("EvalScope 1.14.1 venv not found")
    # The files are loaded by path: the package's __init__ imports torch (its inference step), and eval.py
    # imports matplotlib at the top for a plot we do not need; the baseline venv may lack both.
    script = f"""
import importlib.util, json, sys, types
import evalscope
if importlib.util.find_spec("matplotlib") is None:
    sys.modules["matplotlib"] = sys.modules["matplotlib.pyplot"] = types.ModuleType("matplotlib")
def load(name):
    path = evalscope.__path__[0] + "/third_party/longbench_write/" + name + ".py"
    spec = importlib.util.spec_from_file_location("lbw_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
EvalLength, count_words = load("eval").EvalLength, load("utils").count_words
print(json.dumps({{"words": [count_words(t)[0] for t in {texts!r}],
                   "scores": [round(EvalLength.score(x, y), 9) for x, y in {pairs!r}]}}))
"""
    done = subprocess.run([str(BASELINE), "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": ""})  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ours
