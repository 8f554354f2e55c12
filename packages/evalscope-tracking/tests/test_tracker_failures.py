"""A tracker that is missing or raises logs one error naming the fix; the run still succeeds.
A tracker name that cannot work fails before any request; the record handed over is redacted."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from evalscope import run_task
from evalscope.errors import ConfigError, UnknownNameError
from evalscope.run_record import RecordTable, RunRecord, flatten_figures, send_record
from evalscope.secrets import register_secrets
from evalscope.testing import ScriptedServer
from tracking_helpers import N_SAMPLES, SECRET, read_wandb_run


def _eval(server: ScriptedServer, data_dir: Path, work: Path, reporters: list[str]) -> Any:
    return run_task(
        {
            "model": "scripted",
            "api_url": server.base_url,
            "api_key": SECRET,
            "datasets": ["gsm8k"],
            "dataset_args": {"gsm8k": {"few_shot_num": 0}},
            "data_dir": str(data_dir),
            "limit": N_SAMPLES,
            "work_dir": str(work),
            "reporters": reporters,
        }
    )


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_missing_tracker_package_logs_the_install_and_the_run_succeeds(
    gsm8k_server: ScriptedServer, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setitem(sys.modules, "wandb", None)  # `import wandb` raises ImportError
    with caplog.at_level(logging.ERROR):
        reports = _eval(gsm8k_server, data_dir, tmp_path / "out", ["table", "wandb"])
    assert reports["gsm8k"].num_samples == N_SAMPLES
    (error,) = _errors(caplog)
    message = error.getMessage()
    assert "tracking/wandb" in message and "pip install" in message and "evalscope-tracking[wandb]" in message
    assert error.exc_info is None, "one line with the fix, not a traceback"
    # eval logs to the run's file only, so the error is also shown on the terminal, once
    assert capfd.readouterr().err.count("reporter tracking/wandb failed") == 1


def test_raising_tracker_is_isolated_from_the_others(
    gsm8k_server: ScriptedServer, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """MLflow pointed at a store it cannot write raises; W&B, after it, still logs the run."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (blocker / "mlruns").as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    with caplog.at_level(logging.ERROR):
        reports = _eval(gsm8k_server, data_dir, tmp_path / "out", ["mlflow", "wandb"])
    assert reports["gsm8k"].num_samples == N_SAMPLES
    (error,) = _errors(caplog)
    assert "tracking/mlflow failed" in error.getMessage() and "drop mlflow" in error.getMessage()
    run = read_wandb_run(tmp_path / "out")
    assert run["summary"][f"gsm8k/{reports['gsm8k'].metrics[0].name}"] == pytest.approx(0.75)


def test_perf_with_a_missing_tracker_still_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from evalscope_perf.benchmark import run_perf_benchmark

    monkeypatch.setitem(sys.modules, "swanlab", None)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("hello\nworld\n", encoding="utf-8")
    with (
        ScriptedServer({"model": "fake-model", "tokens": "max_tokens"}) as srv,
        caplog.at_level(logging.ERROR),
    ):
        result = run_perf_benchmark(
            {
                "url": srv.base_url, "model": "fake-model", "dataset": "line_by_line",
                "dataset_path": str(prompts), "number": 2, "max_tokens": 4, "live": False,
                "no_test_connection": True, "outputs_dir": str(tmp_path / "out"), "visualizer": "swanlab",
            },
            quiet=True,
        )  # fmt: skip
    assert result.runs[0].succeeded == 2
    (error,) = _errors(caplog)
    assert "tracking/swanlab" in error.getMessage() and "evalscope-tracking[swanlab]" in error.getMessage()


@pytest.mark.parametrize(("visualizer", "error"), [("clearml", UnknownNameError), ("table", ConfigError)])
def test_perf_refuses_a_visualizer_that_cannot_work_before_any_request(
    tmp_path: Path, visualizer: str, error: type[Exception]
) -> None:
    from evalscope_perf.benchmark import run_perf_benchmark

    with pytest.raises(error):
        run_perf_benchmark(
            {"url": "http://127.0.0.1:9/v1", "model": "m", "outputs_dir": str(tmp_path / "out"),
             "visualizer": visualizer, "dataset": "random", "no_test_connection": True},
            quiet=True,
        )  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_send_record_redacts_what_the_tracker_sees() -> None:
    seen: list[RunRecord] = []
    register_secrets(["tracker-visible-secret-123"])
    record = RunRecord(
        kind="eval", name="run", project="p", run_dir="/r", work_dir="/w",
        config={"api_key": "plain", "note": "uses tracker-visible-secret-123"},
        figures={"a/score": 1.0},
        tables=[RecordTable(name="samples/x", columns=["prediction"], rows=[["tracker-visible-secret-123!"]])],
    )  # fmt: skip

    class _Spec:
        accepts, name, canonical_name = "record", "spy", "test/spy"

    import evalscope.registry as registry

    original = registry.load_impl
    registry.load_impl = lambda spec: seen.append  # type: ignore[assignment]
    try:
        assert send_record(record, [_Spec()]) == []  # type: ignore[list-item]
    finally:
        registry.load_impl = original
    (got,) = seen
    assert got.config == {"api_key": "***", "note": "uses ***"}
    assert got.tables[0].rows == [["***!"]]
    assert got.figures == {"a/score": 1.0}


def test_credentials_never_leave_the_record() -> None:
    from pydantic import SecretStr

    record = RunRecord(kind="perf", name="n", project="p", run_dir="/r", work_dir="/w",
                       credentials={"wandb": SecretStr("wandb-key-987654321")})  # fmt: skip
    assert "wandb-key-987654321" not in record.model_dump_json() + repr(record)
    assert record.redacted().credentials["wandb"].get_secret_value() == "wandb-key-987654321"


def test_flatten_figures_keeps_finite_numbers_only() -> None:
    data = {"a": 1, "b": {"c": 2.5, "d": None, "e": "x", "f": True, "g": float("nan")}, "h": [1, 2]}
    assert flatten_figures(data) == {"a": 1.0, "b/c": 2.5}


def test_a_tracker_of_a_package_not_installed_is_refused_before_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--reporters aim` where a distribution of this tree declares `reporter:aim` but is not installed."""
    import evalscope.distributions as distributions
    from evalscope.errors import MissingDependencyError
    from evalscope.run_record import resolve_reporters

    real = distributions.provider_of
    monkeypatch.setattr(
        distributions,
        "provider_of",
        lambda kind, name: "evalscope-aim" if name == "aim" else real(kind, name),
    )
    with pytest.raises(MissingDependencyError, match="evalscope-aim"):
        resolve_reporters(["table", "aim"])
    with pytest.raises(UnknownNameError):
        resolve_reporters(["no-such-reporter"])
    assert [s.canonical_name for s in resolve_reporters(["wandb"], records_only=True)] == ["tracking/wandb"]
