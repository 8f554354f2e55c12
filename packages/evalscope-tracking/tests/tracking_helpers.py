"""Readers that load what each tracker wrote through the tracker's own client code, and constants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: GSM8K questions answered by the scripted model: the first three right, the fourth wrong.
N_SAMPLES = 4
SECRET = "sk-tracking-test-secret-0123456789"


def files_containing(root: Path, text: str) -> list[Path]:
    """Every file under `root` whose bytes contain `text` (the trackers' stores, checked for secrets)."""
    needle = text.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def read_wandb_run(root: Path) -> dict[str, Any]:
    """The one offline W&B run under `root`: config, summary, history rows, table files.

    Decoded with W&B's own record schema (`wandb.proto.wandb_internal_pb2.Record`); wandb 0.31 has
    no Python reader for the transaction log's framing (LevelDB's log format: 7-byte header, then
    32 KiB blocks of crc32/length/type-framed chunks), so the framing is undone here.
    """
    import struct

    from wandb.proto import wandb_internal_pb2 as pb

    (run_file,) = root.glob("wandb/offline-run-*/run-*.wandb")
    raw = run_file.read_bytes()
    assert raw[:4] == b":W&B", "not a W&B transaction log"
    block, pos, pending = 32768, 7, b""
    out: dict[str, Any] = {"config": {}, "summary": {}, "history": [], "dir": run_file.parent}
    while pos + 7 <= len(raw):
        if block - pos % block < 7:  # a block's tail too short for a header is padding
            pos += block - pos % block
            continue
        _crc, length, kind = struct.unpack("<IHB", raw[pos : pos + 7])
        chunk, pos = raw[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind in (2, 3):  # FIRST, MIDDLE
            pending += chunk
            continue
        if kind not in (1, 4):  # FULL, LAST
            continue
        record = pb.Record()
        record.ParseFromString(pending + chunk)
        pending = b""
        which = record.WhichOneof("record_type")
        if which == "run":
            out["config"].update({i.key: json.loads(i.value_json) for i in record.run.config.update})
            out["name"], out["project"] = record.run.display_name, record.run.project
        elif which == "config":
            out["config"].update({i.key: json.loads(i.value_json) for i in record.config.update})
        elif which == "summary":
            out["summary"].update({_wandb_key(i): json.loads(i.value_json) for i in record.summary.update})
        elif which == "history":
            out["history"].append({_wandb_key(i): json.loads(i.value_json) for i in record.history.item})
    return out


def _wandb_key(item: Any) -> str:
    return str(item.key or "/".join(item.nested_key))


def wandb_table(run: dict[str, Any], name: str) -> dict[str, Any]:
    """A logged `wandb.Table` (its JSON file in the run's media folder)."""
    # A logged value that is a mapping reaches the summary as one item per field: `<name>/<field>`.
    meta = {k[len(name) + 1 :]: v for k, v in run["summary"].items() if k.startswith(name + "/")}
    assert meta["_type"] == "table-file"
    return dict(json.loads((run["dir"] / "files" / meta["path"]).read_text(encoding="utf-8")))


def read_swanlab_run(root: Path) -> dict[str, Any]:
    """The one SwanLab run under `root`, read with SwanLab's own store reader and record schema."""
    from swanlab.proto.swanlab.record.v1.record_pb2 import Record
    from swanlab.sdk.internal.core_python.store import DataStoreReader

    (run_file,) = root.glob("run-*/run-*.swanlab")
    reader = DataStoreReader()
    reader.open(run_file)
    out: dict[str, Any] = {"scalars": {}, "start": None, "finish": None, "dir": run_file.parent}
    try:
        for data in reader:
            record = Record()
            record.ParseFromString(data)
            if record.HasField("start"):
                out["start"] = record.start
            elif record.HasField("scalar"):
                out["scalars"].setdefault(record.scalar.key, []).append(
                    (record.scalar.step, record.scalar.value.number)
                )
            elif record.HasField("finish"):
                out["finish"] = record.finish
    finally:
        reader.close()
    return out
