"""Which datasets the installed OpenCompass offers, found by reading its config folder (no import).

Two kinds of names are accepted in `eval_config.datasets`:

* **EvalScope's short names** (`gsm8k`, `mmlu`, `ARC_c`, `ceval`, ...): the 50 datasets EvalScope 1.x ran through
  OpenCompass, each bound to the dataset config EvalScope chose (`gsm8k` → `gsm8k/gsm8k_gen_1d7fe4.py`).
* **Any OpenCompass dataset config**, by file name (`gsm8k_0shot_v2_gen_a58960`) or by folder and file name
  (`mgsm/mgsm_gen`, for the few names two folders share), as `opencompass --datasets` takes them.

A name is offered only if its config file exists in the installed engine, so `evalscope list --backend
opencompass` shows what this engine can run. The scan reads file names only: OpenCompass keeps its configs
under `opencompass/configs/datasets/`, which `find_spec` locates without importing the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from evalscope.errors import UnknownNameError

#: EvalScope 1.x's OpenCompass datasets: short name → "<folder>/<config file>" (the `<name>_datasets` list in it).
EVALSCOPE_DATASETS: dict[str, str] = {
    "agieval": "agieval/agieval_gen_64afd3",
    "ARC_c": "ARC_c/ARC_c_gen_1e0de5",
    "ARC_e": "ARC_e/ARC_e_gen_1e0de5",
    "ceval": "ceval/ceval_gen_5f30c7",
    "afqmc": "CLUE_afqmc/CLUE_afqmc_gen_901306",
    "C3": "CLUE_C3/CLUE_C3_gen_8c358f",
    "cmnli": "CLUE_cmnli/CLUE_cmnli_gen_1abf97",
    "CMRC": "CLUE_CMRC/CLUE_CMRC_gen_1bd3c8",
    "DRCD": "CLUE_DRCD/CLUE_DRCD_gen_1bd3c8",
    "ocnli": "CLUE_ocnli/CLUE_ocnli_gen_c4cb6c",
    "cmb": "cmb/cmb_gen_dfb5c4",
    "cmmlu": "cmmlu/cmmlu_gen_c13365",
    "bustm": "FewCLUE_bustm/FewCLUE_bustm_gen_634f41",
    "chid": "FewCLUE_chid/FewCLUE_chid_gen_0a29a2",
    "cluewsc": "FewCLUE_cluewsc/FewCLUE_cluewsc_gen_c68933",
    "csl": "FewCLUE_csl/FewCLUE_csl_gen_28b223",
    "eprstmt": "FewCLUE_eprstmt/FewCLUE_eprstmt_gen_740ea0",
    "ocnli_fc": "FewCLUE_ocnli_fc/FewCLUE_ocnli_fc_gen_f97a97",
    "tnews": "FewCLUE_tnews/FewCLUE_tnews_gen_b90e4a",
    "GaokaoBench": "GaokaoBench/GaokaoBench_gen_5cfe9e",
    "gsm8k": "gsm8k/gsm8k_gen_1d7fe4",
    "hellaswag": "hellaswag/hellaswag_gen_6faab5",
    "humaneval": "humaneval/humaneval_gen_8e312c",
    "lambada": "lambada/lambada_gen_217e11",
    "lcsts": "lcsts/lcsts_gen_8ee1fe",
    "math": "math/math_gen_265cce",
    "mbpp": "mbpp/mbpp_gen_830460",
    "mmlu": "mmlu/mmlu_gen_4d595a",
    "nq": "nq/nq_gen_c788f6",
    "obqa": "obqa/obqa_gen_9069e4",
    "piqa": "piqa/piqa_gen_1194eb",
    "PMMEval": "PMMEval/pmmeval_gen",
    "race": "race/race_gen_69ee4f",
    "siqa": "siqa/siqa_gen_e78df3",
    "storycloze": "storycloze/storycloze_gen_7f656a",
    "strategyqa": "strategyqa/strategyqa_gen_1180a7",
    "summedits": "summedits/summedits_gen_315438",
    "AX_b": "SuperGLUE_AX_b/SuperGLUE_AX_b_gen_4dfefa",
    "AX_g": "SuperGLUE_AX_g/SuperGLUE_AX_g_gen_68aac7",
    "BoolQ": "SuperGLUE_BoolQ/SuperGLUE_BoolQ_gen_883d50",
    "CB": "SuperGLUE_CB/SuperGLUE_CB_gen_854c6c",
    "COPA": "SuperGLUE_COPA/SuperGLUE_COPA_gen_91ca53",
    "MultiRC": "SuperGLUE_MultiRC/SuperGLUE_MultiRC_gen_27071f",
    "ReCoRD": "SuperGLUE_ReCoRD/SuperGLUE_ReCoRD_gen_30dea0",
    "RTE": "SuperGLUE_RTE/SuperGLUE_RTE_gen_68aac7",
    "WiC": "SuperGLUE_WiC/SuperGLUE_WiC_gen_d06864",
    "WSC": "SuperGLUE_WSC/SuperGLUE_WSC_gen_7902a7",
    "triviaqa": "triviaqa/triviaqa_gen_2121ce",
    "winogrande": "winogrande/winogrande_gen_458220",
    "Xsum": "Xsum/Xsum_gen_31397e",
}


@dataclass(frozen=True)
class DatasetChoice:
    """A dataset the user asked for, bound to the engine's config file."""

    name: str  # as the user wrote it; the report's dataset_name
    config_file: Path
    variable: str | None  # the `*_datasets` list to take; None: every `*_datasets` list in the file

    @property
    def config_name(self) -> str:
        return self.config_file.stem


