"""Runs INSIDE VLMEvalKit's environment (`<engine python> engine_driver.py job.json`): stdlib + VLMEvalKit only.

It does what EvalScope 1.x's VLMEvalKit manager did in-process — register the API model under a name in
VLMEvalKit's `supported_VLM`, build its `Arguments`, call `vlmeval.run.run_task` — and then reads back what
VLMEvalKit wrote, because VLMEvalKit logs a failed dataset and carries on with exit code 0. The result is
`plan.json`: per dataset its status, metrics and rows (prediction, verdict), which our side turns into reports.

Guards before VLMEvalKit runs (it downloads, and this backend never does):

* every dataset's TSV is in the run's data folder (`$LMUData`, links to the user's files);
* an official dataset's TSV has the checksum VLMEvalKit expects — with any other file VLMEvalKit would
  download the official one over it.

torchvision: PyPI's wheel is built for CUDA torch and its compiled operators cannot load next to the CPU
torch of the engine environment; `import torchvision` then fails registering a fake kernel for
`torchvision::nms`. VLMEvalKit imports torchvision at module level for a few video/document datasets, so when
that happens the driver declares the two operator schemas torchvision expects (no kernels: calling them
still fails) and imports it again. API models never call them.

A problem with the user's input exits with code 3 after writing `{"kind", "message"}` to `error_path`.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

USER_ERROR = 3
FAILED_DATASET = 4


class UserError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    import_torchvision()
    try:
        args = prepare(job)
    except UserError as exc:
        Path(job["error_path"]).write_text(
            json.dumps({"kind": exc.kind, "message": str(exc)}), encoding="utf-8"
        )
        print(f"[evalscope driver] {exc.kind} error: {exc}", flush=True)
        return USER_ERROR
    from vlmeval.run import run_task

    print(f"[evalscope driver] running VLMEvalKit on {args.data} with model {args.model}", flush=True)
    run_task(args)
    plan = collect(job)
    Path(job["plan_path"]).write_text(json.dumps(plan, indent=2, default=str), encoding="utf-8")
    failed = {name: d["error"] for name, d in plan["datasets"].items() if d.get("error")}
    if failed:
        print(f"[evalscope driver] VLMEvalKit failed on: {json.dumps(failed)}", flush=True)
        return FAILED_DATASET
    print("[evalscope driver] done", flush=True)
    return 0


def import_torchvision() -> None:
    """Import torchvision; if its CUDA-only operators cannot load, declare their schemas and retry."""
    try:
        import torchvision  # noqa: F401
    except RuntimeError as exc:
        if "torchvision::nms" not in str(exc):
            raise
        import torch

        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        globals()["_torchvision_schemas"] = lib  # the Library must outlive this function
        import torchvision  # noqa: F401,F811

        print(
            "[evalscope driver] torchvision's compiled ops are unavailable (CUDA build); schemas declared",
            flush=True,
        )


def prepare(job: dict[str, Any]) -> Any:
    """Check the data, register the model, and build VLMEvalKit's Arguments."""
    from functools import partial

    from vlmeval.config import supported_VLM
    from vlmeval.utils.arguments import Arguments

    for name in job["data"]:
        _check_official_checksum(name, Path(os.environ["LMUData"]) / f"{name}.tsv")
    model = dict(job["model"])
    model_name = model.pop("name")
    alias = job["model_alias"]
    if model_name == "CustomAPIModel":
        from vlmeval.api import CustomAPIModel

        model["model"] = model.pop("type")
        model.setdefault("key", os.environ.get("EVALSCOPE_VLM_API_KEY", "EMPTY"))
        supported_VLM[alias] = partial(CustomAPIModel, **model)
    elif model_name in supported_VLM:
        base = supported_VLM[model_name]
        supported_VLM[alias] = partial(base, **model) if model else base
    else:
        raise UserError(
            "config", f"VLMEvalKit has no model {model_name!r} (see vlmeval.config.supported_VLM)"
        )
    return Arguments(
        data=list(job["data"]),
        model=[alias],
        work_dir=job["work_dir"],
        mode=job["mode"],
        api_nproc=job["nproc"],
        retry=job["retry"],
        reuse=job["reuse"],
        judge=job["judge"],
        limit=job["limit"],
        verbose=job["verbose"],
    )


def _check_official_checksum(name: str, tsv: Path) -> None:
    from vlmeval.dataset import DATASET_CLASSES
    from vlmeval.smp import md5

    for cls in DATASET_CLASSES:
        try:
            if name not in cls.supported_datasets():
                continue
        except Exception:  # a class whose listing needs something absent: not ours to judge
            continue
        expected = getattr(cls, "DATASET_MD5", {}).get(name)
        if expected and md5(str(tsv)) != expected:
            raise UserError(
                "data",
                f"{tsv} is not VLMEvalKit's official {name} file (md5 {md5(str(tsv))}, expected {expected}); "
                "VLMEvalKit would download the official one over it. Use the official file, or give your own "
                "data a name VLMEvalKit does not know (it is then evaluated as a custom dataset)",
            )
        return


def collect(job: dict[str, Any]) -> dict[str, Any]:
    """What VLMEvalKit wrote for each dataset: status, metrics, and the rows with their verdicts."""
    import pandas as pd

    alias = job["model_alias"]
    pred_root = Path(job["work_dir"]) / alias
    status_path = pred_root / "status.json"
    status = json.loads(status_path.read_text(encoding="utf-8")) if status_path.is_file() else {}
    out: dict[str, Any] = {"model_alias": alias, "pred_root": str(pred_root), "datasets": {}}
    for name in job["data"]:
        st = status.get("datasets", {}).get(name, {})
        entry: dict[str, Any] = {
            "status": st.get("status"),
            "metrics": st.get("metrics") or {},
            "primary_metric": st.get("primary_metric"),
            "skip_reason": st.get("skip_reason"),
            "error": st.get("error_message") or st.get("eval_error"),
        }
        pred_file = st.get("prediction_file")
        judged = sorted(pred_root.glob(f"{alias}_{name}_*_result.xlsx"))
        source = judged[0] if judged else (pred_root / pred_file if pred_file else None)
        if source is None or not source.is_file():
            entry["error"] = (
                entry["error"] or f"VLMEvalKit wrote no predictions for {name} (status: {st or 'none'})"
            )
            out["datasets"][name] = entry
            continue
        frame = pd.read_excel(source) if source.suffix == ".xlsx" else pd.read_csv(source, sep="\t")
        frame = frame.drop(columns=[c for c in ("image", "image_path") if c in frame.columns])
        entry["rows_file"] = str(source)
        entry["rows"] = [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        if st.get("status") != "done" and not entry["error"]:
            entry["error"] = f"VLMEvalKit did not finish {name} (status {st.get('status')!r})"
        out["datasets"][name] = entry
    return out


def _plain(value: Any) -> Any:
    """pandas cells as JSON values (NaN → None)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
