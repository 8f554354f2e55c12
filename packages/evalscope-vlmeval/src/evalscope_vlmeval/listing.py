"""The datasets the installed VLMEvalKit supports, asked once per engine version and cached on disk.

VLMEvalKit's list (`vlmeval.dataset.SUPPORTED_DATASETS`, ~600 names) exists only after importing the package,
which takes ~45 s; the answer is kept in `$EVALSCOPE_CACHE_DIR/engines/vlmeval-<version>-datasets.json`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from evalscope.engines.env import EngineInstall
from evalscope.errors import EvalScopeError

_LIST = """
import json, sys
sys.path.insert(0, sys.argv[1])
from engine_driver import import_torchvision
import_torchvision()
from vlmeval.dataset import SUPPORTED_DATASETS
print("DATASETS " + json.dumps(sorted(set(SUPPORTED_DATASETS))))
"""


def _cache_file(engine: EngineInstall) -> Path:
    from evalscope.cache_dirs import cache_dir

    return cache_dir("engines", f"vlmeval-{engine.version}-datasets.json")


def supported_datasets(engine: EngineInstall) -> list[str]:
    cache = _cache_file(engine)
    if cache.is_file():
        names: list[str] = json.loads(cache.read_text(encoding="utf-8"))
        return names
    proc = subprocess.run(
        [str(engine.python), "-c", _LIST, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("DATASETS ")]
    if proc.returncode != 0 or not lines:
        raise EvalScopeError(
            f"Could not list VLMEvalKit's datasets with {engine.python}: {(proc.stderr or proc.stdout)[-800:]}"
        )
    names = json.loads(lines[-1].removeprefix("DATASETS "))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(names), encoding="utf-8")
    return names
