"""An engine backend's `eval_config`: the keys every engine plugin takes, and checks that each would repeat.

A plugin's settings model subclasses `EngineSettings` and adds its engine's keys under EvalScope 1.x's names;
`parse_settings` validates `eval_config` (a mapping, or a YAML/JSON file) with one line per problem, and an
unknown key at any depth (`models.0.openai_api_bse`) gets the closest valid names of its own level.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalscope.config import TaskConfig, format_validation_error, read_config_file
from evalscope.errors import ConfigError

__all__ = [
    "EngineSettings",
    "check_distinct_names",
    "data_dir_from",
    "datasets_from",
    "idle_timeout_for",
    "parse_settings",
    "report_folder",
]

SettingsT = TypeVar("SettingsT", bound=BaseModel)


class EngineSettings(BaseModel):
    """The `eval_config` keys every engine backend takes (its own are added by a subclass)."""

    model_config = ConfigDict(extra="forbid")

    python: str | None = Field(
        default=None,
        description="The engine's interpreter (else $EVALSCOPE_<ENGINE>_PYTHON, the engines dir).",
    )
    data_dir: str | None = Field(
        default=None, description="The engine's local data folder (nothing is downloaded)."
    )
    timeout: float | None = Field(default=None, gt=0, description="Seconds for the whole engine run.")
    idle_timeout: float | None = Field(
        default=None, gt=0, description="Kill the engine after this many seconds without output."
    )
    reuse: bool | str | None = Field(
        default=None, description="With --use-cache <run folder>: the engine reuses what it wrote there."
    )
    work_dir: str | None = Field(
        default=None,
        description="Accepted for EvalScope 1.x configs; run folders go under the top-level work_dir.",
    )


def parse_settings(model: type[SettingsT], config: TaskConfig, *, backend: str) -> SettingsT:
    """`config.eval_config` (a mapping or a YAML/JSON path) validated; errors name the key and the fix."""
    raw = config.eval_config
    source = "eval_config"
    if isinstance(raw, str):
        source = f"eval_config file {raw}"
        raw = read_config_file(Path(raw))
    try:
        return model.model_validate(dict(raw or {}))
    except ValidationError as exc:
        hint = f"the {backend} backend's keys: docs/backends/{backend}.md"
        raise ConfigError(format_validation_error(exc, model, source), hint=hint) from None


def datasets_from(
    given: list[str], config: TaskConfig, *, key: str, example: str, hint: str | None = None
) -> list[str]:
    """The datasets of `eval_config.<key>`, else `--datasets`; none is an error naming both."""
    names = given or list(config.datasets)
    if not names:
        raise ConfigError(
            f"No datasets: set eval_config.{key} (e.g. {example}) or pass --datasets.", hint=hint
        )
    return names


def data_dir_from(
    value: str | None, *, variables: Sequence[str], what: str, backend: str, layout: str
) -> Path:
    """The engine's data folder: `eval_config.data_dir`, else the first of the environment `variables` set.

    It must exist. `what` names the folder ("OpenCompass's data folder") and `layout` what it holds, for the
    messages; with none set the error says that the backend never downloads.
    """
    sources = [("eval_config.data_dir", value), *((f"${v}", os.environ.get(v)) for v in variables)]
    for source, given in sources:
        if given:
            path = Path(given).expanduser().resolve()
            if not path.is_dir():
                raise ConfigError(
                    f"{what} {path} (from {source}) does not exist.",
                    hint=f"point it at the folder holding {layout}",
                )
            return path
    either = f"eval_config.data_dir (or ${variables[0]})" if variables else "eval_config.data_dir"
    raise ConfigError(
        f"The {backend} backend reads datasets from a local folder and never downloads them; none is set.",
        hint=f"set {either} to the folder holding {layout}",
    )


def idle_timeout_for(settings: EngineSettings, config: TaskConfig) -> float:
    """`idle_timeout`, else `max(600, 5 × --timeout)`: long enough for the slowest request the run allows."""
    return settings.idle_timeout or max(600.0, 5 * (config.timeout or 120.0))


def report_folder(name: str) -> str:
    """The folder a model's reports go to (`RunInfo.report_path`): two names with one folder clash."""
    return name.replace("/", "_").replace("\\", "_").replace(":", "_")


def check_distinct_names(
    names: Sequence[str], *, key: str, rule: str, folder: Callable[[str], str] = report_folder
) -> None:
    """Refuse two models that would be filed under one name: `eval_config.<key>[j] and <key>[i] are both
    named …`. A silent suffix (`qwen-2`) would not say which entry a folder holds. `rule` says how a
    model's name is chosen ("its abbr, else the last part of its path")."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        slot = folder(name)
        if slot in seen:
            raise ConfigError(
                f"eval_config.{key}[{seen[slot]}] and {key}[{i}] are both named {name!r} (a model's name is "
                f"{rule}); each model's outputs and reports are filed under its name, so names must differ.",
                hint=f"set a distinct `abbr` on each, e.g. {key}[{i}].abbr: {slot}-{i}",
            )
        seen[slot] = i