@dataclass(frozen=True)
class Catalog:
    """The datasets one installed engine offers."""

    datasets_dir: Path
    short_names: dict[str, Path]  # EvalScope names whose config exists
    configs: dict[str, list[Path]]  # config file stem (and "<folder>/<stem>") → files

    def resolve(self, name: str) -> DatasetChoice:
        """Bind a dataset name; an unknown name fails with the closest names the engine offers."""
        if name in self.short_names:
            return DatasetChoice(name, self.short_names[name], f"{name}_datasets")
        lowered = {k.lower(): k for k in self.short_names}
        if name.lower() in lowered:
            key = lowered[name.lower()]
            return DatasetChoice(name, self.short_names[key], f"{key}_datasets")
        files = self.configs.get(name.removesuffix(".py"))
        if files and len(files) == 1:
            return DatasetChoice(name, files[0], None)
        if files:
            options = ", ".join(f"{f.parent.name}/{f.stem}" for f in files)
            raise UnknownNameError(
                "OpenCompass dataset",
                name,
                [],
                hint=f"{len(files)} OpenCompass configs are named {name!r}; pick one of: {options}",
            )
        raise UnknownNameError(
            "OpenCompass dataset",
            name,
            [*self.short_names, *(k for k in self.configs if "/" not in k)],
            hint="`evalscope list --backend opencompass` shows the datasets the installed OpenCompass offers "
            "(EvalScope's short names, and any config file name under opencompass/configs/datasets/).",
        )

    def rows(self, include_configs: bool = True) -> list[dict[str, str]]:
        """Listing rows (`name`, `description`): EvalScope's names, then every config file the engine ships."""
        out = [
            {"name": n, "description": f"EvalScope name for OpenCompass config {p.parent.name}/{p.stem}"}
            for n, p in sorted(self.short_names.items(), key=lambda kv: kv[0].lower())
        ]
        if include_configs:
            out += [
                {"name": k, "description": f"OpenCompass config {files[0].parent.name}/{files[0].stem}.py"}
                for k, files in sorted(self.configs.items())
                if "/" not in k and len(files) == 1 and k not in self.short_names
            ]
        return out


@lru_cache(maxsize=8)
def load_catalog(package_dir: Path) -> Catalog:
    """Scan `<opencompass package>/configs/datasets/` (1,500 small files: a few ms, cached per process)."""
    datasets_dir = package_dir / "configs" / "datasets"
    configs: dict[str, list[Path]] = {}
    if datasets_dir.is_dir():
        for path in sorted(datasets_dir.rglob("*.py")):
            if path.name == "__init__.py":
                continue
            configs.setdefault(path.stem, []).append(path)
            rel = path.relative_to(datasets_dir).with_suffix("").as_posix()
            configs.setdefault(rel, []).append(path)
    short = {
        name: datasets_dir / f"{rel}.py"
        for name, rel in EVALSCOPE_DATASETS.items()
        if (datasets_dir / f"{rel}.py").is_file()
    }
    return Catalog(datasets_dir=datasets_dir, short_names=short, configs=configs)
