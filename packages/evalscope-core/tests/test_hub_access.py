"""The hub reachability probe (`evalscope.hub_access`) and its use by `evalscope.checkpoints`.

Every probe dials 127.0.0.1: a port that is bound but not listening (the kernel refuses the
connection at once) or a listening socket (the kernel completes the handshake from its backlog).
`HF_ENDPOINT` / `MODELSCOPE_DOMAIN` / the proxy variables point the probe there; nothing here leaves
the machine.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from evalscope.errors import UsageError
from evalscope.hub_access import (
    HubUnreachableError,
    clear_probe_cache,
    hub_endpoint,
    probe_hub,
    require_hub,
)

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in ("HF_ENDPOINT", "MODELSCOPE_DOMAIN", "EVALSCOPE_HUB_PROBE", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    clear_probe_cache()
    yield
    clear_probe_cache()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound (so nobody else takes it), not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def open_port() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_endpoints_come_from_the_variables_the_hub_libraries_read(monkeypatch: pytest.MonkeyPatch) -> None:
    assert hub_endpoint("huggingface") == "https://huggingface.co"
    assert hub_endpoint("modelscope") == "https://www.modelscope.cn"
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.example/")
    monkeypatch.setenv("MODELSCOPE_DOMAIN", "mirror.example:8443")
    assert hub_endpoint("huggingface") == "https://hf-mirror.example"
    assert hub_endpoint("modelscope") == "https://mirror.example:8443"


def test_a_refused_connection_fails_at_once_naming_endpoint_cause_and_fix(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    probe = probe_hub("huggingface")
    assert not probe.reachable and (probe.host, probe.port, probe.proxy) == ("127.0.0.1", closed_port, None)
    with pytest.raises(HubUnreachableError) as err:
        require_hub("huggingface", "download dataset 'openai/gsm8k'", "use --data-dir", ["/data/gsm8k"])
    assert isinstance(err.value, UsageError) and err.value.exit_code == 2
    text = str(err.value)
    assert "Cannot download dataset 'openai/gsm8k': the network is unreachable." in text
    assert (
        f"the Hugging Face hub at http://127.0.0.1:{closed_port} (TCP connect to 127.0.0.1:{closed_port})"
        in text
    )
    assert "refused" in text.lower()
    assert "looked in:\n  - /data/gsm8k" in text
    assert "use --data-dir" in text and "--offline (or HF_HUB_OFFLINE=1)" in text


def test_a_listening_endpoint_passes(monkeypatch: pytest.MonkeyPatch, open_port: int) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{open_port}")
    assert probe_hub("huggingface").reachable
    require_hub("huggingface", "download x", "fix")  # no error


def test_the_result_is_cached_per_process_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    try:
        assert probe_hub("huggingface").reachable
    finally:
        listener.close()
    assert probe_hub("huggingface").reachable  # the port is closed now: this answer is the cached one
    clear_probe_cache()
    assert not probe_hub("huggingface").reachable


def test_modelscope_is_probed_at_its_own_domain(monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    monkeypatch.setenv("MODELSCOPE_DOMAIN", f"http://127.0.0.1:{closed_port}")
    with pytest.raises(HubUnreachableError) as err:
        require_hub("modelscope", "download model 'a/b'", "pass a folder")
    assert f"Tried ModelScope at http://127.0.0.1:{closed_port}" in str(err.value)


def test_a_proxy_from_the_environment_is_dialled_instead_of_the_hub(
    monkeypatch: pytest.MonkeyPatch, closed_port: int, open_port: int
) -> None:
    # The hub's own name is never looked up: only the proxy is dialled.
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{closed_port}")
    with pytest.raises(HubUnreachableError) as err:
        require_hub("huggingface", "download x", "fix")
    assert f"https://hub.invalid through the proxy http://127.0.0.1:{closed_port}" in str(err.value)
    monkeypatch.setenv("HTTPS_PROXY", f"127.0.0.1:{open_port}")  # a bare host:port, as curl accepts it
    assert probe_hub("huggingface").reachable


def test_no_proxy_sends_the_probe_straight_to_the_hub(
    monkeypatch: pytest.MonkeyPatch, closed_port: int, open_port: int
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{open_port}")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    probe = probe_hub("huggingface")
    assert probe.reachable and probe.proxy is None and probe.port == open_port


def test_the_probe_can_be_switched_off(monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("EVALSCOPE_HUB_PROBE", "0")
    require_hub("huggingface", "download x", "fix")  # no error


# --- checkpoints: a hub id in no local cache -----------------------------------------------------


@pytest.fixture
def empty_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))  # read at call time
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms"))
    return tmp_path


@pytest.mark.parametrize(("hub", "variable", "label"), [
    ("huggingface", "HF_ENDPOINT", "the Hugging Face hub"),
    ("modelscope", "MODELSCOPE_DOMAIN", "ModelScope"),
])  # fmt: skip
def test_a_model_to_download_fails_at_once_without_network(
    empty_caches: Path, monkeypatch: pytest.MonkeyPatch, closed_port: int, hub: str, variable: str, label: str
) -> None:
    from evalscope.checkpoints import resolve_checkpoint

    monkeypatch.setenv(variable, f"http://127.0.0.1:{closed_port}")
    with pytest.raises(HubUnreachableError) as err:
        resolve_checkpoint("tiny-org/absent", None, offline=False, hub=hub)
    text = str(err.value)
    assert "Cannot download model 'tiny-org/absent' (--model): the network is unreachable." in text
    assert f"Tried {label} at http://127.0.0.1:{closed_port}" in text
    assert str(empty_caches / "hf" / "models--tiny-org--absent") in text
    assert str(empty_caches / "ms" / "models" / "tiny-org" / "absent") in text
    assert "--model /path/to/absent" in text and "--offline" in text


def test_a_model_to_download_goes_on_when_the_hub_answers(
    empty_caches: Path, monkeypatch: pytest.MonkeyPatch, open_port: int
) -> None:
    from evalscope.checkpoints import resolve_checkpoint

    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{open_port}")
    ckpt = resolve_checkpoint("tiny-org/absent", None, offline=False, hub="huggingface")
    assert (ckpt.location, ckpt.source) == ("tiny-org/absent", "huggingface")  # transformers downloads it
