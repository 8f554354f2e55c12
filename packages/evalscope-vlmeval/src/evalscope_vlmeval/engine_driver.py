"""Runs INSIDE VLMEvalKit's environment (`<engine python> engine_driver.py job.json`): stdlib + VLMEvalKit only.

It does what EvalScope 1.x's VLMEvalKit manager did in-process — register each model under its alias in
VLMEvalKit's `supported_VLM`, build its `Arguments`, call `vlmeval.run.run_task` (which loops over the models,
one output folder `<work_dir>/<alias>/` each) — and then reads back what VLMEvalKit wrote, because VLMEvalKit
logs a failed dataset and carries on with exit code 0. The result is `plan.json`: per model and dataset its
status, metrics and rows (prediction, verdict), which our side turns into reports.

API keys are not in the job file: a model's `key_env` names the environment variable holding its key.

Guards before VLMEvalKit runs (it downloads, and this backend never does):

* every dataset's TSV is in the run's data folder (`$LMUData`, links to the user's files);
* an official dataset's TSV has the checksum VLMEvalKit expects — with any other file VLMEvalKit would
  download the official one over it.

torchvision: PyPI's wheel is built for CUDA torch and its compiled operators cannot load next to the CPU
torch of the engine environment; `import torchvision` then fails registering a fake kernel for
`torchvision::nms`. VLMEvalKit imports torchvision at module level for a few video/document datasets, so when
that happens the driver declares the two operator schemas torchvision expects (no kernels: calling them
still fails) and imports it again. API models never call them, nor does the Idefics3 image processor of a
local DOCLING checkpoint (it uses torchvision's Python transforms only).

transformers 5 renamed `AutoModelForVision2Seq` (which VLMEvalKit 0.0.20's IDEFICS2 and DOCLING import) to
`AutoModelForImageTextToText`; when a local model is built and the old name is missing, the driver adds it back
as an alias of the new class (`transformers_compat`). On transformers 4.x it changes nothing.

A problem with the user's input exits with code 3 after writing `{"kind", "message"}` to `error_path`.
"""

from __future__ import annotations

import json
import math
import os
import sys
from functools import partial
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

    print(f"[evalscope driver] running VLMEvalKit on {args.data} with models {args.model}", flush=True)
    run_task(args)
    plan = collect(job)
    Path(job["plan_path"]).write_text(json.dumps(plan, indent=2, default=str), encoding="utf-8")
    failed = {
        f"{alias}/{name}": d["error"]
        for alias, m in plan["models"].items()
        for name, d in m["datasets"].items()
        if d.get("error")
    }
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


def transformers_compat() -> None:
    """Give transformers 5 back the name `AutoModelForVision2Seq`, which VLMEvalKit 0.0.20 still imports.

    transformers 5 renamed the auto class to `AutoModelForImageTextToText` (the same mapping: idefics2,
    idefics3, ...). Called when a local model is built — not at start-up, because transformers replaces its
    lazy module in `sys.modules` while VLMEvalKit is being imported, which would drop an alias set earlier.
    """
    import transformers

    if not hasattr(transformers, "AutoModelForVision2Seq") and hasattr(
        transformers, "AutoModelForImageTextToText"
    ):
        setattr(transformers, "AutoModelForVision2Seq", transformers.AutoModelForImageTextToText)  # noqa: B010
        print(
            "[evalscope driver] transformers.AutoModelForVision2Seq = AutoModelForImageTextToText", flush=True
        )


class ModelBuilder(partial):  # type: ignore[type-arg,unused-ignore]
    """The `supported_VLM` entry of a VLMEvalKit model class with the config's arguments (a local checkpoint's
    `model_path`, ...): a `functools.partial` (VLMEvalKit reads and updates its `keywords`) that applies
    `transformers_compat` just before the class runs."""

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        transformers_compat()
        return super().__call__(*args, **kwargs)


def prepare(job: dict[str, Any]) -> Any:
    """Check the data, register every model under its alias, and build VLMEvalKit's Arguments."""
    from vlmeval.config import supported_VLM
    from vlmeval.utils.arguments import Arguments

    for name in job["data"]:
        _check_official_checksum(name, Path(os.environ["LMUData"]) / f"{name}.tsv")
    known = dict(supported_VLM)  # an alias may shadow a VLMEvalKit name that another entry builds on
    for i, entry in enumerate(job["models"]):
        model = dict(entry["model"])
        model_name = model.pop("name")
        if entry.get("key_env"):
            model["key"] = os.environ[entry["key_env"]]
        if model_name == "CustomAPIModel":
            from vlmeval.api import CustomAPIModel

            model["model"] = model.pop("type")
            supported_VLM[entry["alias"]] = partial(CustomAPIModel, **model)
        elif model_name in known:
            base = known[model_name]
            supported_VLM[entry["alias"]] = ModelBuilder(base, **model)
        else:
            from difflib import get_close_matches

            guess = get_close_matches(model_name, list(known), n=3)
            hint = f" Did you mean {', '.join(repr(g) for g in guess)}?" if guess else ""
            raise UserError(
                "config",
                f"eval_config.model[{i}]: VLMEvalKit has no model {model_name!r}.{hint} "
                "(`vlmeval.config.supported_VLM` lists them; CustomAPIModel is any OpenAI-compatible service)",
            )
    return Arguments(
        data=list(job["data"]),
        model=[entry["alias"] for entry in job["models"]],
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
    """What VLMEvalKit wrote for each model and dataset: status, metrics, and the rows with their verdicts."""
    return {"models": {entry["alias"]: collect_model(job, entry["alias"]) for entry in job["models"]}}


def collect_model(job: dict[str, Any], alias: str) -> dict[str, Any]:
    import pandas as pd

    pred_root = Path(job["work_dir"]) / alias
    status_path = pred_root / "status.json"
    status = json.loads(status_path.read_text(encoding="utf-8")) if status_path.is_file() else {}
    out: dict[str, Any] = {"pred_root": str(pred_root), "datasets": {}}
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
