"""Find a checkpoint on disk: a folder, or a hub id in the Hugging Face or ModelScope cache.

Shared by every plugin that loads weights in-process (native's transformers/vLLM models, evalscope-rag's
embedding models and cross-encoders), so a hub id means the same thing everywhere. `huggingface_hub`
(and `modelscope`, for downloads from ModelScope) are imported only when a hub id is resolved; the
plugins that call this depend on them, the core does not.

Why resolve before loading: the folder and the commit it holds are part of the model's identity
(the cache key), and an offline run must fail at once, naming the id, every place looked in and
the fix, rather than after transformers tried the network and printed a stack of retries.

Order for `--model X`:
1. `X` is an existing folder -> that folder (a retrained checkpoint in the same folder is told
   apart by `fingerprint`: small files by content, weight files by size and modification time);
2. `X` looks like a path (`/`, `./`, `~`, or more than one `/`) -> error: no such folder;
3. `X` is a hub id -> the Hugging Face cache (`huggingface_hub.snapshot_download(...,
   local_files_only=True)`), then the ModelScope cache; online and in neither, it is downloaded
   from the hub chosen by `--model-args '{"hub": ...}'` (Hugging Face by default) — after a quick
   probe of that hub (`evalscope.hub_access`), so a machine without network fails at once too.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalscope.errors import MissingDependencyError, UsageError
from evalscope.hub_access import require_hub

__all__ = [
    "ModelNotFoundError",
    "ResolvedCheckpoint",
    "commit_after_download",
    "fingerprint",
    "looks_like_path",
    "modelscope_cache_dirs",
    "resolve_checkpoint",
]

log = logging.getLogger("evalscope.checkpoints")

SMALL_FILE = 16 * 1024 * 1024  # files up to this size are fingerprinted by content (configs, tokenizers)


class ModelNotFoundError(UsageError):
    """A checkpoint that is neither a folder nor in a local model cache (exit code 2)."""


@dataclass(frozen=True)
class ResolvedCheckpoint:
    name: str  # what the user passed to --model
    location: str  # what to hand to from_pretrained: a folder, or the hub id when it is still to download
    source: str  # "path" | "huggingface" | "modelscope"
    revision: str | None = None
    commit: str | None = None
    fingerprint: str | None = None

    def identity(self) -> dict[str, Any]:
        """The part of the cache key that says which weights answered (no machine-specific cache path)."""
        if self.source == "path":
            return {"source": "path", "path": self.location, "fingerprint": self.fingerprint}
        if self.commit is not None:  # the commit says it all; "main" and None name the same weights
            return {"source": self.source, "id": self.name, "commit": self.commit}
        return {"source": self.source, "id": self.name, "revision": self.revision}


def looks_like_path(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~", ".\\")) or name.count("/") > 1 or "\\" in name


def fingerprint(folder: Path) -> str:
    """A digest of a checkpoint folder that changes when its files do, without reading the weights."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        stat = path.stat()
        digest.update(f"{rel.as_posix()}\0{stat.st_size}\0".encode())
        if stat.st_size <= SMALL_FILE:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        else:
            digest.update(str(stat.st_mtime_ns).encode())
    return digest.hexdigest()


