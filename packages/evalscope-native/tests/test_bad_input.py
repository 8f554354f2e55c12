"""Bad input: a clear message, exit code 2, the closest valid name, and no half-written output."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path
from typing import Any

import pytest
from native_helpers import evalscope_cmd


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(evalscope_cmd(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def _assert_nothing_written(work: Path) -> None:
    assert not work.exists() or not any(work.iterdir()), list(work.rglob("*"))


def test_unknown_benchmark_suggests_closest(tmp_path: Path, cli_env: dict[str, str]) -> None:
    work = tmp_path / "out"
    res = _run(
        ["eval", "--model", "mock_llm", "--datasets", "gsm8", "--work-dir", str(work)], cli_env, tmp_path
    )
    assert res.returncode == 2, res.stderr
    assert "Unknown benchmark 'gsm8'" in res.stderr and "gsm8k" in res.stderr
    assert "Traceback" not in res.stderr
    _assert_nothing_written(work)


def test_unknown_model_family_suggests_closest(tmp_path: Path, cli_env: dict[str, str]) -> None:
    work = tmp_path / "out"
    res = _run(
        [
            "eval",
            "--model",
            "m",
            "--model-args",
            '{"model_type": "opena_api"}',
            "--datasets",
            "arc",
            "--work-dir",
            str(work),
        ],
        cli_env,
        tmp_path,
    )
    assert res.returncode == 2, res.stderr
    assert "Unknown model 'opena_api'" in res.stderr and "openai_api" in res.stderr
    _assert_nothing_written(work)


def test_unknown_config_key_in_yaml(tmp_path: Path, cli_env: dict[str, str]) -> None:
    work = tmp_path / "out"
    cfg = tmp_path / "task.yaml"
    cfg.write_text(f"model: mock_llm\ndatsets: [arc]\nwork_dir: {work}\n")
    res = _run(["eval", "--config", str(cfg)], cli_env, tmp_path)
    assert res.returncode == 2, res.stderr
    assert "unknown key 'datsets'" in res.stderr and "Did you mean 'datasets'?" in res.stderr
    _assert_nothing_written(work)


def test_unknown_flag_suggests_closest(tmp_path: Path, cli_env: dict[str, str]) -> None:
    res = _run(["eval", "--model", "mock_llm", "--datsets", "arc"], cli_env, tmp_path)
    assert res.returncode == 2
    assert "--datasets" in res.stderr


def test_bad_json_in_dataset_args_names_the_flag(tmp_path: Path, cli_env: dict[str, str]) -> None:
    work = tmp_path / "out"
    res = _run(
        [
            "eval",
            "--model",
            "mock_llm",
            "--datasets",
            "arc",
            "--dataset-args",
            '{"arc": {few_shot_num: 1}}',
            "--work-dir",
            str(work),
        ],
        cli_env,
        tmp_path,
    )
    assert res.returncode == 2, res.stderr
    assert "--dataset-args is not valid JSON" in res.stderr
    _assert_nothing_written(work)


GOOD_ARC = (
    '{"id": "q1", "question": "Q?", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "A"}'
)


def _eval_local_arc(
    tmp_path: Path, env: dict[str, str], text: str
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Evaluate ARC-Easy from a local folder holding `text` as test.jsonl; returns (file, result)."""
    data = tmp_path / "arc_local" / "ARC-Easy"
    data.mkdir(parents=True)
    (data / "test.jsonl").write_text(text)
    args = '{"arc": {"dataset_id": "%s", "subset_list": ["ARC-Easy"]}}' % (tmp_path / "arc_local")
    cmd = [
        "eval",
        "--model",
        "mock_llm",
        "--datasets",
        "arc",
        "--dataset-args",
        args,
        "--work-dir",
        str(tmp_path / "out"),
    ]
    return data / "test.jsonl", _run(cmd, env, tmp_path)


def test_malformed_jsonl_names_file_and_line(tmp_path: Path, cli_env: dict[str, str]) -> None:
    path, res = _eval_local_arc(
        tmp_path, cli_env, GOOD_ARC + "\n" + GOOD_ARC + "\n" + '{"id": "q3", "question": "broken\n'
    )
    assert res.returncode == 2, res.stderr
    assert f"{path}:3: invalid JSON" in res.stderr
    _assert_nothing_written(tmp_path / "out")


def test_record_missing_a_field_names_file_line_and_field(tmp_path: Path, cli_env: dict[str, str]) -> None:
    path, res = _eval_local_arc(
        tmp_path, cli_env, GOOD_ARC + "\n\n" + '{"id": "q2", "choices": {"text": ["a"]}, "answerKey": "A"}\n'
    )
    assert res.returncode == 2, res.stderr
    assert f"{path}:3: record is missing field 'question'" in res.stderr
    _assert_nothing_written(tmp_path / "out")


