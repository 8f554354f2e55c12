"""Every backend declares what it honours; a run-wide flag it does not honour is refused, never ignored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evalscope import registry, run_task
from evalscope.errors import ConfigError
from evalscope.hookspecs import hookimpl
from evalscope.plugins import register_plugin, reset_plugins
from evalscope.specs import BackendCapabilities, BackendSpec
from pydantic import BaseModel

RAN: list[str] = []


class _Minimal:
    """A backend that honours nothing but the basics; it records whether it was ever run."""

    def prepare(self, config: Any) -> Any:
        RAN.append("prepare")
        return None

    def run(self, prepared: Any, run: Any) -> list[Any]:
        RAN.append("run")
        return []


class _Plugin:
    @hookimpl
    def evalscope_register_backends(self) -> list[BackendSpec]:
        none = BackendCapabilities(limit=False, batch_size=False)
        return [BackendSpec(name="minimal", impl=f"{__name__}:_Minimal", capabilities=none)]


@pytest.fixture
def minimal() -> Iterator[None]:
    reset_plugins()
    register_plugin(_Plugin(), "contract")
    RAN.clear()
    yield
    reset_plugins()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"limit": 5}, "has no --limit"),
        ({"eval_batch_size": 4}, "--eval-batch-size is not supported"),
        ({"use_cache": "RUN"}, "cannot resume a run: --use-cache is not supported"),
        ({"eval_config": {"x": 1}}, "takes no --eval-config"),
        (
            {"judge_model_args": {"model_id": "j", "api_url": "http://127.0.0.1:9/v1"}},
            "does not score with the run's LLM judge",
        ),
    ],
)
def test_a_flag_the_backend_does_not_honour_is_refused(
    minimal: None, tmp_path: Path, flags: dict[str, Any], message: str
) -> None:
    (tmp_path / "RUN").mkdir()
    flags = {k: (str(tmp_path / v) if k == "use_cache" else v) for k, v in flags.items()}
    with pytest.raises(ConfigError, match=message):
        run_task({"backend": "minimal", "model": "m", "work_dir": str(tmp_path / "out"), **flags})
    assert RAN == [], "refused before the backend was even prepared"
    assert not (tmp_path / "out").exists()


def test_a_fraction_is_refused_where_only_whole_limits_are_honoured(tmp_path: Path) -> None:
    for backend in ("opencompass", "vlmeval", "rag"):
        with pytest.raises(ConfigError, match="whole number of samples"):
            run_task({"backend": backend, "model": "m", "datasets": ["gsm8k"], "limit": 0.5,
                      "work_dir": str(tmp_path / backend)})  # fmt: skip
        assert not (tmp_path / backend).exists()


def test_every_installed_backend_declares_its_settings_and_capabilities() -> None:
    specs = {s.name: s for s in registry.backends().all()}
    assert {"native", "opencompass", "vlmeval", "rag"} <= set(specs)
    assert specs["native"].capabilities.fractional_limit and specs["native"].capabilities.judge
    assert specs["native"].eval_config is None
    for name in ("opencompass", "vlmeval", "rag"):
        spec = specs[name]
        assert spec.capabilities.resume and not spec.capabilities.fractional_limit
        model = registry.load_impl(spec.model_copy(update={"impl": spec.eval_config}))
        members = getattr(model, "__args__", (model,))  # rag's is a union of its tools' models
        assert all(isinstance(m, type) and issubclass(m, BaseModel) for m in members), name
