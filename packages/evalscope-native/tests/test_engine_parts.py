"""Cache, retry policy and planning pieces of the native engine."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from evalscope.config import GenerationConfig, RetryConfig
from evalscope.contracts import ChatMessage, GenerateRequest, ModelOutput, RetryableModelError
from evalscope_native.engine.cache import PredictionCache, cache_key
from evalscope_native.engine.retry import backoff_delay, call_with_retry


def _req(text: str, **gen: object) -> GenerateRequest:
    return GenerateRequest(messages=[ChatMessage(role="user", content=text)], config=GenerationConfig(**gen))  # type: ignore[arg-type]


def test_cache_key_is_content_not_position() -> None:
    ident = {"kind": "openai_api", "model": "m", "api": "chat"}
    assert cache_key(ident, _req("q")) == cache_key(dict(ident), _req("q"))
    assert cache_key(ident, _req("q")) != cache_key(ident, _req("q2"))
    assert cache_key(ident, _req("q")) != cache_key(ident, _req("q", temperature=0.5))
    assert cache_key(ident, _req("q")) != cache_key({**ident, "model": "other"}, _req("q"))


def test_cache_survives_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    cache = PredictionCache(path)
    cache.put("k1", ModelOutput(completions=["a"]), {})
    cache.put("k2", ModelOutput(completions=["b"]), {})
    cache.close()
    with path.open("ab") as fh:
        fh.write(b'{"key": "k3", "output": {"compl')  # a write cut short by a crash
    again = PredictionCache(path)
    assert again.get("k1") is not None and again.get("k2") is not None and again.get("k3") is None
    again.put("k3", ModelOutput(completions=["c"]), {})
    again.close()
    assert len(PredictionCache(path)) == 3


def test_backoff_grows_is_bounded_and_honours_retry_after() -> None:
    cfg = RetryConfig(backoff_base_s=1.0, backoff_max_s=8.0)
    rng = random.Random(0)
    d = [backoff_delay(a, cfg, None, rng) for a in range(1, 8)]
    assert 0.5 <= d[0] <= 1.0 and all(x <= 8.0 for x in d) and d[5] >= 4.0
    assert 5.0 <= backoff_delay(1, cfg, 5.0, rng) <= 5.5


def test_retry_stops_after_max_retries_and_records_the_error() -> None:
    calls = 0

    async def failing() -> ModelOutput:
        nonlocal calls
        calls += 1
        raise RetryableModelError("HTTP 503: overloaded")

    cfg = RetryConfig(max_retries=2, backoff_base_s=0.001, backoff_max_s=0.002)
    out = asyncio.run(call_with_retry(failing, cfg, timeout=1.0, rng=random.Random(0)))
    assert out.output is None and calls == 3 and out.attempts == 3
    assert out.error is not None and "HTTP 503" in out.error


def test_retry_is_bounded_in_total_time() -> None:
    async def throttled() -> ModelOutput:
        raise RetryableModelError("HTTP 429", retry_after=100.0)

    cfg = RetryConfig(max_retries=50, max_total_s=1.0)
    out = asyncio.run(call_with_retry(throttled, cfg, timeout=1.0, rng=random.Random(0)))
    assert out.output is None and out.attempts == 1 and "gave up" in (out.error or "")


def test_pass_at_k_unbiased_estimator() -> None:
    from evalscope.aggregation import pass_at_k, passk_names
    from evalscope.aggregation import reduce_completions as score_completions

    assert passk_names(1) == [] and passk_names(10) == ["pass@1", "pass@2", "pass@4", "pass@8", "pass@10"]
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 3, 2) == pytest.approx(1 - (7 * 6) / (10 * 9))
    assert pass_at_k(10, 0, 10) == 0.0 and pass_at_k(10, 1, 10) == 1.0
    scores = score_completions([{"acc": 1.0}, {"acc": 0.0}, {"acc": 0.0}, {"acc": 1.0}], ["acc"])
    assert scores == {"acc": 0.5, "pass@1": 0.5, "pass@2": pytest.approx(1 - 1 / 6), "pass@4": 1.0}


def test_the_engine_runs_with_fewer_gc_passes_and_restores_the_callers(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached 10,000-sample judged rerun spent a third of its CPU in the cyclic collector
    (`evalscope/gc_tuning.py`): planning and scoring run with higher thresholds, the caller's come back."""
    import gc

    from evalscope import run_task
    from evalscope.gc_tuning import ENGINE_GC_THRESHOLD, fewer_gc_passes
    from evalscope_native.engine import backend

    seen: list[tuple[int, int, int]] = []
    real = backend.score_sync

    def watched(*args: object, **kwargs: object) -> object:
        seen.append(gc.get_threshold())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(backend, "score_sync", watched)
    before = gc.get_threshold()
    run_task({"model": "mock_llm", "datasets": ["arc"], "data_dir": str(data_dir), "limit": 3,
              "dataset_args": {"arc": {"subset_list": ["ARC-Easy"]}}, "work_dir": str(tmp_path / "out")})  # fmt: skip
    assert seen and set(seen) == {ENGINE_GC_THRESHOLD} and gc.get_threshold() == before
    try:  # a caller who disabled automatic collection keeps it disabled
        gc.set_threshold(0)
        assert fewer_gc_passes(gc.get_threshold)() == (0, before[1], before[2])
    finally:
        gc.set_threshold(*before)
