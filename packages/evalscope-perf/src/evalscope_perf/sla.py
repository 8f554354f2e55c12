"""SLA search (`--sla-auto-tune`): the highest concurrency or rate whose runs meet every SLO.

`--sla-params '[{"p99_ttft": "<=2s", "avg_tpot": "<=50ms"}]'` (EvalScope's format): a list of
groups, each searched on its own. A value passes when every criterion of the group holds on the
mean of `--sla-num-runs` runs and no request failed (a 429 or a timeout breaks a service level
too). Metrics: `avg_`/`p50_`/`p90_`/`p95_`/`p99_` + `ttft`/`tpot`/`itl` (ms) or `latency` (s, as
EvalScope reports it), and `rps`, `tps`, `goodput`. A bare threshold is in the metric's unit; `s`/`ms`
suffixes convert.

The search doubles (or halves) from the start value until the verdict flips, then bisects between
the last pass and the first failure; it assumes the SLOs get harder to meet as load grows.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

from evalscope.errors import ConfigError, UnknownNameError

from evalscope_perf.summary import RunSummary, SlaProbe, SlaResult

__all__ = ["METRICS", "bisect_highest", "metric_values", "parse_criteria", "probe_passes"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt,
}  # fmt: skip
_STATS = {"avg": "mean", "p50": "p50", "p90": "p90", "p95": "p95", "p99": "p99"}
_LATENCIES = {
    "ttft": ("ttft_ms", "ms"),
    "tpot": ("tpot_ms", "ms"),
    "itl": ("itl_ms", "ms"),
    "latency": ("e2el_ms", "s"),
}
#: metric name -> unit of its bare value
METRICS: dict[str, str] = {f"{s}_{m}": unit for s in _STATS for m, (_, unit) in _LATENCIES.items()}
METRICS.update({"rps": "req/s", "tps": "tok/s", "goodput": "req/s"})
_THRESHOLD = re.compile(r"^\s*(<=|>=|<|>|≤|≥)\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(ms|s)?\s*$")

Criterion = tuple[str, float, str]  # (operator, threshold in the metric's unit, as written)


def parse_criteria(groups: list[dict[str, str]]) -> list[dict[str, Criterion]]:
    out = []
    for group in groups:
        if not group:
            raise ConfigError("--sla-params: empty criteria group {}.")
        parsed: dict[str, Criterion] = {}
        for name, text in group.items():
            if name not in METRICS:
                raise UnknownNameError("SLA metric", name, METRICS)
            m = _THRESHOLD.match(str(text).replace("≤", "<=").replace("≥", ">="))
            if m is None:
                raise ConfigError(
                    f"--sla-params {name}: cannot read {text!r}.",
                    hint='use an operator and a number, e.g. "<=2s", "<500ms", ">=10"',
                )
            op, number, suffix = m.group(1), float(m.group(2)), m.group(3)
            unit = METRICS[name]
            if suffix:
                if unit not in ("ms", "s"):
                    raise ConfigError(
                        f"--sla-params {name}: {unit} is not a time; drop the {suffix!r} suffix."
                    )
                number *= 1.0 if suffix == unit else 1000.0 if suffix == "s" else 0.001
            parsed[name] = (op, number, str(text))
        out.append(parsed)
    return out


def metric_values(s: RunSummary) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    for stat, attr in _STATS.items():
        for name, (field, unit) in _LATENCIES.items():
            v = getattr(getattr(s, field), attr)
            values[f"{stat}_{name}"] = None if v is None else (v / 1000.0 if unit == "s" else v)
    values["rps"] = s.request_throughput
    values["tps"] = s.output_throughput
    values["goodput"] = s.goodput
    return values


def probe_passes(metrics: dict[str, float | None], failed: int, criteria: dict[str, Criterion]) -> bool:
    if failed:
        return False
    for name, (op, target, _) in criteria.items():
        v = metrics.get(name)
        if v is None or not _OPS[op](v, target):
            return False
    return True


def bisect_highest(check: Callable[[int], bool], start: int, low: int, high: int) -> int | None:
    """Highest value in [low, high] with check() true, assuming true below some threshold, false above."""
    start = min(max(start, low), high)
    if check(start):
        lo, hi = start, None
        probe = start
        while probe < high:
            probe = min(probe * 2, high)
            if not check(probe):
                hi = probe
                break
            lo = probe
        if hi is None:
            return lo
    else:
        hi, lo_found = start, None
        probe = start
        while probe > low:
            probe = max(probe // 2, low)
            if check(probe):
                lo_found = probe
                break
            hi = probe
        if lo_found is None:
            return None
        lo = lo_found
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if check(mid):
            lo = mid
        else:
            hi = mid
    return lo


def sla_search(
    groups: list[dict[str, str]],
    variable: str,
    start: int,
    low: int,
    high: int,
    run_probe: Callable[[int], list[RunSummary]],
    stopped: Callable[[], bool],
) -> SlaResult:
    """Search each criteria group; `run_probe(value)` runs --sla-num-runs runs at that load."""
    criteria = parse_criteria(groups)
    probes: dict[int, SlaProbe] = {}

    def measure(value: int) -> SlaProbe:
        if value not in probes:
            runs = run_probe(value)
            per_run = [metric_values(r) for r in runs]
            keys = per_run[0].keys() if per_run else []
            mean: dict[str, float | None] = {}
            for k in keys:
                vals = [m[k] for m in per_run]
                mean[k] = (
                    None
                    if any(v is None for v in vals)
                    else sum(v for v in vals if v is not None) / len(vals)
                )
            failed = sum(r.failed for r in runs) + (0 if runs and not any(r.interrupted for r in runs) else 1)
            probes[value] = SlaProbe(
                value=value,
                passed=False,
                metrics=mean,
                failed_requests=failed,
                runs=[r.run_dir for r in runs],
            )
        return probes[value]

    best: list[int | None] = []
    for group in criteria:

        def check(value: int, group: dict[str, Criterion] = group) -> bool:
            if stopped():
                return False
            p = measure(value)
            return probe_passes(p.metrics, p.failed_requests, group)

        best.append(bisect_highest(check, start, low, high))
    for p in probes.values():  # `passed`: meets every group
        p.passed = all(probe_passes(p.metrics, p.failed_requests, g) for g in criteria)
    reported = [{k: text for k, (_, _, text) in g.items()} for g in criteria]
    return SlaResult(variable=variable, criteria=reported, best=best, probes=list(probes.values()))
