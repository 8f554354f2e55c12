"""The RAG config from YAML, JSON, dict or the CLI, validated with errors that name the fix; the plugin
registers the backend under both names; the core stays free of the heavy libraries."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import pytest
import yaml
from evalscope import registry
from evalscope.config import load_task_config
from evalscope.errors import ConfigError, DataFormatError, UnknownNameError
from evalscope_rag.config import ClipBenchmarkToolConfig, MTEBToolConfig, RAGASToolConfig, load_tool_config

MTEB_CFG = {
    "eval_backend": "RAGEval",
    "eval_config": {
        "tool": "MTEB",
        "models": [{"model_name_or_path": "/models/bge", "encode_kwargs": {"batch_size": 16}}],
        "eval": {"task_names": ["STSBenchmark"], "limits": 10},
    },
}


def _tool(data: dict) -> object:
    return load_tool_config(load_task_config(data))


@pytest.mark.parametrize("backend", ["RAGEval", "rag", "rageval", "RAG"])
def test_backend_names_resolve_to_the_rag_plugin(backend: str) -> None:
    cfg = load_task_config({**MTEB_CFG, "eval_backend": backend})
    spec = registry.backends().resolve(cfg.backend)
    assert spec.canonical_name == "rag/rag"
    assert spec.impl == "evalscope_rag.backend:RAGBackend"
    assert registry.backends().resolve("RAGEval") is spec


def test_the_same_config_from_dict_yaml_json_and_an_eval_config_file(tmp_path: Path) -> None:
    from_dict = _tool(MTEB_CFG)
    (tmp_path / "rag.yaml").write_text(yaml.safe_dump(MTEB_CFG))
    (tmp_path / "rag.json").write_text(json.dumps(MTEB_CFG))
    (tmp_path / "tool.yaml").write_text(yaml.safe_dump(MTEB_CFG["eval_config"]))
    from_yaml = load_tool_config(load_task_config(tmp_path / "rag.yaml"))
    from_json = load_tool_config(load_task_config(str(tmp_path / "rag.json")))
    from_tool_file = _tool({"eval_backend": "RAGEval", "eval_config": str(tmp_path / "tool.yaml")})
    assert isinstance(from_dict, MTEBToolConfig)
    assert from_dict == from_yaml == from_json == from_tool_file
    assert from_dict.models[0].batch_size() == 16
    assert from_dict.eval.task_names == ["STSBenchmark"] and from_dict.eval.limits == 10


def test_evalscope_spellings_and_flags_fill_the_gaps() -> None:
    old = _tool(
        {
            "eval_backend": "RAGEval",
            "eval_config": {
                "tool": "mteb",
                "model": [{"model_name_or_path": "m"}],
                "eval": {"tasks": ["T2Retrieval"]},
            },
        }
    )
    assert isinstance(old, MTEBToolConfig)
    assert old.models[0].model_name_or_path == "m" and old.eval.task_names == ["T2Retrieval"]
    # --model/--api-url/--datasets/--limit stand in for missing keys
    flags = _tool(
        {
            "backend": "rag",
            "model": "bge-m3",
            "api_url": "http://127.0.0.1:9/v1",
            "api_key": "k",
            "datasets": ["STS12"],
            "limit": 5,
            "eval_config": {"tool": "MTEB"},
        }
    )
    assert isinstance(flags, MTEBToolConfig)
    model = flags.models[0]
    assert model.is_api and model.model_name == "bge-m3" and model.api_base == "http://127.0.0.1:9/v1"
    assert model.api_key is not None and model.api_key.get_secret_value() == "k"
    assert flags.eval.task_names == ["STS12"] and flags.eval.limits == 5


def test_tools_by_any_spelling() -> None:
    ragas = _tool(
        {
            "eval_backend": "RAGEval",
            "eval_config": {
                "tool": "RAGAS",
                "eval": {
                    "testset_file": "t.json",
                    "critic_llm": {"model_name": "qwen", "api_base": "http://h/v1"},
                    "embeddings": {"model_name_or_path": "/m"},
                    "metrics": ["faithfulness"],
                },
            },
        }
    )
    clip = _tool(
        {
            "eval_backend": "RAGEval",
            "eval_config": {
                "tool": "Clip_Benchmark",
                "eval": {"models": ["/clip"], "dataset_name": "custom"},
            },
        }
    )
    assert (
        isinstance(ragas, RAGASToolConfig)
        and ragas.eval is not None
        and ragas.eval.metrics == ["faithfulness"]
    )
    assert isinstance(clip, ClipBenchmarkToolConfig)
    assert clip.eval.models[0].model_name == "/clip" and clip.eval.dataset_name == ["custom"]


@pytest.mark.parametrize(
    ("eval_config", "expected"),
    [
        (
            {"tool": "MTEB", "models": [{"model_name_or_pth": "m"}]},
            "'eval_config.models.0.model_name_or_pth'. Did you mean 'model_name_or_path'?",
        ),
        (
            {"tool": "MTEB", "models": [{"model_name_or_path": "m"}], "eval": {"task_name": ["X"]}},
            "Did you mean 'task_names'?",
        ),
        ({"tool": "MTEB", "modles": []}, "Did you mean 'models'?"),
        (
            {
                "tool": "RAGAS",
                "eval": {
                    "testset_file": "t",
                    "critic_llm": {"model_name": "q", "api_bsae": "u"},
                    "embeddings": {"model_name_or_path": "m"},
                },
            },
            "Did you mean 'api_base'?",
        ),
        ({"tool": "clip_benchmark", "eval": {"batch_sise": 3}}, "Did you mean 'batch_size'?"),
        ({"tool": "MTBE"}, "Did you mean 'mteb'?"),
        ({"models": []}, "must name its tool"),
        (
            {"tool": "MTEB", "models": [{"model_name_or_path": "m", "max_seq_length": 0}]},
            "greater than or equal to 1",
        ),
    ],
)
def test_bad_configs_name_the_key_and_the_fix(eval_config: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        _tool({"eval_backend": "RAGEval", "eval_config": eval_config})
    assert expected in str(err.value)


def test_missing_eval_config_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs an eval_config"):
        _tool({"eval_backend": "RAGEval"})
    bad = tmp_path / "tool.yaml"
    bad.write_text("tool: MTEB\nmodels: [\n")
    with pytest.raises(DataFormatError) as err:
        _tool({"eval_backend": "RAGEval", "eval_config": str(bad)})
    assert str(bad) in str(err.value)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("empty.yaml", "", "is empty"),
        ("comments.yaml", "# tool: MTEB, some day\n\n", "is empty (only comments)"),
        ("blank.json", "  \n", "is empty"),
        ("list.yaml", "- tool: MTEB\n  models: []\n", "holds a list"),
        ("list.json", '[{"tool": "MTEB"}]', "holds a list"),
        ("scalar.yaml", "MTEB\n", "holds a single value ('MTEB')"),
        ("number.json", "3", "holds a single value (3)"),
    ],
)
def test_an_eval_config_file_that_is_not_a_mapping_says_what_it_holds(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        _tool({"eval_backend": "RAGEval", "eval_config": str(path)})
    message = str(err.value)
    assert f"eval_config file {path} {expected};" in message
    assert "`tool` key (MTEB, RAGAS or clip_benchmark)" in message and "NoneType" not in message
    assert ("model_name_or_path" in message) and ("STSBenchmark" in message)  # the minimal example
    assert ("remove the leading '- '" in message) == (expected == "holds a list")


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_the_minimal_example_in_that_message_is_a_valid_eval_config(tmp_path: Path, suffix: str) -> None:
    from evalscope_rag.config import MINIMAL_EXAMPLE

    path = tmp_path / f"rag.{suffix}"
    path.write_text(MINIMAL_EXAMPLE[suffix])
    tool = _tool({"eval_backend": "RAGEval", "eval_config": str(path)})
    assert isinstance(tool, MTEBToolConfig)
    assert tool.models[0].model_name_or_path == "/path/to/embedding-model"
    assert tool.eval.task_names == ["STSBenchmark"]


def test_cli_with_an_empty_eval_config_file_names_the_file_and_the_tool_key(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    exe = Path(sys.executable).parent / "evalscope"
    proc = subprocess.run(
        [
            str(exe),
            "eval",
            "--backend",
            "rag",
            "--eval-config",
            str(path),
            "--work-dir",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"eval_config file {path} is empty" in proc.stderr
    assert "tool: MTEB" in proc.stderr and "NoneType" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_mteb_task_gets_the_closest_names(tmp_path: Path) -> None:
    from evalscope.run import run_task

    cfg = {**MTEB_CFG, "work_dir": str(tmp_path / "out")}
    cfg["eval_config"] = {
        **MTEB_CFG["eval_config"],
        "models": [{"model_name_or_path": str(tmp_path)}],
        "eval": {"task_names": ["STSBenchmrk"]},
    }
    with pytest.raises(UnknownNameError) as err:
        run_task(cfg)
    assert "'STSBenchmark'" in str(err.value)
    assert not (tmp_path / "out").exists()  # prepare writes nothing


def test_cli_reports_a_bad_key_with_exit_code_2(tmp_path: Path) -> None:
    cfg = {"eval_backend": "RAGEval", "eval_config": {"tool": "MTEB", "models": [{"model_nme": "x"}]}}
    path = tmp_path / "rag.yaml"
    path.write_text(yaml.safe_dump(cfg))
    exe = Path(sys.executable).parent / "evalscope"
    proc = subprocess.run(
        [str(exe), "eval", "--backend", "rag", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "models.0.model_nme" in proc.stderr and "Did you mean 'model_name'?" in proc.stderr


def test_the_core_and_native_packages_stay_light() -> None:
    never = {"mteb", "ragas", "sentence-transformers", "langchain-community", "evalscope-rag"}
    for dist in ("evalscope-core", "evalscope-native"):
        reqs = requires(dist) or []
        names = {re.split(r"[\s;\[=<>!~]", r, maxsplit=1)[0].lower() for r in reqs}
        base = {re.split(r"[\s;\[=<>!~]", r, maxsplit=1)[0].lower() for r in reqs if "extra ==" not in r}
        assert not names & never, f"{dist} depends on {names & never}"  # not even in an extra
        assert "torch" not in base, f"{dist} needs torch"  # at most in an opt-in extra (native's `local`)
    # loading the plugin and validating a config imports none of them either
    code = (
        "import sys\nfrom evalscope import registry\nfrom evalscope.config import load_task_config\n"
        "from evalscope_rag.config import load_tool_config\n"
        "registry.backends().resolve('RAGEval')\n"
        f"load_tool_config(load_task_config({MTEB_CFG!r}))\n"
        "bad = [m for m in ('torch', 'mteb', 'ragas', 'sentence_transformers', 'transformers', 'datasets') if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_testset_generation_without_documents_fails_before_the_run(tmp_path: Path) -> None:
    from evalscope.run import run_task

    llm = {"model_name": "q", "api_base": "http://127.0.0.1:9/v1"}
    cfg = {
        "eval_backend": "RAGEval",
        "work_dir": str(tmp_path / "out"),
        "eval_config": {
            "tool": "RAGAS",
            "testset_generation": {
                "docs": [str(tmp_path)],
                "generator_llm": llm,
                "embeddings": {"model_name_or_path": "m"},
            },
        },
    }
    with pytest.raises(ConfigError, match=r"no \.txt/\.md documents"):
        run_task(cfg)
    assert not (tmp_path / "out").exists()
