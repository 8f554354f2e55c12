"""A third-party plugin, end to end: pip-install it, then drive the real `evalscope` CLI.

Nothing here imports a plugin in-process. Each check is a fresh interpreter that can find the
plugin only through the `evalscope.plugins` entry point of the installed distribution, exactly as a
user's `evalscope` would: the fixture is installed with `pip install --target <dir>` and made
visible with `PYTHONPATH=<dir>`, so leaving PYTHONPATH out must make it disappear again.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from evalscope.report import Report
from evalscope.testing import ScriptedServer

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "evalscope-example-plugin"
TUTORIAL = REPO / "docs" / "writing-plugins.md"

# The scripted model answers 7 of the 10 capitals right, in the varied forms real models use: a
# bare marker, reasoning before it, odd case and punctuation, bold, an accepted alternative spelling,
# and no marker at all (the last line is then the answer).
SCRIPT = {
    "model": "scripted",
    "default_reply": "I don't know.",  # Vietnam: no entry, so wrong
    "entries": [
        {"contains": "capital city of France?", "reply": "ANSWER: Paris"},
        {"contains": "capital city of Japan?", "reply": "Japan's government sits in Tokyo.\nANSWER: Tokyo"},
        {"contains": "capital city of Canada?", "reply": "answer: ottawa."},
        {"contains": "capital city of Brazil?", "reply": "ANSWER: Brasilia"},
        {"contains": "capital city of Switzerland?", "reply": "ANSWER: **Berne**"},
        {"contains": "capital city of Egypt?", "reply": "ANSWER: Cairo"},
        {"contains": "capital city of Kenya?", "reply": "It is\n\nNairobi"},
        {"contains": "capital city of Australia?", "reply": "ANSWER: Sydney"},
        {"contains": "capital city of Norway?", "reply": "Not Oslo.\nANSWER: Stockholm"},
    ],
}
EXPECTED_SCORE = 0.7


def pip_install(project: Path, target: Path) -> None:
    """Install `project` as a wheel into `target`, offline, with the build backend from this venv."""
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    cmd += ["--no-index", "--no-deps", "--no-build-isolation", "--target", str(target), str(project)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"pip install {project} failed:\n{proc.stdout}\n{proc.stderr}"


def evalscope(*args: str, sites: list[Path], cache: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m evalscope.cli.main ARGS` in a fresh interpreter that sees only `sites` extra."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if sites:
        env["PYTHONPATH"] = os.pathsep.join(str(s) for s in sites)
    env["EVALSCOPE_CACHE_DIR"] = str(cache)
    env["HF_HUB_OFFLINE"] = "1"  # the plugin's data is bundled: nothing may come from the network
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return subprocess.run(
        [sys.executable, "-m", "evalscope.cli.main", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("example") / "site"
    pip_install(FIXTURE, site)
    return site


def test_plugin_is_listed_only_when_installed(example_site: Path, tmp_path: Path) -> None:
    without = ok(evalscope("list", "benchmarks", sites=[], cache=tmp_path / "cache", cwd=tmp_path))
    assert "native/gsm8k" in without
    assert "example/capitals" not in without  # else the plugin leaks in from elsewhere

    with_plugin = ok(
        evalscope("list", "benchmarks", sites=[example_site], cache=tmp_path / "cache", cwd=tmp_path)
    )
    assert "example/capitals" in with_plugin
    assert "native/gsm8k" in with_plugin


def test_list_filtered_by_plugin(example_site: Path, tmp_path: Path) -> None:
    cli = partial(evalscope, sites=[example_site], cache=tmp_path / "cache", cwd=tmp_path)
    table = ok(cli("list", "--plugin", "example"))
    assert "example/capitals" in table
    assert "native/" not in table

    specs = json.loads(ok(cli("list", "benchmarks", "--plugin", "example", "--json")))
    assert [s["canonical_name"] for s in specs] == ["example/capitals"]
    (spec,) = specs
    assert spec["plugin"] == "example"
    assert spec["version"] == "1.0.0"
    assert "knowledge" in spec["tags"]
    # Resolved at registration time from the *installed* module, so it is the wheel's own data folder.
    assert Path(spec["dataset_id"]) == example_site / "evalscope_example" / "data"
    assert (Path(spec["dataset_id"]) / "default" / "test.jsonl").is_file()


def test_plugins_command_shows_distribution_and_version(example_site: Path, tmp_path: Path) -> None:
    cli = partial(evalscope, sites=[example_site], cache=tmp_path / "cache", cwd=tmp_path)
    infos = {i["name"]: i for i in json.loads(ok(cli("plugins", "--json")))}
    assert infos["example"]["distribution"] == "evalscope-example-plugin"
    assert infos["example"]["version"] == "0.1.0"
    assert infos["example"]["module"] == "evalscope_example.plugin"
    assert infos["example"]["error"] is None
    assert infos["example"]["registered"] == {"benchmark": ["capitals"]}
    assert all(i["error"] is None for i in infos.values())

    table = ok(cli("plugins"))
    row = next(line for line in table.splitlines() if " example " in line)
    assert "evalscope-example-plugin" in row and "0.1.0" in row and "ok" in row and "1 benchmark" in row
    assert "error" not in table


def test_eval_scores_the_scripted_replies(example_site: Path, tmp_path: Path) -> None:
    work_dir = tmp_path / "outputs"
    with ScriptedServer(SCRIPT) as server:
        out = ok(
            evalscope(
                "eval",
                "--model",
                "scripted",
                "--api-url",
                server.base_url,
                "--api-key",
                "EMPTY",
                "--datasets",
                "capitals",
                "--work-dir",
                str(work_dir),
                sites=[example_site],
                cache=tmp_path / "cache",
                cwd=tmp_path,
            )
        )
        stats = server.stats()
    assert stats["requests"] == 10 and stats["ok"] == 10

    (run_dir,) = work_dir.iterdir()
    assert re.fullmatch(r"\d{8}_\d{6}(_\d+)?", run_dir.name)
    report = Report.model_validate_json(
        (run_dir / "reports" / "scripted" / "capitals.json").read_text(encoding="utf-8")
    )
    assert report.name == "example/capitals"
    assert report.benchmark_version == "1.0.0"
    assert report.num_samples == 10 and report.num_errors == 0
    assert report.score() == pytest.approx(EXPECTED_SCORE)
    assert "capitals" in out and f"{EXPECTED_SCORE:.4f}" in out


TYPO_PYPROJECT = """\
[project]
name = "evalscope-typo-plugin"
version = "0.0.1"
dependencies = ["evalscope-core"]

