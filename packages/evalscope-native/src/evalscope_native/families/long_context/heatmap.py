"""needle_haystack's figures: the mean score of every (context length, depth) cell, and its heat map.

The PNG follows EvalScope 1.14.1's `draw_score_chat` (its colour map, title and axis labels) with
matplotlib alone (EvalScope draws with seaborn, which is not a dependency here).
"""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from evalscope.report import SampleRecord

log = logging.getLogger("evalscope.native")


def cell_scores(records: Sequence[SampleRecord], value: str) -> dict[str, list[dict[str, Any]]]:
    """Per subset, one row per cell: context length, depth, mean score, samples (failed ones count 0,
    as in the report; unscored ones are left out)."""
    cells: dict[str, dict[tuple[int, int], list[float]]] = defaultdict(lambda: defaultdict(list))
    for rec in records:
        if rec.unscored is not None and rec.error is None:
            continue
        key = (int(rec.metadata["context_length"]), int(rec.metadata["depth_percent"]))
        cells[rec.subset][key].append(0.0 if rec.error else float(rec.scores.get(value, 0.0)))
    return {
        subset: [
            {"context_length": c, "depth_percent": d, "score": sum(v) / len(v), "num": len(v)}
            for (c, d), v in sorted(grid.items())
        ]
        for subset, grid in cells.items()
    }


def draw_heatmap(cells: list[dict[str, Any]], show_score: bool = False) -> bytes | None:
    """The heat map as PNG bytes (depth down, context length across); None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.colors import LinearSegmentedColormap
    except ImportError:
        log.warning(
            "needle_haystack: matplotlib is not installed, so no heat map is drawn; pip install matplotlib"
        )
        return None
    lengths = sorted({c["context_length"] for c in cells})
    depths = sorted({c["depth_percent"] for c in cells})
    grid = [[float("nan")] * len(lengths) for _ in depths]
    for c in cells:
        grid[depths.index(c["depth_percent"])][lengths.index(c["context_length"])] = c["score"]
    cmap = LinearSegmentedColormap.from_list("custom_cmap", ["#F0496E", "#EBB839", "#0CD79F"])
    fig, ax = plt.subplots(figsize=(17.5, 8))
    try:
        image = ax.imshow(grid, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
        fig.colorbar(image, ax=ax, label="Score")
        ax.set_xticks(range(len(lengths)), [str(n) for n in lengths], rotation=45)
        ax.set_yticks(range(len(depths)), [str(d) for d in depths])
        if show_score:
            for i, row in enumerate(grid):
                for j, score in enumerate(row):
                    ax.text(j, i, f"{score:.1f}", ha="center", va="center")
        ax.set_title('Fact Retrieval Across Context Lengths ("Needle In A HayStack")')
        ax.set_xlabel("Token Limit")
        ax.set_ylabel("Depth Percent")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        return buf.getvalue()
    finally:
        plt.close(fig)
