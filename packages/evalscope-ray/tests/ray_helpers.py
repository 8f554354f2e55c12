"""What the Ray tests share beside the cluster fixture (conftest.py)."""

from __future__ import annotations

from typing import Any

__all__ = ["comparable", "peak_in_flight"]


def comparable(report: Any, *, judged: bool = False) -> dict[str, Any]:
    """A report as a dict without what must differ between a local and a Ray run of the same work:
    the creation time, the runner's own settings and folders, and -- for a judged run -- how many
    judge requests *this process* sent or found cached (on Ray the scoring actors send them)."""
    data: dict[str, Any] = report.model_dump(mode="json")
    data.pop("created_at")
    data["config"] = {
        k: v for k, v in data["config"].items() if k not in ("runner", "runner_args", "work_dir", "use_cache")
    }
    if judged:
        for key in ("requests_sent", "cache_hits"):
            data["extra"]["judge"].pop(key)
    return data


def peak_in_flight(spans: list[tuple[float, float]]) -> int:
    """The most requests in flight at once, from (arrived, answered) times at the server."""
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    depth = peak = 0
    for _, step in events:
        depth += step
        peak = max(peak, depth)
    return peak
