"""Runs INSIDE VLMEvalKit's environment, through the core's `evalscope_driver.py` (the job protocol): `run(job)`
returns the plan, `catalogue()` the datasets VLMEvalKit supports; stdlib + VLMEvalKit only.

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

The CPU-environment fixes (torchvision's CUDA-only operators, transformers 5's renamed auto class) are in
`engine_compat.py`.

A problem with the user's input raises `UserError`; a dataset VLMEvalKit failed on is in the plan's `failed`.
"""

from __future__ import annotations

import json
import math
import os
from functools import partial
from pathlib import Path
from typing import Any

from engine_compat import import_torchvision, transformers_compat
from evalscope_driver import UserError, say


def run(job: dict[str, Any]) -> dict[str, Any]:
    import_torchvision()
    args = prepare(job)
    from vlmeval.run import run_task

    say(f"running VLMEvalKit on {args.data} with models {args.model}")
    run_task(args)
    plan = collect(job)
    plan["failed"] = {
        f"{alias}/{name}": d["error"]
        for alias, m in plan["models"].items()
        for name, d in m["datasets"].items()
        if d.get("error")
    }
    return plan


def catalogue() -> list[str]:
    """The datasets VLMEvalKit supports (~600 names; importing it takes ~45 s)."""
    import_torchvision()
    from vlmeval.dataset import SUPPORTED_DATASETS

    return sorted(set(SUPPORTED_DATASETS))


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
