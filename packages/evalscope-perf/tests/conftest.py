"""Shared fixtures: the fake model (the core's scripted server, in a subprocess), prompt files, a tokenizer."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from evalscope.testing import ScriptedServer

#: The fake model: `max_tokens` tokens of " tok" per reply (16 when a request names none), and embeddings.
FAKE_MODEL = {"model": "fake-model", "tokens": "max_tokens", "embedding_dim": 8}


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real public data (EVALSCOPE_DATA_DIR, default ../shared/data next to the checkout)."""
    default = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return Path(os.environ.get("EVALSCOPE_DATA_DIR", default))


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's command cache goes to the test's folder, never the user's home."""
    monkeypatch.setenv("EVALSCOPE_CACHE_DIR", str(tmp_path / "evalscope-cache"))


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    """One fake-model server per test module; tests reconfigure it with `server.configure(...)`."""
    with ScriptedServer(FAKE_MODEL) as srv:
        yield srv


@pytest.fixture(scope="session")
def prompts_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prompts") / "prompts.txt"
    path.write_text("".join(f"question number {i} about the weather\n" for i in range(600)), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small word-level tokenizer built with the `tokenizers` library (no download)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = ["tok", "question", "number", "about", "the", "weather", "hello", "world"]
    words += [f"w{i}" for i in range(200)] + [str(i) for i in range(600)]
    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(dict.fromkeys(words))}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens(["[UNK]"])
    out = tmp_path_factory.mktemp("tokenizer")
    tok.save(str(out / "tokenizer.json"))
    return out


@pytest.fixture
def make_cfg(server: ScriptedServer, prompts_file: Path, tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """Settings for a quick run against the fake server (no test request, no sleeps, no live view)."""

    def make(**over: Any) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "url": server.base_url,
            "model": "fake-model",
            "dataset": "line_by_line",
            "dataset_path": str(prompts_file),
            "outputs_dir": str(tmp_path / "outputs"),
            "sleep_interval": 0,
            "live": False,
            "no_test_connection": True,
            "max_tokens": 16,
        }
        cfg.update(over)
        return cfg

    return make


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["EVALSCOPE_CACHE_DIR"] = str(tmp_path / "evalscope-cache")
    env["PYTHONUNBUFFERED"] = "1"
    return env
