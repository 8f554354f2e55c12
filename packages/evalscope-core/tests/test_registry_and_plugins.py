"""Registries and the plugin manager, with in-process plugins (no other distribution needed)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from evalscope import registry
from evalscope.errors import AmbiguousNameError, UnknownNameError
from evalscope.hookspecs import hookimpl
from evalscope.plugins import plugin_infos, register_plugin, reset_plugins
from evalscope.run_context import call_lifecycle
from evalscope.specs import BenchmarkSpec


def _bench(name: str, **kw: object) -> BenchmarkSpec:
    return BenchmarkSpec(name=name, impl="x:y", dataset_id="d", version="1", **kw)  # type: ignore[arg-type]


class _PluginA:
    @hookimpl
    def evalscope_register_benchmarks(self) -> list[BenchmarkSpec]:
        return [_bench("alpha", aliases=("first",)), _bench("shared")]


class _PluginB:
    @hookimpl
    def evalscope_register_benchmarks(self) -> list[BenchmarkSpec]:
        return [_bench("beta"), _bench("shared")]


@pytest.fixture(autouse=True)
def _fresh_plugins() -> Iterator[None]:
    reset_plugins()
    yield
    reset_plugins()


def test_canonical_bare_and_alias_names() -> None:
    register_plugin(_PluginA(), "pa")
    register_plugin(_PluginB(), "pb")
    reg = registry.benchmarks()
    assert reg.resolve("alpha").canonical_name == "pa/alpha"
    assert reg.resolve("first").canonical_name == "pa/alpha"
    assert reg.resolve("pb/shared").plugin == "pb"
    with pytest.raises(AmbiguousNameError) as err:
        reg.resolve("shared")
    assert "pa/shared" in str(err.value) and "pb/shared" in str(err.value)
    with pytest.raises(UnknownNameError) as unk:
        reg.resolve("alpah")
    assert "pa/alpha" in unk.value.suggestions


def test_misspelled_hook_is_rejected_with_a_suggestion() -> None:
    class Misspelled:
        @hookimpl
        def evalscope_register_benchmark(self) -> list[BenchmarkSpec]:
            return [_bench("never")]

    info = register_plugin(Misspelled(), "typo")
    register_plugin(_PluginA(), "pa")
    assert info.error is not None and "evalscope_register_benchmarks" in info.error
    names = registry.benchmarks().names()
    assert "pa/alpha" in names and not any(n.endswith("never") for n in names)


def test_broken_registration_hook_loses_only_its_own_specs() -> None:
    class Broken:
        @hookimpl
        def evalscope_register_benchmarks(self) -> list[BenchmarkSpec]:
            raise RuntimeError("boom")

    register_plugin(Broken(), "broken")
    register_plugin(_PluginA(), "pa")
    assert "pa/alpha" in registry.benchmarks().names()
    broken = next(i for i in plugin_infos() if i.name == "broken")
    assert broken.error is not None and "boom" in broken.error


def test_lifecycle_hooks_are_isolated(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    class Bad:
        @hookimpl
        def evalscope_on_run_end(self, run: object, reports: list[object], error: object) -> None:
            raise ValueError("reporter exploded")

    class Good:
        @hookimpl
        def evalscope_on_run_end(self, run: object) -> None:  # a subset of the arguments is fine
            seen.append("good")

    register_plugin(Bad(), "bad")
    register_plugin(Good(), "good")
    with caplog.at_level(logging.ERROR, logger="evalscope"):
        call_lifecycle("evalscope_on_run_end", run=SimpleNamespace(), reports=[], error=None)
    assert seen == ["good"]
    assert "reporter exploded" in caplog.text and "'bad'" in caplog.text


class _CatalogueBackend:
    """A backend that knows its own datasets, as an engine such as OpenCompass does."""

    def list_datasets(self) -> list[dict[str, str]]:
        return [{"name": "zeta_ds", "description": "last"}, {"name": "alpha_ds", "description": "first"}]


class _PluginWithBackends:
    @hookimpl
    def evalscope_register_backends(self) -> list[object]:
        from evalscope.specs import BackendSpec

        return [
            BackendSpec(name="engx", impl="_evalscope_test_backends:Catalogue"),
            BackendSpec(name="plainx", impl="_evalscope_test_backends:Plain"),
        ]


def test_list_backend_datasets(monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import sys

    from evalscope.cli.list_cmd import app
    from typer.testing import CliRunner

    monkeypatch.setitem(
        sys.modules,
        "_evalscope_test_backends",
        SimpleNamespace(Catalogue=_CatalogueBackend, Plain=lambda: SimpleNamespace()),
    )
    register_plugin(_PluginWithBackends(), "px")
    register_plugin(_PluginA(), "pa")
    runner = CliRunner()

    listed = runner.invoke(app, ["--backend", "engx", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [r["name"] for r in json.loads(listed.output)] == ["zeta_ds", "alpha_ds"]
    table = runner.invoke(app, ["--backend", "engx"])
    assert table.output.index("alpha_ds") < table.output.index("zeta_ds")  # sorted for reading

    # A backend without a catalogue evaluates the registered benchmarks.
    plain = runner.invoke(app, ["--backend", "plainx", "--json"])
    assert {r["name"] for r in json.loads(plain.output)} >= {"pa/alpha", "pa/shared"}

    unknown = runner.invoke(app, ["--backend", "engz"])
    assert unknown.exit_code != 0
    assert "engx" in str(unknown.exception) or "engx" in unknown.output


class _TwoModelBackend:
    """An engine that evaluates two models in one run, as OpenCompass does with several `models`."""

    def prepare(self, config: object) -> object:
        return SimpleNamespace(model_name="first")

    def run(self, prepared: object, run: object) -> list[object]:
        from evalscope.report import CategoryScore, MetricScore, Report, SubsetScore

        def rep(model: str, dataset: str, score: float) -> Report:
            sub = SubsetScore(name="main", num=2, score=score)
            cat = CategoryScore(name="default", num=2, score=score, subsets=[sub])
            metric = MetricScore(name="acc", num=2, score=score, macro_score=score, categories=[cat])
            return Report(
                name=f"twox/{dataset}",
                dataset_name=dataset,
                model_name=model,
                metrics=[metric],
                num_samples=2,
            )

        return [rep("first", "gsm8k", 0.5), rep("second", "gsm8k", 1.0), rep("second", "arc", 0.0)]


class _PluginWithTwoModelBackend:
    @hookimpl
    def evalscope_register_backends(self) -> list[object]:
        from evalscope.specs import BackendSpec

        return [BackendSpec(name="twox", impl="_evalscope_test_backends:TwoModels")]


def test_several_models_in_one_run_are_filed_apart(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import json
    import sys

    from evalscope.run import run_task

    monkeypatch.setitem(sys.modules, "_evalscope_test_backends", SimpleNamespace(TwoModels=_TwoModelBackend))
    register_plugin(_PluginWithTwoModelBackend(), "two")
    work = tmp_path / "out"
    reports = run_task({"backend": "twox", "work_dir": str(work), "reporters": []})
    # one dataset reported by two models: keyed apart; a dataset only one model ran keeps its name
    assert sorted(reports) == ["arc", "gsm8k@first", "gsm8k@second"]
    assert reports["gsm8k@second"].score() == 1.0
    (run_dir,) = work.iterdir()
    on_disk = {
        (p.parent.name, p.stem): json.loads(p.read_text())["metrics"][0]["score"]
        for p in (run_dir / "reports").rglob("*.json")
    }
    assert on_disk == {("first", "gsm8k"): 0.5, ("second", "gsm8k"): 1.0, ("second", "arc"): 0.0}


def test_hooks_go_through_pluggy_wrappers_included() -> None:
    """Registration and lifecycle hooks are called through pluggy: a plugin's hook wrapper sees them."""
    from evalscope import registry
    from evalscope.hookspecs import hookimpl
    from evalscope.plugins import register_plugin, reset_plugins
    from evalscope.run_context import call_lifecycle

    seen: list[str] = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def evalscope_register_reporters(self) -> Any:
            seen.append("reporters")
            return (yield)

        @hookimpl(wrapper=True)
        def evalscope_on_run_end(self, run: Any, reports: Any, error: Any) -> Any:
            seen.append("run_end")
            return (yield)

    reset_plugins()
    try:
        register_plugin(Wrapper(), "wrapper")
        assert "table" in registry.reporters()
        call_lifecycle("evalscope_on_run_end", run=None, reports=[], error=None)
        assert "reporters" in seen and "run_end" in seen
    finally:
        reset_plugins()


def test_plugins_and_registry_do_not_import_each_other_in_a_cycle() -> None:
    import ast
    from pathlib import Path

    import evalscope.plugins as plugins_module

    tree = ast.parse(Path(plugins_module.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "") + "." + alias.name if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert not any("registry" in name for name in imported), imported