[project.entry-points."evalscope.plugins"]
typo = "evalscope_typo"

[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["src/evalscope_typo"]
"""

TYPO_MODULE = '''\
"""A plugin whose author forgot the "s" of evalscope_register_benchmarks."""

from evalscope.hookspecs import hookimpl
from evalscope.specs import BenchmarkSpec


@hookimpl
def evalscope_register_benchmark():
    return [BenchmarkSpec(name="typo_bench", impl="evalscope_typo:Nothing", dataset_id="x", version="1")]
'''


def install_tiny_plugin(tmp_path: Path, name: str, module_code: str) -> Path:
    """Build and pip-install a one-module plugin named `name` (module evalscope_<name>); returns its site."""
    project = tmp_path / f"evalscope-{name}-plugin"
    (project / "src" / f"evalscope_{name}").mkdir(parents=True)
    pyproject = TYPO_PYPROJECT.replace("typo", name)
    (project / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    (project / "src" / f"evalscope_{name}" / "__init__.py").write_text(module_code, encoding="utf-8")
    site = tmp_path / f"{name}-site"
    pip_install(project, site)
    return site


def test_plugin_that_fails_to_import_is_listed_with_its_error(example_site: Path, tmp_path: Path) -> None:
    broken_site = install_tiny_plugin(tmp_path, "broken", "import evalscope_no_such_dependency\n")
    cli = partial(evalscope, sites=[example_site, broken_site], cache=tmp_path / "cache", cwd=tmp_path)
    infos = {i["name"]: i for i in json.loads(ok(cli("plugins", "--json")))}
    assert infos["broken"]["distribution"] == "evalscope-broken-plugin"
    assert (
        "ModuleNotFoundError" in infos["broken"]["error"]
        and "evalscope_no_such_dependency" in infos["broken"]["error"]
    )
    assert infos["example"]["error"] is None and infos["native"]["error"] is None
    listing = ok(cli("list", "benchmarks"))
    assert "example/capitals" in listing and "native/gsm8k" in listing


def test_misspelled_hook_is_reported_and_isolated(example_site: Path, tmp_path: Path) -> None:
    typo_site = install_tiny_plugin(tmp_path, "typo", TYPO_MODULE)
    cli = partial(evalscope, sites=[example_site, typo_site], cache=tmp_path / "cache", cwd=tmp_path)

    infos = {i["name"]: i for i in json.loads(ok(cli("plugins", "--json")))}
    typo = infos["typo"]
    assert typo["distribution"] == "evalscope-typo-plugin" and typo["version"] == "0.0.1"
    assert "'evalscope_register_benchmark'" in typo["error"]
    assert "did you mean 'evalscope_register_benchmarks'?" in typo["error"]
    assert typo["registered"] == {}
    # The other plugins are untouched.
    assert infos["example"]["error"] is None and infos["example"]["registered"] == {"benchmark": ["capitals"]}
    assert infos["native"]["error"] is None and "gsm8k" in infos["native"]["registered"]["benchmark"]

    table = " ".join(ok(cli("plugins")).split())
    assert "did you mean 'evalscope_register_benchmarks'?" in table
    assert re.search(r"\btypo\b.*\berror\b", table)

    listing = ok(cli("list", "benchmarks"))
    assert "example/capitals" in listing and "native/gsm8k" in listing
    assert "typo_bench" not in listing


def test_tutorial_shows_the_fixture_code_verbatim() -> None:
    """docs/writing-plugins.md teaches with the real files; this keeps the two from drifting apart."""
    tutorial = TUTORIAL.read_text(encoding="utf-8")
    package = FIXTURE / "src" / "evalscope_example"
    for source in (package / "plugin.py", package / "benchmark.py", FIXTURE / "pyproject.toml"):
        code = source.read_text(encoding="utf-8").strip()
        assert code in tutorial, f"{TUTORIAL.name} no longer shows {source.relative_to(REPO)} as it is"
