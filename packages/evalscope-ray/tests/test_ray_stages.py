"""Generation and scoring as two stages on Ray: model actors request, CPU scoring actors score and ask
the judge through its own cluster-wide limiter (docs/ray.md, "What runs where").

What must hold: a judged run gives the same records and report as the local runner; every judge
request comes from a scoring actor, none from a model actor; a judge rate and concurrency cap hold
at the judge server; a run whose answers are stored but not scored is only scored on rerun.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.testing import ScriptedServer
from evalscope_native.testing.judge_rules import judge_config
from ray_helpers import comparable, peak_in_flight

pytestmark = pytest.mark.slow

# Two model actors (1 CPU each) and two scoring actors (half a CPU each) fit the three 1-CPU nodes.
SPLIT = {"shard_size": 10, "actors": 2, "scoring_actors": 2, "cpus_per_scoring_actor": 0.5}


def _simple_qa(folder: Path, n: int) -> tuple[Path, list[dict[str, str]]]:
    """n SimpleQA questions; the model is right on i % 3 == 0, says "I don't know" on 1, wrong on 2."""
    rows, entries = [], []
    for i in range(n):
        rows.append({"problem": f"What is the capital of country {i}?", "answer": f"City{i}",
                     "metadata": "{'topic': 'Geo'}"})  # fmt: skip
        reply = [f"It is City{i}.", "I don't know.", "It is Atlantis."][i % 3]
        entries.append({"contains": f"country {i}?", "reply": reply})
    path = folder / "default" / "test.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder, entries


def _task(
    model: ScriptedServer, judge: ScriptedServer, data: Path, work: Path, **over: Any
) -> dict[str, Any]:
    return {
        "model": "scripted",
        "api_url": model.base_url,
        "datasets": ["simple_qa"],
        "dataset_args": {"simple_qa": {"dataset_id": str(data)}},
        "judge_model_args": {"model_id": "judge", "api_url": judge.base_url},
        "eval_batch_size": 8,
        "work_dir": str(work),
        **over,
    }


def _reviews(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "reviews/scripted/simple_qa.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _judge_counts(caplog: pytest.LogCaptureFixture) -> tuple[int, int]:
    """(from scoring actors, from model actors) as the driver logged them at the end of the run."""
    found = [r.args for r in caplog.records if r.getMessage().startswith("ray: judge requests:")]
    assert found, "the driver logs who asked the judge"
    scoring, model = found[-1]  # type: ignore[misc]
    return int(scoring), int(model)


def test_judged_run_is_split_same_records_as_local_and_only_scoring_actors_ask_the_judge(
    ray_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="evalscope.ray")
    n = 30
    data, entries = _simple_qa(tmp_path / "data", n)
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1})) as judge,
    ):
        monkeypatch.setenv("EVALSCOPE_CACHE_DIR", str(tmp_path / "cache-local"))  # judge verdicts: cold
        local = run_task(_task(model, judge, data, tmp_path / "local"))["simple_qa"]
        assert judge.stats()["requests"] == n
        model.reset_stats()
        judge.reset_stats()

        monkeypatch.setenv("EVALSCOPE_CACHE_DIR", str(tmp_path / "cache-ray"))  # passed on to the actors
        args = {"address": ray_cluster.address, **SPLIT}
        remote = run_task(_task(model, judge, data, tmp_path / "ray"), runner="ray", runner_args=args)[
            "simple_qa"
        ]
        stats, judged = model.stats(), judge.stats()

    assert stats["requests"] == n and set(stats["by_key"].values()) == {1}  # each sample asked once
    assert judged["requests"] == n  # each verdict asked once, none twice
    assert any("split stages" in r.getMessage() for r in caplog.records)  # auto: a judge splits the run
    # Every judge request passed through a scoring actor's judge gate; the model actors sent none.
    assert _judge_counts(caplog) == (n, 0)
    scored = [r for r in caplog.records if " scored (" in r.getMessage()]
    assert len(scored) == n // SPLIT["shard_size"]

    assert remote.score("is_correct") == pytest.approx(local.score("is_correct")) == pytest.approx(1 / 3)
    assert comparable(remote, judged=True) == comparable(local, judged=True)
    local_dir, ray_dir = next((tmp_path / "local").iterdir()), next((tmp_path / "ray").iterdir())
    assert _reviews(ray_dir) == _reviews(local_dir)  # attempts, verdicts, replies: all the same


def test_cluster_wide_judge_rate_and_concurrency_caps(
    ray_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rate, cap = 20.0, 2
    data, entries = _simple_qa(tmp_path / "data", 40)
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1}, delay_s=0.02, record_timings=True)) as judge,
    ):
        monkeypatch.setenv("EVALSCOPE_CACHE_DIR", str(tmp_path / "cache-rate"))
        args = {"address": ray_cluster.address, **SPLIT, "judge_requests_per_second": rate}
        run_task(_task(model, judge, data, tmp_path / "rate"), runner="ray", runner_args=args)
        arrivals = sorted(t[0] for t in judge.stats()["timings"].values())
        assert len(arrivals) == 40
        measured = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        # Two scoring actors x 8 judge workers each, one cap: never above it by more than 5 %.
        assert rate * 0.6 <= measured <= rate * 1.05, measured

        judge.configure(delay_s=0.15, record_timings=True)
        judge.reset_stats()
        monkeypatch.setenv("EVALSCOPE_CACHE_DIR", str(tmp_path / "cache-conc"))
        args = {"address": ray_cluster.address, **SPLIT, "judge_max_concurrency": cap}
        run_task(_task(model, judge, data, tmp_path / "conc", limit=16), runner="ray", runner_args=args)
        spans = [(t[0], t[2]) for t in judge.stats()["timings"].values()]
    assert len(spans) == 16 and peak_in_flight(spans) == cap  # reached, never exceeded


def test_answers_stored_but_unscored_are_only_scored_on_rerun(
    ray_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="evalscope.ray")
    monkeypatch.setenv("EVALSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    data, entries = _simple_qa(tmp_path / "data", 20)
    args = {"address": ray_cluster.address, **SPLIT}
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1})) as judge,
    ):
        first = run_task(_task(model, judge, data, tmp_path / "out"), runner="ray", runner_args=args)[
            "simple_qa"
        ]
        run_dir = next((tmp_path / "out").iterdir())
        before = _reviews(run_dir)
        # Every answer is stored, no shard is scored: what a run stopped during scoring leaves.
        for path in (run_dir / "shards").rglob("*.jsonl"):
            path.unlink()
        model.reset_stats()
        judge.reset_stats()
        caplog.clear()
        again = run_task(
            _task(model, judge, data, tmp_path / "out", use_cache=str(run_dir)),
            runner="ray",
            runner_args=args,
        )["simple_qa"]
        assert model.stats()["requests"] == 0
    # No model actor was even started (a GPU run would not load the checkpoint for nothing).
    assert any("0 model actor(s), 2 scoring actor(s); 2 shard(s) only to score" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]  # fmt: skip
    assert len(list((run_dir / "shards").rglob("*.jsonl"))) == 2
    assert again.score("is_correct") == first.score("is_correct")

    def answers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:  # a reused answer records 0 attempts
        return [{k: v for k, v in r.items() if k != "attempts"} for r in rows]

    assert answers(_reviews(run_dir)) == answers(before)


def test_a_scoring_actor_lost_mid_shard_costs_no_model_request(
    ray_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Its shard goes back to the scoring queue with the same outcomes: the model is not asked again."""
    import threading
    import time

    import ray

    caplog.set_level("WARNING", logger="evalscope.ray")
    monkeypatch.setenv("EVALSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    n = 40
    data, entries = _simple_qa(tmp_path / "data", n)
    result: dict[str, Any] = {}
    with (
        ScriptedServer({"model": "scripted", "entries": entries}) as model,
        ScriptedServer(judge_config({"seed": 1}, delay_s=0.2)) as judge,
    ):
        task = _task(model, judge, data, tmp_path / "out")

        def run() -> None:
            try:
                args = {"address": ray_cluster.address, **SPLIT}
                result["report"] = run_task(task, runner="ray", runner_args=args)["simple_qa"]
            except BaseException as exc:  # surfaced below
                result["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 60
        while judge.stats()["requests"] < 4 and time.monotonic() < deadline:
            time.sleep(0.02)  # polling a counter, not synchronising on time
        scorers = [a for a in ray.util.list_named_actors() if a.startswith("evalscope-scoring-actor-")]
        assert scorers, "the scoring actors are up while the judge is asked"
        ray.kill(ray.get_actor(scorers[0]), no_restart=True)  # as if its process or node died
        thread.join(timeout=120)
        assert not thread.is_alive()
        asked = model.stats()
    assert "error" not in result, result.get("error")
    assert any("scoring actor" in r.getMessage() and "lost" in r.getMessage() for r in caplog.records)
    report = result["report"]
    assert report.num_samples == n and report.num_errors == 0
    assert asked["requests"] == n and set(asked["by_key"].values()) == {1}  # nothing answered asked twice
