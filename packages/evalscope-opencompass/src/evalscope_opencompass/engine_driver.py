"""Runs INSIDE OpenCompass's environment, through the core's `evalscope_driver.py` (the job protocol): `run(job)`
returns the plan; stdlib + OpenCompass only.

It turns the job our backend wrote into an OpenCompass config file and runs OpenCompass's own command line
(`opencompass.cli.main`) on it, in one process (`--debug`: tasks run one after the other in this process
instead of one interpreter per task, which would cost ~20 s of imports each, and a failing task raises
instead of being logged and skipped). Before anything runs it checks what would otherwise fail late or
reach the network:

* subsets asked for exist (closest names otherwise);
* every dataset's local folder exists: OpenCompass downloads a dataset whose folder is missing, and this
  backend never downloads (`COMPASS_DATA_CACHE` points at the user's data folder);
* an API model gets a tokenizer it can load offline (OpenCompass counts prompt tokens with tiktoken or a
  Hugging Face tokenizer, both fetched from the network on first use).

Every model of the job goes into the one config. Two things OpenCompass keeps per run rather than per model
are made per model here: a `max_out_len` the user set on a model bounds only that model's generation
(`bound_generation`), and a model whose key is `'ENV:<variable>'` gets that variable's value, in memory, when
OpenCompass builds it (`resolve_env_keys`; OpenCompass's own `'ENV'` reads `$OPENAI_API_KEY` for all models).

The config file stays in the run folder, so `python -m opencompass.cli.main <run>/opencompass/config.py`
reproduces the run by hand (with `$OPENAI_API_KEY` set; per-model `'ENV:<variable>'` keys are resolved only by
this driver, so replace them for such a run). A problem with the user's input raises `UserError`.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import sys
from pathlib import Path
from typing import Any

from evalscope_driver import UserError, say

ENV_KEY_PREFIX = "ENV:"  # key='ENV:<variable>': the model's API key is in that environment variable


def run(job: dict[str, Any]) -> dict[str, Any]:
    config_path, plan = build_config(job)
    outputs = Path(job["work_dir"])
    before = set(os.listdir(outputs)) if outputs.is_dir() else set()
    argv = ["opencompass", str(config_path), "-w", str(outputs), "--debug", "--mode", job["mode"]]
    if job.get("reuse") and before:
        argv += ["-r", "latest"]
    say(f"running: {' '.join(argv)}")
    resolve_env_keys()
    from opencompass.cli import main as oc_main

    sys.argv = argv
    oc_main.main()
    after = sorted(set(os.listdir(outputs)))
    new = sorted(set(after) - before) or after  # reused: the latest existing folder
    plan["output_dir"] = str(outputs / new[-1])
    say(f"outputs: {plan['output_dir']}")
    return plan


def build_config(job: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    """Write the OpenCompass config for `job`; return its path and the plan (which abbr is which dataset)."""
    from mmengine.config import Config

    datasets: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for choice in job["datasets"]:
        cfgs = _dataset_configs(Config.fromfile(choice["config"]), choice)
        wanted = choice.get("subsets")
        if wanted:
            cfgs = _pick_subsets(cfgs, wanted, choice["name"])
        for cfg in cfgs:
            cfg.pop("dataset_name", None)
            if job.get("limit") is not None:
                cfg.setdefault("reader_cfg", {})["test_range"] = job["limit"]
            datasets.append(cfg)
            entries.append({"dataset": choice["name"], "abbr": cfg["abbr"], "subset": _subset_of(cfg)})
    _check_local_data(datasets, job["data_dir"])
    limits = [int(m["max_out_len"]) if m.get("_max_out_len_override") else None for m in job["models"]]
    models = [_model_config(m, job) for m in job["models"]]
    plain, combinations = bound_generation(_plain(datasets), models, limits)
    runner = {"type": "opencompass.runners.LocalRunner", "max_num_workers": 1}
    part = {"type": "opencompass.partitioners.NaivePartitioner"}
    extra = {"model_dataset_combinations": combinations} if combinations else {}
    cfg = Config(
        {
            "datasets": plain,
            "models": models,
            **extra,
            "infer": {
                "partitioner": part,
                "runner": {**runner, "task": {"type": "opencompass.tasks.OpenICLInferTask"}},
            },
            "eval": {
                "partitioner": part,
                "runner": {**runner, "task": {"type": "opencompass.tasks.OpenICLEvalTask"}},
            },
            "work_dir": job["work_dir"],
        }
    )
    config_path = Path(job["folder"]) / "config.py"
    cfg.dump(str(config_path))
    plan = {"model_abbrs": [m["abbr"] for m in models], "entries": entries}
    return config_path, plan


def bound_generation(
    datasets: list[dict[str, Any]], models: list[dict[str, Any]], limits: list[int | None]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    """Make each model's explicit `max_out_len` (`limits[i]`; None: not set) bound that model's generation only.

    OpenCompass gives a dataset's own inferencer `max_out_len` (512 for GSM8K) precedence over the model's, and
    the inferencer belongs to the dataset, which every model of a run shares. So: when all models agree (one
    model, or the same setting for all), the value is written into the datasets themselves; when they differ,
    the models are grouped by setting and each group runs its own copy of the datasets through OpenCompass's
    `model_dataset_combinations` (same abbrs, so outputs land where they always do). Models without a
    setting keep the datasets as they are.
    """
    groups: dict[int | None, list[dict[str, Any]]] = {}
    for model, limit in zip(models, limits, strict=True):
        groups.setdefault(limit, []).append(model)
    if len(groups) == 1:
        (limit,) = groups
        return (datasets if limit is None else _with_max_out_len(datasets, limit)), None
    combinations = [
        {"models": members, "datasets": datasets if limit is None else _with_max_out_len(datasets, limit)}
        for limit, members in groups.items()
    ]
    return datasets, combinations


def _with_max_out_len(datasets: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    out = copy.deepcopy(datasets)
    for cfg in out:
        inferencer = cfg.get("infer_cfg", {}).get("inferencer")
        if isinstance(inferencer, dict) and "max_out_len" in inferencer:
            inferencer["max_out_len"] = limit
    return out


def resolve_env_keys() -> None:
    """Models whose key is `'ENV:<variable>'` are built with that variable's value (never written anywhere).

    OpenCompass builds every model through its `MODELS` registry; wrapping the registry's build function is
    the one place that sees each model's config just before the model class reads its key. With `--debug`
    every task runs in this process, so the wrapper is in effect for all of them.
    """
    from opencompass.registry import MODELS

    build = MODELS.build_func

    def build_with_env_key(cfg: Any, *args: Any, **kwargs: Any) -> Any:
        key = cfg.get("key") if isinstance(cfg, dict) else None
        if isinstance(key, str) and key.startswith(ENV_KEY_PREFIX):
            variable = key[len(ENV_KEY_PREFIX) :]
            if variable not in os.environ:
                raise RuntimeError(
                    f"model {cfg.get('path')!r}: its API key should be in ${variable}, which is not set "
                    "(run through `evalscope eval`, or export it)"
                )
            cfg = {**cfg, "key": os.environ[variable]}
        return build(cfg, *args, **kwargs)

    MODELS.build_func = build_with_env_key


def _plain(value: Any) -> Any:
    """Classes and functions (a dataset config's `type`s) as dotted import paths, which the dumped file keeps.

    A config read with `Config.fromfile` holds the objects themselves; a new `Config` built from them cannot
    be written back as Python source. OpenCompass's registries resolve a dotted path by importing it.
    """
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, type) or callable(value):
        return f"{value.__module__}.{value.__qualname__}"
    return value


def _dataset_configs(cfg: Any, choice: dict[str, Any]) -> list[dict[str, Any]]:
    var = choice.get("variable")
    keys = [var] if var else [k for k in cfg.keys() if k.endswith("_datasets")]
    found = [dict(d) for k in keys if k in cfg for d in cfg[k]]
    if not found:
        raise UserError(
            "config", f"{choice['config']} defines no `*_datasets` list: it is not a dataset config"
        )
    return found


def _subset_of(cfg: dict[str, Any]) -> str:
    """A dataset config's subset: its `name` (MMLU's subject, C-Eval's exam, ...), else its abbr."""
    name = cfg.get("name")
    return name if isinstance(name, str) and name else str(cfg["abbr"])


def _pick_subsets(cfgs: list[dict[str, Any]], wanted: list[str], dataset: str) -> list[dict[str, Any]]:
    by_subset = {_subset_of(c): c for c in cfgs}
    by_abbr = {str(c["abbr"]): c for c in cfgs}
    picked = []
    for name in wanted:
        hit = by_subset.get(name) or by_abbr.get(name)
        if hit is None:
            close = difflib.get_close_matches(name, list(by_subset), n=3, cutoff=0.6)
            hint = f" Did you mean: {', '.join(repr(c) for c in close)}?" if close else ""
            raise UserError(
                "config",
                f"{dataset} has no subset {name!r}.{hint} Its subsets: {', '.join(sorted(by_subset))}",
            )
        picked.append(hit)
    return picked


def _check_local_data(datasets: list[dict[str, Any]], data_dir: str) -> None:
    """Every dataset's folder must exist locally: OpenCompass would download a missing one."""
    from opencompass.utils.datasets_info import DATASETS_MAPPING

    missing: dict[str, str] = {}
    for cfg in datasets:
        path = cfg.get("path")
        if not isinstance(path, str) or not path:
            continue
        if os.path.isabs(path):
            local = path
        else:
            rel = DATASETS_MAPPING.get(path, {}).get("local") or path
            local = os.path.normpath(os.path.join(data_dir, rel))
        if not os.path.exists(local):
            missing.setdefault(local, str(cfg["abbr"]))
    if missing:
        lines = "; ".join(f"{path} (for {abbr})" for path, abbr in missing.items())
        raise UserError(
            "data",
            f"local data not found: {lines}. This backend never downloads datasets: put OpenCompass's data "
            f"under {data_dir} (the layout of OpenCompass's data archive: data/<dataset>/...) or point "
            "eval_config.data_dir elsewhere",
        )


def _model_config(model: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    out = dict(model)
    if out.get("tokenizer_path") is None and out.pop("_needs_offline_tokenizer", False):
        out["tokenizer_path"] = _approximate_tokenizer(Path(job["folder"]) / "approx_tokenizer")
    out.pop("_needs_offline_tokenizer", None)
    out.pop("_max_out_len_override", None)
    return out


def _approximate_tokenizer(folder: Path) -> str:
    """A whitespace word-level tokenizer saved as a Hugging Face folder: loads offline, counts ~words.

    OpenCompass's API models count prompt tokens only to truncate prompts longer than `max_seq_len`; without
    a loadable tokenizer they fall back to downloading tiktoken's gpt-4 table, which offline runs cannot.
    """
    if not (folder / "tokenizer.json").is_file():
        from tokenizers import Tokenizer, models, pre_tokenizers

        folder.mkdir(parents=True, exist_ok=True)
        tok = Tokenizer(models.WordLevel(vocab={"[UNK]": 0}, unk_token="[UNK]"))
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        tok.save(str(folder / "tokenizer.json"))
        (folder / "tokenizer_config.json").write_text(
            json.dumps({"tokenizer_class": "PreTrainedTokenizerFast", "unk_token": "[UNK]"}), encoding="utf-8"
        )
    say(f"offline: prompt tokens are counted approximately (words) with {folder}")
    return str(folder)
