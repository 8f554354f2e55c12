"""τ-bench (retail, airline) end to end: a scripted agent, a scripted simulated user, in-process tools.

The data are fixtures of our own making in τ-bench's schemas (`data/*.json`, `wiki.md`, the tasks
list), written under tmp_path and read from `local_path`. Two scripted servers (`evalscope.testing`)
play the model under test and the simulated user. The agent follows a plan the simulated user gives
in its opening line (`PLAN: tool {json args} ; tool {json args}`), one tool call per request, then
says the plan's closing words; the user answers `###STOP###` once the agent has replied. Where the
τ-bench repository is available (its mirror, or $TAU_BENCH_SRC), its own tools run the same actions
and must give the same observations and database states.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.aggregation import pass_at_k, pass_hat_k
from evalscope.errors import DatasetNotFoundError
from evalscope.testing import InProcessServer, ReplyError

TAU_MIRROR = Path("/work/.mirror/sierra-research+tau-bench/repo")

RETAIL = {
    "users": {
        "ana_lee_1001": {
            "name": {"first_name": "Ana", "last_name": "Lee"},
            "address": {"address1": "1 Main St", "address2": "", "city": "Austin", "country": "USA",
                        "state": "TX", "zip": "78701"},
            "email": "ana.lee@example.com",
            "payment_methods": {
                "gift_card_1": {"source": "gift_card", "balance": 10.0, "id": "gift_card_1"},
                "credit_card_1": {"source": "credit_card", "brand": "visa", "last_four": "1111",
                                  "id": "credit_card_1"},
            },
            "orders": ["#W1", "#W2"],
        }
    },
    "orders": {
        "#W1": {"order_id": "#W1", "user_id": "ana_lee_1001", "address": {}, "status": "pending",
                "items": [{"name": "Mug", "product_id": "P1", "item_id": "I1", "price": 12.5,
                           "options": {"color": "red"}}],
                "fulfillments": [],
                "payment_history": [{"transaction_type": "payment", "amount": 12.5,
                                     "payment_method_id": "gift_card_1"}]},
        "#W2": {"order_id": "#W2", "user_id": "ana_lee_1001", "address": {}, "status": "processed",
                "items": [], "fulfillments": [], "payment_history": []},
    },
    "products": {"P1": {"name": "Mug", "product_id": "P1", "variants": {
        "I1": {"item_id": "I1", "options": {"color": "red"}, "available": True, "price": 12.5}}}},
}  # fmt: skip
AIRLINE = {
    "users": {"raj_sen_2002": {"name": {"first_name": "Raj", "last_name": "Sen"}, "email": "raj@example.com",
                               "payment_methods": {"credit_card_9": {"source": "credit_card", "id": "credit_card_9"}},
                               "reservations": ["ABC123"]}},
    "reservations": {"ABC123": {"reservation_id": "ABC123", "user_id": "raj_sen_2002", "origin": "JFK",
                                "destination": "SFO", "flight_type": "one_way", "cabin": "economy",
                                "flights": [{"flight_number": "HAT001", "date": "2024-05-20", "price": 200,
                                             "origin": "JFK", "destination": "SFO"}],
                                "passengers": [{"first_name": "Raj", "last_name": "Sen", "dob": "1990-01-01"}],
                                "payment_history": [{"payment_id": "credit_card_9", "amount": 200}],
                                "created_at": "2024-05-14T10:00:00", "total_baggages": 0, "nonfree_baggages": 0,
                                "insurance": "yes"}},
    "flights": {"HAT001": {"flight_number": "HAT001", "origin": "JFK", "destination": "SFO",
                           "scheduled_departure_time_est": "08:00:00", "scheduled_arrival_time_est": "11:00:00",
                           "dates": {"2024-05-20": {"status": "available", "available_seats": {"economy": 9},
                                                    "prices": {"economy": 200}}}}},
}  # fmt: skip

CANCEL_W1 = [
    {"name": "find_user_id_by_email", "kwargs": {"email": "ana.lee@example.com"}},
    {"name": "cancel_pending_order", "kwargs": {"order_id": "#W1", "reason": "no longer needed"}},
]
WRONG_REASON = [CANCEL_W1[0], {"name": "cancel_pending_order",
                               "kwargs": {"order_id": "#W1", "reason": "ordered by mistake"}}]  # fmt: skip


def _plan(actions: list[dict[str, Any]], say: str) -> str:
    steps = " ; ".join(f"{a['name']} {json.dumps(a['kwargs'])}" for a in actions)
    return f"PLAN: {steps} ; SAY {say}"


def _task(
    user_id: str, plan: str, actions: list[dict[str, Any]], outputs: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {"annotator": "fixture", "user_id": user_id, "instruction": f"You are a customer. {plan}",
            "actions": actions, "outputs": list(outputs)}  # fmt: skip


RETAIL_TASKS = [
    # 0: solved: the agent's actions are the ground truth's
    _task("ana_lee_1001", _plan(CANCEL_W1, "Your order #W1 is cancelled."), CANCEL_W1),
    # 1: a wrong mutation: cancelled with another reason, so the database differs
    _task("ana_lee_1001", _plan(WRONG_REASON, "Order #W1 cancelled."), CANCEL_W1),
    # 2: read-only with a required output, said
    _task("ana_lee_1001", _plan([{"name": "get_order_details", "kwargs": {"order_id": "#W2"}}],
                                "Order #W2 is Processed, 1,000 thanks."),
          [{"name": "get_order_details", "kwargs": {"order_id": "#W2"}}], ("processed", "1000")),
    # 3: the required output is never said
    _task("ana_lee_1001", _plan([], "I cannot tell."), [], ("processed",)),
    # 4: bad input: the ground truth names a tool retail does not have
    _task("ana_lee_1001", _plan([], "ok"), [{"name": "refund_everything", "kwargs": {}}]),
    # 5: the agent transfers to a human: the episode ends there, the database is unchanged as in the truth
    _task("ana_lee_1001", _plan([{"name": "transfer_to_human_agents", "kwargs": {"summary": "wants a human"}}],
                                "unused"),
          [{"name": "transfer_to_human_agents", "kwargs": {"summary": "anything"}}]),
]  # fmt: skip
CANCEL_ABC = [{"name": "cancel_reservation", "kwargs": {"reservation_id": "ABC123"}}]
AIRLINE_TASKS = [_task("raj_sen_2002", _plan(CANCEL_ABC, "Reservation ABC123 is cancelled."), CANCEL_ABC)]


def _write_domain(root: Path, name: str, tables: dict[str, Any], tasks: list[dict[str, Any]]) -> None:
    folder = root / name
    (folder / "data").mkdir(parents=True)
    for table, rows in tables.items():
        (folder / "data" / f"{table}.json").write_text(json.dumps(rows), encoding="utf-8")
    (folder / "wiki.md").write_text(
        f"# {name} agent policy (fixture)\nAct on the user's behalf.", encoding="utf-8"
    )
    (folder / "tasks_test.json").write_text(json.dumps(tasks), encoding="utf-8")


def _data(tmp_path: Path, retail: list[dict[str, Any]] = RETAIL_TASKS) -> Path:
    root = tmp_path / "tau"
    _write_domain(root, "retail", RETAIL, retail)
    _write_domain(root, "airline", AIRLINE, AIRLINE_TASKS)
    return root


def _agent(bodies: list[dict[str, Any]]) -> Any:
    """The model under test: follows the plan in the user's first message, one step per request.

    A plan that contains FLAKY goes wrong on every second trial (it cancels with another reason)."""
    lock = threading.Lock()
    starts: Counter[str] = Counter()

    def chat(messages: list[dict[str, Any]], body: dict[str, Any]) -> str | dict[str, Any]:
        with lock:
            bodies.append(body)
        opening = messages[1]["content"]
        steps = [s.strip().removeprefix("PLAN:").strip() for s in opening.split(" ; ")]
        steps = [s for s in steps if s != "FLAKY"]
        say = steps.pop().removeprefix("SAY ")
        done = sum(1 for m in messages if m["role"] == "tool")
        if "FLAKY" in opening:
            with lock:
                if len(messages) == 2:
                    starts[opening] += 1
                wrong = starts[opening] % 2 == 0
            if wrong:
                steps = [s.replace("no longer needed", "ordered by mistake") for s in steps]
        steps = [s for s in steps if s]
        if done < len(steps):
            name, _, args = steps[done].partition(" ")
            return {"content": "", "tool_calls": [{"name": name, "arguments": json.loads(args)}]}
        return say

    return chat


def _user(asked: list[list[dict[str, Any]]]) -> Any:
    """The simulated user: opens with the plan from its instruction, stops once the agent replied."""

    def chat(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        asked.append(messages)
        instruction = messages[0]["content"].split("Instruction: ", 1)[1].split("\nRules:")[0]
        if "FAILUSER" in instruction:
            raise ReplyError(401, "invalid api key for the user model")
        if len(messages) == 2:  # "Hi! How can I help you today?"
            return instruction.split("You are a customer. ", 1)[1]
        return "###STOP###"

    return chat


def _config(
    agent: InProcessServer, user: InProcessServer, root: Path, out: Path, **more: Any
) -> dict[str, Any]:
    return {
        "model": "agent",
        "api_url": agent.base_url,
        "datasets": ["tau_bench"],
        "dataset_args": {"tau_bench": {"local_path": str(root), "extra_params": {
            "user_model": "user", "api_base": user.base_url, "api_key": "user-secret-key"}}},
        "work_dir": str(out),
        **more,
    }  # fmt: skip


def _records(out: Path) -> list[dict[str, Any]]:
    reviews = next(out.glob("*/reviews/agent/tau_bench.jsonl"))
    return [json.loads(line) for line in reviews.read_text().splitlines()]


def test_tau_bench_end_to_end(tmp_path: Path) -> None:
    root = _data(tmp_path)
    bodies: list[dict[str, Any]] = []
    asked: list[list[dict[str, Any]]] = []
    with InProcessServer({"model": "agent"}, chat=_agent(bodies)) as agent, \
            InProcessServer({"model": "user"}, chat=_user(asked)) as user:  # fmt: skip
        report = run_task(_config(agent, user, root, tmp_path / "out"))["tau_bench"]
    per_subset = {s.name: s.score for m in report.metrics for c in m.categories for s in c.subsets}
    # retail: solved 1, wrong reason 0, output said 1, output missing 0, bad input (failed), transfer 1
    assert per_subset == {"airline": 1.0, "retail": pytest.approx(3 / 6)}
    assert report.num_errors == 1
    (error,) = report.errors
    assert (
        error.id == "retail/4"
        and "refund_everything" in error.error
        and "fix the task's actions" in error.error
    )
    records = {r["id"]: r for r in _records(tmp_path / "out")}
    assert {i: r["scores"]["acc"] for i, r in records.items()} == {
        "retail/0": 1.0, "retail/1": 0.0, "retail/2": 1.0, "retail/3": 0.0, "retail/4": 0.0, "retail/5": 1.0,
        "airline/0": 1.0,
    }  # fmt: skip
    assert "database differs" in records["retail/1"]["explanation"]
    assert records["retail/3"]["metadata"]["reward_info"]["outputs"] == {"processed": False}
    assert "ended by transfer_to_human_agents" in records["retail/5"]["explanation"]
    # the episode: the policy as the system prompt, τ-bench's tools through the tools API (no
    # tool_choice), each result sent back as a tool message answering the call's id
    solved = [b for b in bodies if "SAY Your order #W1" in b["messages"][1]["content"]]
    assert len(solved) == 3
    first, _, last = solved
    assert first["messages"][0] == {"role": "system",
                                    "content": "# retail agent policy (fixture)\nAct on the user's behalf."}  # fmt: skip
    assert [t["function"]["name"] for t in first["tools"]][:3] == [
        "calculate", "cancel_pending_order", "exchange_delivered_order_items"]  # fmt: skip
    assert "tool_choice" not in first and len(first["tools"]) == 16
    call, result = last["messages"][2], last["messages"][3]
    assert (
        call["role"] == "assistant" and call["tool_calls"][0]["function"]["name"] == "find_user_id_by_email"
    )
    assert result == {"role": "tool", "content": "ana_lee_1001", "tool_call_id": call["tool_calls"][0]["id"]}
    # the simulated user got τ-bench's prompt and saw the agent's reply as its user message
    convo = next(m for m in asked if "SAY Your order #W1" in m[0]["content"] and len(m) == 4)
    assert convo[0]["content"].startswith("You are a user interacting with an agent.\n\nInstruction: ")
    assert convo[1:] == [{"role": "user", "content": "Hi! How can I help you today?"},
                         {"role": "assistant", "content": convo[2]["content"]},
                         {"role": "user", "content": "Your order #W1 is cancelled."}]  # fmt: skip
    # the user model's key never reaches the run folder
    assert not any("user-secret-key" in p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file())


def test_pass_hat_k_over_trials(tmp_path: Path) -> None:
    flaky = _task("ana_lee_1001", "FLAKY ; " + _plan(CANCEL_W1, "Cancelled."), CANCEL_W1)
    root = _data(tmp_path, retail=[RETAIL_TASKS[0], flaky, RETAIL_TASKS[3]])
    bodies: list[dict[str, Any]] = []
    with InProcessServer({"model": "agent"}, chat=_agent(bodies)) as agent, \
            InProcessServer({"model": "user"}, chat=_user([])) as user:  # fmt: skip
        config = _config(agent, user, root, tmp_path / "out", generation_config={"n": 3, "temperature": 1.0})
        config["dataset_args"]["tau_bench"]["subset_list"] = ["retail"]
        report = run_task(config)["tau_bench"]
    figures = {m.name: m.score for m in report.metrics}
    # three trials a task: always solved (3 of 3), flaky (trials 1 and 3 of 3), never (0 of 3)
    per_task = [(3, 3), (3, 2), (3, 0)]
    expected = {"mean_acc": sum(c / n for n, c in per_task) / 3}
    for k in (1, 2, 3):
        expected[f"pass^{k}"] = sum(pass_hat_k(n, c, k) for n, c in per_task) / 3
    for k in (1, 2, 3):
        expected[f"pass@{k}"] = sum(pass_at_k(n, c, k) for n, c in per_task) / 3
    assert figures == pytest.approx(expected)
    assert figures["pass^1"] == pytest.approx(5 / 9) and figures["pass^2"] == pytest.approx(4 / 9)
    assert figures["pass^3"] == pytest.approx(1 / 3)
    metric = next(m for m in report.metrics if m.name == "pass^2")
    assert metric.stderr is not None and metric.stderr > 0  # a mean over tasks, with its uncertainty
    records = _records(tmp_path / "out")
    assert [s["acc"] for s in records[1]["metadata"]["completion_scores"]] == [1.0, 0.0, 1.0]
    assert records[1]["scores"]["pass^2"] == pytest.approx(1 / 3)


def test_user_simulator_failure_is_counted_not_scored(tmp_path: Path) -> None:
    broken = _task("ana_lee_1001", _plan([], "ok") + " FAILUSER", [])
    root = _data(tmp_path, retail=[RETAIL_TASKS[0], broken])
    with InProcessServer({"model": "agent"}, chat=_agent([])) as agent, \
            InProcessServer({"model": "user"}, chat=_user([])) as user:  # fmt: skip
        config = _config(agent, user, root, tmp_path / "out")
        config["dataset_args"]["tau_bench"]["subset_list"] = ["retail"]
        report = run_task(config)["tau_bench"]
    assert report.num_errors == 1 and report.num_samples == 2
    (error,) = report.errors
    assert error.id == "retail/1"
    assert "the simulated user (user at" in error.error and "401" in error.error
    assert "extra_params user_model / api_base / api_key" in error.error
    assert {r["id"]: r["scores"]["acc"] for r in _records(tmp_path / "out")} == {
        "retail/0": 1.0,
        "retail/1": 0.0,
    }


def test_a_dead_user_simulator_stops_the_run_before_it_starts(tmp_path: Path) -> None:
    """Checked with the model's service before the run: seconds and one error, not every task failed
    after its retries."""
    import socket
    import time

    from evalscope.errors import EvalScopeError

    root = _data(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    with InProcessServer({"model": "agent"}, chat=_agent([])) as agent:
        config = _config(agent, agent, root, tmp_path / "out")
        config["dataset_args"]["tau_bench"]["extra_params"]["api_base"] = dead
        started = time.monotonic()
        with pytest.raises(EvalScopeError) as info:
            run_task(config)
        took = time.monotonic() - started
        assert agent.stats()["requests"] == 0  # no task was started
    assert "tau_bench simulated user (user)" in str(info.value) and "connection refused" in str(info.value)
    assert took < 30 and not (tmp_path / "out").exists()


def test_resume_replays_episodes_from_the_cache(tmp_path: Path) -> None:
    root = _data(tmp_path)
    bodies: list[dict[str, Any]] = []
    asked: list[list[dict[str, Any]]] = []
    with InProcessServer({"model": "agent"}, chat=_agent(bodies)) as agent, \
            InProcessServer({"model": "user"}, chat=_user(asked)) as user:  # fmt: skip
        first = run_task(_config(agent, user, root, tmp_path / "out"))["tau_bench"]
        sent, asked_n = len(bodies), len(asked)
        run_dir = next((tmp_path / "out").iterdir())
        resumed = {**_config(agent, user, root, tmp_path / "out"), "use_cache": str(run_dir)}
        again = run_task(resumed)["tau_bench"]
        rescored = run_task({**resumed, "rerun_review": True})["tau_bench"]  # from the cache alone
    assert (len(bodies), len(asked)) == (sent, asked_n)  # nothing sent to either model
    scores = [m.score for m in first.metrics]
    assert [m.score for m in again.metrics] == [m.score for m in rescored.metrics] == scores


def test_missing_data_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    root = _data(tmp_path)
    (root / "retail" / "data" / "products.json").unlink()
    with pytest.raises(DatasetNotFoundError) as info:
        run_task({"model": "mock_llm", "datasets": ["tau_bench"], "work_dir": str(tmp_path / "out"),
                  "dataset_args": {"tau_bench": {"local_path": str(root)}}})  # fmt: skip
    assert "retail" in info.value.message and "data/products.json" in info.value.message
    assert "tau_bench/envs/retail" in (info.value.hint or "")
    assert not (tmp_path / "out").exists()  # found before any output


def test_pass_hat_k_values() -> None:
    assert pass_hat_k(3, 2, 1) == pytest.approx(2 / 3)
    assert pass_hat_k(3, 2, 2) == pytest.approx(1 / 3)
    assert pass_hat_k(3, 2, 3) == 0.0
    assert pass_hat_k(4, 4, 4) == 1.0
    with pytest.raises(ValueError):
        pass_hat_k(2, 3, 1)


def _reference_envs(tmp_path: Path) -> Path | None:
    given = os.environ.get("TAU_BENCH_SRC")
    if given and (Path(given) / "tau_bench" / "envs").is_dir():
        return Path(given)
    if not TAU_MIRROR.is_dir():
        return None
    paths = ["tau_bench/envs/retail", "tau_bench/envs/airline", "tau_bench/envs/tool.py"]
    archive = subprocess.run(["git", f"--git-dir={TAU_MIRROR}", "archive", "HEAD", *paths],
                             capture_output=True, check=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], input=archive, check=True)
    return tmp_path


def test_tools_match_tau_bench(tmp_path: Path) -> None:
    """τ-bench's own tools and ours on the real databases: every ground-truth action of the test tasks,
    run twice (the second time hits the error paths), once with a wrong value and once with an argument
    missing: the same observation every time and the same database hash at the end."""
    import importlib
    import random
    import sys
    import types

    src = _reference_envs(tmp_path)
    if src is None:
        pytest.skip("the τ-bench repository is not available (set TAU_BENCH_SRC to a checkout)")
    from evalscope_native.families.function_calling.tau_bench import invoke
    from evalscope_native.families.function_calling.tau_data import load_domain, state_hash

    saved = {k: v for k, v in sys.modules.items() if k == "tau_bench" or k.startswith("tau_bench.")}
    for name in ("tau_bench", "tau_bench.envs", "tau_bench.envs.retail", "tau_bench.envs.airline"):
        stub = types.ModuleType(name)  # the tool modules without τ-bench's dependencies (litellm, ...)
        stub.__path__ = [str(src / name.replace(".", "/"))]
        sys.modules[name] = stub
    rng, checked = random.Random(0), 0
    try:
        for domain_name in ("retail", "airline"):
            tools = importlib.import_module(f"tau_bench.envs.{domain_name}.tools").ALL_TOOLS
            ref = {t.get_info()["function"]["name"]: t for t in tools}
            domain = load_domain(src / "tau_bench" / "envs", domain_name, "test")
            # one database per domain: each task's actions run where the tasks before left it
            theirs, ours = domain.fresh_data(), domain.fresh_data()
            for task in domain.tasks:
                actions = list(task["actions"]) * 2
                for act in task["actions"]:
                    kw = dict(act["kwargs"])
                    if kw:
                        key = rng.choice(list(kw))
                        actions.append({"name": act["name"], "kwargs": {**kw, key: "X"}})
                        key = rng.choice(list(kw))
                        actions.append(
                            {"name": act["name"], "kwargs": {k: v for k, v in kw.items() if k != key}}
                        )
                for act in actions:
                    try:
                        expected = ref[act["name"]].invoke(data=theirs, **act["kwargs"])
                    except Exception as exc:
                        expected = f"Error: {exc}"
                    assert invoke(domain_name, ours, act["name"], act["kwargs"]) == (expected or ""), act
                    checked += 1
            assert state_hash(ours) == state_hash(theirs)
    finally:
        for name in [k for k in sys.modules if k == "tau_bench" or k.startswith("tau_bench.")]:
            del sys.modules[name]
        sys.modules.update(saved)
    assert checked > 2000


def test_offline_without_local_data_fails_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--offline` reaches the adapter: no download is tried, the error names the fix."""
    import urllib.request

    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an offline run tried to download")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(DatasetNotFoundError, match="offline") as info:
        run_task({"model": "mock_llm", "datasets": ["tau_bench"], "work_dir": str(tmp_path / "out"),
                  "data_dir": str(tmp_path / "empty"), "offline": True})  # fmt: skip
    assert "local_path" in (info.value.hint or "")
    assert not (tmp_path / "out").exists()