def resolve_checkpoint(
    name: str, revision: str | None, offline: bool, hub: str, *, option: str = "--model"
) -> ResolvedCheckpoint:
    """`option` is how the user named the model (`--model`, `model_name_or_path`), for the messages."""
    expanded = Path(name).expanduser()
    if expanded.is_dir():
        folder = expanded.resolve()
        if not (folder / "config.json").is_file():
            raise ModelNotFoundError(
                f"{folder} is a folder but not a transformers checkpoint (no config.json in it).",
                hint="pass the folder that holds config.json and the weights",
            )
        if revision:
            log.info("%s is a local folder: revision=%r is ignored", option, revision)
        return ResolvedCheckpoint(name, str(folder), "path", fingerprint=fingerprint(folder))
    if expanded.exists() or looks_like_path(name):
        raise ModelNotFoundError(
            f"{option} {name!r} is not a checkpoint folder ({'a file' if expanded.exists() else 'no such folder'}).",
            hint="pass the folder that holds config.json and the weights, or a hub id such as Qwen/Qwen2.5-0.5B-Instruct",
        )
    hf_revision = (
        None if revision in (None, "master") else revision
    )  # EvalScope's default is ModelScope's branch
    looked: list[str] = []
    found = _from_hf_cache(name, hf_revision, looked) or _from_modelscope_cache(name, revision, looked)
    if found is not None:
        return found
    if offline:
        raise ModelNotFoundError(
            f"Model {name!r} is not a local folder and is not in a local model cache, and the run is offline "
            "(--offline or HF_HUB_OFFLINE=1). Looked in:\n" + "\n".join(f"  - {p}" for p in looked),
            hint=f"download it where there is network (`hf download {name}`, or `modelscope download --model "
            f"{name}`) and copy the cache here (HF_HUB_CACHE / MODELSCOPE_CACHE), or pass its folder: "
            f"{option} /path/to/{name.rsplit('/', 1)[-1]}",
        )
    require_hub(
        hub if hub == "modelscope" else "huggingface",
        f"download model {name!r} ({option})",
        f"pass the folder that holds config.json and the weights ({option} /path/to/{name.rsplit('/', 1)[-1]}), "
        "or copy a cache that holds it from a machine with network (HF_HUB_CACHE / MODELSCOPE_CACHE)",
        looked,
    )
    return _download(name, revision, hf_revision, hub)


def _from_hf_cache(name: str, revision: str | None, looked: list[str]) -> ResolvedCheckpoint | None:
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    folder = Path(constants.HF_HUB_CACHE) / f"models--{name.replace('/', '--')}"
    looked.append(f"Hugging Face cache: {folder} (revision {revision or 'main'})")
    try:
        snapshot = Path(snapshot_download(name, revision=revision, local_files_only=True))
    except (LocalEntryNotFoundError, ValueError, OSError):
        return None
    if not (snapshot / "config.json").is_file():
        looked[-1] += ": a snapshot without config.json"
        return None
    return ResolvedCheckpoint(name, str(snapshot), "huggingface", revision, commit=snapshot.name)


def modelscope_cache_dirs(name: str) -> list[Path]:
    """Where ModelScope keeps `name` (its layout changed between releases, so both are checked)."""
    root = Path(os.environ.get("MODELSCOPE_CACHE") or Path.home() / ".cache" / "modelscope" / "hub")
    return [root / "models" / name, root / name]


def _from_modelscope_cache(name: str, revision: str | None, looked: list[str]) -> ResolvedCheckpoint | None:
    for folder in modelscope_cache_dirs(name):
        looked.append(f"ModelScope cache: {folder}")
        if (folder / "config.json").is_file():
            # ModelScope keeps one copy per model, with no commit recorded in the layout: fingerprint it.
            return ResolvedCheckpoint(
                name, str(folder.resolve()), "modelscope", revision, commit=fingerprint(folder)
            )
    return None


def _download(name: str, revision: str | None, hf_revision: str | None, hub: str) -> ResolvedCheckpoint:
    if hub == "modelscope":
        try:
            from modelscope import snapshot_download as ms_snapshot_download
        except ImportError:
            raise MissingDependencyError(
                "Downloading a model from ModelScope needs the modelscope package.",
                hint="pip install modelscope (or download the model elsewhere and pass its folder)",
            ) from None
        log.info("downloading %s from ModelScope", name)
        folder = Path(ms_snapshot_download(name, revision=revision or "master"))
        return ResolvedCheckpoint(name, str(folder), "modelscope", revision, commit=fingerprint(folder))
    # Hugging Face: transformers downloads only the files it needs; the commit is read back afterwards.
    log.info("%s is not in the local caches: transformers will download it from the Hugging Face hub", name)
    return ResolvedCheckpoint(name, name, "huggingface", hf_revision)


def commit_after_download(ckpt: ResolvedCheckpoint) -> ResolvedCheckpoint:
    """Fill in the commit of a checkpoint transformers has just downloaded into the HF cache."""
    if ckpt.source != "huggingface" or ckpt.commit is not None:
        return ckpt
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(ckpt.name, "config.json", revision=ckpt.revision)
    if isinstance(found, str):
        return ResolvedCheckpoint(
            ckpt.name, ckpt.location, ckpt.source, ckpt.revision, Path(found).parent.name
        )
    return ckpt