def test_malformed_csv_names_file_and_line(tmp_path: Path, cli_env: dict[str, str]) -> None:
    folder = tmp_path / "gsm_local" / "main"
    folder.mkdir(parents=True)
    (folder / "test.csv").write_text('question,answer\n"What is 1+1?","#### 2"\n"Too","many","fields"\n')
    work = tmp_path / "out"
    args = '{"gsm8k": {"dataset_id": "%s", "few_shot_num": 0}}' % (tmp_path / "gsm_local")
    res = _run(
        [
            "eval",
            "--model",
            "mock_llm",
            "--datasets",
            "gsm8k",
            "--dataset-args",
            args,
            "--work-dir",
            str(work),
        ],
        cli_env,
        tmp_path,
    )
    assert res.returncode == 2, res.stderr
    assert f"{folder / 'test.csv'}:3:" in res.stderr
    _assert_nothing_written(work)


def test_offline_without_local_copy_fails_at_once_naming_paths(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    env = dict(cli_env)
    env["EVALSCOPE_DATA_DIR"] = str(tmp_path / "empty")
    env["HF_HUB_OFFLINE"] = "1"
    work = tmp_path / "out"
    res = _run(["eval", "--model", "mock_llm", "--datasets", "arc", "--work-dir", str(work)], env, tmp_path)
    assert res.returncode == 2, res.stderr
    assert (
        "Offline and no local copy of 'arc'" in res.stderr and str(tmp_path / "empty" / "arc") in res.stderr
    )
    _assert_nothing_written(work)


def test_gsm8k_few_shot_without_train_split_says_how_to_go_zero_shot(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    work = tmp_path / "out"
    res = _run(
        ["eval", "--model", "mock_llm", "--datasets", "gsm8k", "--offline", "--work-dir", str(work)],
        cli_env,
        tmp_path,
    )
    assert res.returncode == 2, res.stderr
    assert "needs its 'train' split" in res.stderr and '"few_shot_num": 0' in res.stderr
    _assert_nothing_written(work)


def test_rerun_review_without_a_run_folder_is_a_usage_error(tmp_path: Path, cli_env: dict[str, str]) -> None:
    work = tmp_path / "out"
    res = _run(["eval", "--model", "mock_llm", "--datasets", "arc", "--rerun-review", "--work-dir", str(work)],
               cli_env, tmp_path)  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "--use-cache" in res.stderr
    _assert_nothing_written(work)


def test_flags_refine_the_config_file(tmp_path: Path, cli_env: dict[str, str]) -> None:
    """--dataset-args on the command line merges into the file's, key by key."""
    cfg = tmp_path / "task.yaml"
    cfg.write_text(
        "model: mock_llm\ndatasets: [arc]\nlimit: 2\n"
        "dataset_args: {arc: {subset_list: [ARC-Easy]}}\n"
        f"work_dir: {tmp_path / 'out'}\n"
    )
    res = _run(["eval", "--config", str(cfg), "--dataset-args", '{"arc": {"system_prompt": "Be brief."}}'],
               cli_env, tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "ARC-Easy" in res.stdout and "ARC-Challenge" not in res.stdout
    run_dir = next((tmp_path / "out").iterdir())
    saved = (run_dir / "configs" / "task_config.yaml").read_text()
    assert "Be brief." in saved and "ARC-Easy" in saved


def test_custom_dataset_without_a_local_copy_fails_at_once_even_online(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    env = {k: v for k, v in cli_env.items() if k != "HF_HUB_OFFLINE"}
    work = tmp_path / "out"
    res = _run(
        ["eval", "--model", "mock_llm", "--datasets", "general_mcq", "--work-dir", str(work)], env, tmp_path
    )
    assert res.returncode == 2, res.stderr
    assert "No local copy of 'general_mcq'" in res.stderr and "local_path" in res.stderr
    _assert_nothing_written(work)


def test_a_prediction_that_cannot_be_stored_stops_the_run_with_that_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    """Answers are stored on the loop turn after they arrive (the next request goes first); a store
    that fails (a full disk) must still stop the run with its error, not be logged and lost, and no
    more requests are sent once answers cannot be kept."""
    from evalscope import run_task
    from evalscope.testing import InProcessServer
    from evalscope_native.engine import cache as cache_module

    real_put = cache_module.PredictionCache.put
    stored: list[str] = []

    def put(self: Any, key: str, output: Any, meta: dict[str, Any]) -> None:
        if len(stored) == 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        stored.append(key)
        real_put(self, key, output, meta)

    monkeypatch.setattr(cache_module.PredictionCache, "put", put)
    with InProcessServer({"model": "scripted", "default_reply": "#### 1", "delay_s": 0.01}) as server:
        with pytest.raises(OSError, match="No space left"):
            run_task({
                "model": "scripted", "api_url": server.base_url, "datasets": ["gsm8k"], "limit": 200,
                "eval_batch_size": 2, "data_dir": str(data_dir), "work_dir": str(tmp_path / "out"),
                "dataset_args": {"gsm8k": {"few_shot_num": 0}},
            })  # fmt: skip
        sent = server.stats()["requests"]
    assert len(stored) == 5
    assert sent <= 5 + 1 + 2  # the five stored, the one that failed, at most one more per worker
    (predictions,) = (tmp_path / "out").glob("*/predictions/scripted/gsm8k.jsonl")
    assert len(predictions.read_text().splitlines()) == 5
