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

__all__ = ["Distribution", "ErrorCount", "RunSummary", "SlaProbe", "SlaResult", "SweepSummary", "write_json"]

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
    rate: float = Field(description="requests/s of the Poisson arrivals; -1: closed loop")
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
