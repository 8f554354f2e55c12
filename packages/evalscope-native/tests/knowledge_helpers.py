"""Helpers shared by the knowledge family's tests: fixture paths and MMLU-Pro's data layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").split("\n") if x.strip()]


def mmlu_pro_root() -> Path:
    """The MMLU-Pro fixture: the hub's one table, subsets selected by its `category` column."""
    return FIXTURES / "mmlu_pro"
