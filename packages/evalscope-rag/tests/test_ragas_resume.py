"""A RAGAS run killed with SIGKILL resumes with `--use-cache` and never asks the judge twice.

Three judges, each a real HTTP server on 127.0.0.1 answering by the rules of
`evalscope_rag.testing.ragas_judge`: (A) a clean in-process run counts every request a full run
makes; (B) `evalscope eval` in a subprocess is answered for its first requests, then the judge
stalls, and once the run folder's judge cache holds every valid reply B sent, the process is killed
with SIGKILL; (C) `evalscope eval --use-cache <that folder>` finishes the run. C must receive exactly
the requests A received minus the replies B's run had cached (as a multiset of prompts: answer
relevancy asks one prompt three times on purpose), the malformed sample's requests included — a
failure is never cached as a success — and the final scores must equal A's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from evalscope.run import run_task
from evalscope.testing import InProcessServer, ReplyError
from evalscope_rag.testing.ragas_judge import make_responder, prompt_schema

pytestmark = pytest.mark.slow

FACTS = [
    ("Where is the Eiffel Tower?", "The Eiffel Tower is in Paris. It opened in 1889."),
    ("At what temperature does water boil?", "Water boils at 100 degrees Celsius at sea level."),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci painted the Mona Lisa."),
    ("What is the capital of Germany?", "Berlin is the capital of Germany."),
    ("How many legs does a spider have?", "A spider has eight legs."),
    ("What gas do plants absorb?", "Plants absorb carbon dioxide. They release oxygen."),
]
SAMPLES = [
    {
        "question": q,
        "contexts": [fact, "The moon orbits the Earth."],
        "answer": fact if i % 2 == 0 else f"{fact.split('. ')[0]}. The sky is green.",
        "ground_truth": fact,
    }
    for i, (q, fact) in enumerate(FACTS)
] + [
    {
        "question": "What does MALFORMED mean?",
        "contexts": ["Nothing useful."],
        "answer": "MALFORMED answer.",
        "ground_truth": "No idea.",
    }
]
METRICS = ["faithfulness", "context_precision", "context_recall", "answer_relevancy"]
ANSWERED_BEFORE_STALL = 20
DEADLINE_S = 240  # a guard against hanging forever, never an assertion about speed


class Judge:
    """The scripted judge, recording every prompt; with `stall_after`, later requests wait for `release`."""

    def __init__(self, stall_after: int | None = None) -> None:
        self.inner = make_responder()
        self.stall_after = stall_after
        self.prompts: list[str] = []
        self.answered: list[tuple[str, str]] = []  # (prompt, reply) in the order the replies went out
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        prompt = str(messages[-1]["content"])
        with self._lock:
            position = len(self.prompts)
            self.prompts.append(prompt)
        if self.stall_after is not None and position >= self.stall_after:
            self.release.wait()
            raise ReplyError(503, "stalled judge released after the client died")
        reply = self.inner(messages, body)
        with self._lock:
            self.answered.append((prompt, reply))
        return reply


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _config(testset: Path, url: str, work_dir: Path, minilm_path: Path) -> dict[str, Any]:
    return {
        "eval_backend": "RAGEval",
        "model_id": "my-rag",
        "work_dir": str(work_dir),
        "retry": {"max_retries": 2, "backoff_base_s": 0.01, "backoff_max_s": 0.05},
        "eval_config": {
            "tool": "RAGAS",
            "eval": {
                "testset_file": str(testset),
                "critic_llm": {
                    "model_name": "judge",
                    "api_base": url,
                    "api_key": "sk-judge",
                    "max_retries": 2,
                },
                "embeddings": {"model_name_or_path": str(minilm_path)},
                "metrics": METRICS,
                "batch_size": 4,
            },
        },
    }


def _cli(config: dict[str, Any], path: Path, *extra: str) -> subprocess.Popen[str]:
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    exe = Path(sys.executable).parent / "evalscope"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "RAGAS_DO_NOT_TRACK": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    return subprocess.Popen(
        [str(exe), "eval", "--config", str(path), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def _wait_until(condition: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    """Poll `condition` (the run's files and the judge's counters are the only signals there are)."""
    end = time.monotonic() + DEADLINE_S
    while not condition():
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"the run ended (rc {proc.returncode}) before {what}:\n{out[-3000:]}")
        if time.monotonic() > end:
            proc.kill()
            pytest.fail(f"gave up waiting until {what}")
        time.sleep(0.05)


def _wait_for_cache(proc: subprocess.Popen[str], work_dir: Path, lines: int) -> Path:
    """The run folder, once its judge cache holds `lines` entries."""
    found: list[Path] = []

    def ready() -> bool:
        found[:] = [c for c in work_dir.glob("*/predictions/my-rag/testset.jsonl") if _lines(c) >= lines]
        return bool(found)

    _wait_until(ready, proc, f"the judge cache held {lines} replies")
    return found[0].parents[2]


def _scores(run_dir: Path) -> dict[str, dict[str, float]]:
    path = run_dir / "reviews" / "my-rag" / "testset.jsonl"
    return {
        (rec := json.loads(line))["id"]: rec["scores"]
        for line in path.read_text(encoding="utf-8").splitlines()
    }


def test_a_killed_run_resumes_without_asking_the_judge_again(tmp_path: Path, minilm_path: Path) -> None:
    testset = tmp_path / "testset.jsonl"
    testset.write_text("\n".join(json.dumps(s) for s in SAMPLES) + "\n", encoding="utf-8")

    # A: the clean run, for the reference scores and the full list of requests
    clean_judge = Judge()
    with InProcessServer(chat=clean_judge) as server:
        clean = run_task(_config(testset, server.base_url, tmp_path / "clean", minilm_path))["testset"]
    clean_dir = next((tmp_path / "clean").iterdir())
    assert len(clean_judge.prompts) > ANSWERED_BEFORE_STALL + 10  # the kill really is mid-run
    # answer relevancy asks its prompt 3 times on purpose: the cache must not merge those
    relevancy = [p for p in clean_judge.prompts if prompt_schema(p) == "AnswerRelevanceOutput"]
    assert len(relevancy) == 3 * len(SAMPLES) and len(set(relevancy)) == len(SAMPLES)

    # B: the CLI, killed once the judge has answered ANSWERED_BEFORE_STALL requests and stalls
    stalled = Judge(stall_after=ANSWERED_BEFORE_STALL)
    server_b = InProcessServer(chat=stalled).start()
    try:
        proc = _cli(
            _config(testset, server_b.base_url, tmp_path / "outputs", minilm_path), tmp_path / "b.yaml"
        )
        _wait_until(lambda: len(stalled.answered) >= ANSWERED_BEFORE_STALL, proc, "the judge answered")
        valid = [p for p, r in stalled.answered if _is_json(r)]  # final: every later request stalls
        run_dir = _wait_for_cache(proc, tmp_path / "outputs", lines=len(valid))
        cache_file = run_dir / "predictions" / "my-rag" / "testset.jsonl"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    finally:
        stalled.release.set()
        server_b.stop()
    assert _lines(cache_file) == len(valid)  # every valid reply, and no failure, was cached
    assert not (run_dir / "reports").exists()  # it really died mid-run
    cached_prompts = Counter(valid)
    assert cached_prompts <= Counter(clean_judge.prompts)

    # C: resume in the same folder against a judge restarted on another port
    resumed_judge = Judge()
    with InProcessServer(chat=resumed_judge) as server_c:
        cfg = _config(testset, server_c.base_url, tmp_path / "outputs", minilm_path)
        proc = _cli(cfg, tmp_path / "c.yaml", "--use-cache", str(run_dir), "--ignore-errors")
        out, _ = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == 0, out[-3000:]

    # the judge saw exactly the calls that were not answered before the kill
    assert Counter(resumed_judge.prompts) == Counter(clean_judge.prompts) - cached_prompts
    assert len(resumed_judge.prompts) == len(clean_judge.prompts) - len(valid)
    malformed = sum(1 for p in clean_judge.prompts if "MALFORMED" in p)
    assert sum(1 for p in resumed_judge.prompts if "MALFORMED" in p) == malformed > 0

    # the final report has every sample and the clean run's scores
    report = json.loads((run_dir / "reports" / "my-rag" / "testset.json").read_text(encoding="utf-8"))
    assert report["num_samples"] == len(SAMPLES) and report["num_errors"] == 1
    assert report["extra"]["judge_cache"]["reused_from_previous_run"] == len(valid)
    assert report["extra"]["judge_requests"] == len(resumed_judge.prompts)
    resumed_scores, clean_scores = _scores(run_dir), _scores(clean_dir)
    assert resumed_scores.keys() == clean_scores.keys() and len(resumed_scores) == len(SAMPLES)
    for sid, scores in clean_scores.items():
        assert resumed_scores[sid] == pytest.approx(scores, abs=1e-9), sid
    by_metric = {m["name"]: m["score"] for m in report["metrics"]}
    assert by_metric == pytest.approx({m.name: m.score for m in clean.metrics}, abs=1e-9)
    assert _lines(cache_file) == len(clean_judge.prompts) - malformed  # each valid reply once
