"""The JSON written per run (`benchmark_summary.json`), per sweep and per SLA search.

Versioned pydantic models (`schema_version`), so later releases can still read old run folders.
Latencies are in milliseconds except `e2el_ms`'s sibling fields named `_s`; token counts are tokens.
A run's `benchmark_summary.json` is a `RunSummary` followed by EvalScope's own keys
(`evalscope_format`); `RunSummary.model_validate` ignores those, so our readers are unaffected.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "Distribution",
    "ErrorCount",
    "GoodputResult",
    "RepeatStat",
    "RepeatSummary",
    "RunSummary",
    "SlaProbe",
    "SlaResult",
    "SweepSummary",
    "TimeSlice",
    "write_json",
]

SCHEMA_VERSION = 1


class Distribution(BaseModel):
    """Mean, spread and percentiles (linear interpolation, as numpy and vLLM compute them)."""

    count: int = 0
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    p10: float | None = None
    p25: float | None = None
    p50: float | None = None
    p75: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None


class ErrorCount(BaseModel):
    error: str
    count: int


class GoodputResult(BaseModel):
    """One named SLO set of `--goodput-sets`: requests meeting all its SLOs, per second and as a share."""

    slos_ms: dict[str, float]
    goodput: float = Field(description="successful requests meeting every SLO of the set / duration")
    share: float | None = Field(None, description="the share of successful requests meeting them")


class TimeSlice(BaseModel):
    """Requests that ENDED within [t0, t1) s after the measured phase started (warm-up: t < 0)."""

    t0: float
    t1: float
    warmup: bool = Field(description="the slice lies (at least partly) in the warm-up")
    completed: int
    failed: int
    request_throughput: float
    output_throughput: float
    ttft_ms_mean: float | None = None
    ttft_ms_p50: float | None = None
    e2el_ms_mean: float | None = None


class RunSummary(BaseModel):
    schema_version: int = SCHEMA_VERSION
    name: str
    model: str
    api: str
    url: str
    dataset: str
    stream: bool
    http_client: str
    workers: int
    parallel: int
    number: int
    rate: float = Field(description="requests/s of the arrivals; -1: closed loop")
    arrival: str = Field("closed", description="closed | poisson | gamma | constant")
    burstiness: float = 1.0
    role: str = Field("", description="in a --sweep: synchronous | throughput | rate")
    repeat: int = Field(0, description="repetition number with --repeats (from 1); 0: not repeated")
    stopped_reason: str | None = Field(None, description="a stop rule ended the run early (why)")
    interrupted: bool = False
    abandoned: int = Field(0, description="requests in flight when the run was interrupted (not counted)")
    started_at: str
    duration_s: float
    total_requests: int
    succeeded: int
    failed: int
    warmup_requests: int = 0
    errors: list[ErrorCount] = Field(default_factory=list)
    request_throughput: float = Field(description="successful requests / duration (req/s)")
    output_throughput: float = Field(description="output tokens / duration (tok/s)")
    total_token_throughput: float = Field(description="(input + output tokens) / duration (tok/s)")
    goodput: float | None = Field(None, description="requests meeting every --goodput SLO / duration")
    goodput_slos_ms: dict[str, float] = Field(default_factory=dict)
    goodputs: dict[str, GoodputResult] = Field(default_factory=dict, description="--goodput-sets")
    total_input_tokens: int = 0
    total_output_tokens: int = 0
    token_source: dict[str, int] = Field(default_factory=dict, description="how output tokens were counted")
    token_note: str = ""
    ttft_ms: Distribution = Field(default_factory=Distribution)
    tpot_ms: Distribution = Field(default_factory=Distribution)
    itl_ms: Distribution = Field(default_factory=Distribution)
    e2el_ms: Distribution = Field(default_factory=Distribution)
    input_tokens: Distribution = Field(default_factory=Distribution)
    output_tokens: Distribution = Field(default_factory=Distribution)
    prefix_cache_share: float | None = Field(
        None, description="multi-turn: share of prompt tokens already sent earlier in the conversation"
    )
    cached_tokens_share: float | None = Field(
        None, description="share of prompt tokens the server reported as cached (usage.prompt_tokens_details)"
    )
    time_slices: list[TimeSlice] = Field(default_factory=list, description="--time-slice")
    run_dir: str = ""

    @property
    def label(self) -> str:
        base = f"parallel_{self.parallel}_number_{self.number}"
        return base + (f"_rate_{self.rate:g}" if self.rate > 0 else "")


class SweepSummary(BaseModel):
    schema_version: int = SCHEMA_VERSION
    name: str
    runs: list[RunSummary]
    plots: list[str] = Field(default_factory=list)
    profile: str = Field("points", description="points (--parallel/--rate lists) | sweep (--sweep N)")
    saturation_rate: float | None = Field(
        None, description="--sweep: the highest request throughput measured (the throughput run's)"
    )
    highest_sustained_rate: float | None = Field(
        None, description="--sweep: the highest offered rate served at >= 90 % without a stop rule firing"
    )
    wall_s: float | None = Field(None, description="wall time of all runs, sleeps included")


class RepeatStat(BaseModel):
    """One metric over the repetitions of one load point: mean, spread, 95 % t-interval of the mean."""

    values: list[float]
    mean: float
    std: float
    ci95_low: float
    ci95_high: float


class RepeatSummary(BaseModel):
    schema_version: int = SCHEMA_VERSION
    label: str
    repeats: int
    metrics: dict[str, RepeatStat]
    runs: list[str] = Field(default_factory=list, description="run folders")


class SlaProbe(BaseModel):
    value: int
    passed: bool
    metrics: dict[str, float | None]
    failed_requests: int
    runs: list[str] = Field(default_factory=list, description="run folders of this probe")


class SlaResult(BaseModel):
    schema_version: int = SCHEMA_VERSION
    variable: str
    criteria: list[dict[str, str]]
    best: list[int | None] = Field(description="highest passing value, one per criteria group")
    probes: list[SlaProbe]
    note: str = "assumes the SLOs get harder to meet as the load grows (monotonic)"


def write_json(path: Path, model: BaseModel | dict[str, Any] | list[Any]) -> None:
    """Atomic write (temp file + rename): a crash never leaves half a JSON file.

    Every registered secret is masked (`evalscope.secrets.redact`) in the text written. Known values
    only: the credential *shapes* of `redact_message` are applied where a server's text enters
    (`record.finalize`), because on a whole summary they would also hit harmless words
    ("token throughput" reads like `token <credential>`).
    """
    from evalscope.secrets import redact

    text = model.model_dump_json(indent=2) if isinstance(model, BaseModel) else _dumps(model)
    text = redact(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _dumps(obj: dict[str, Any] | list[Any]) -> str:
    import json

    return json.dumps(obj, indent=2, ensure_ascii=False)
