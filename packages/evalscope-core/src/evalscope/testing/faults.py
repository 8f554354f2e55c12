"""Fault injection: which request fails, and how, decided so that a test can predict it.

A request's fault is a pure function of its KEY (or, with `per: "request"`, of its arrival number):
u = the first 8 bytes of sha256(str(seed) + key) as a fraction of 2**64, compared with the cumulative
`rate`s in the order of `FAULT_KINDS`. A faulted key fails on its first `attempts` requests, then is
answered normally (so a client's retry succeeds); `always_fail` substrings of the key give HTTP 500
forever; `fail_first` fails the first N requests of every route whatever their key.

The kinds:

* `"500"`, `"429"` (with `Retry-After: retry_after_s`): an error body, at once;
* `"drop"`: the connection is aborted -- without a byte, or for a stream after `drop_after` tokens;
* `"stall"`: the reply waits `stall_s` first (the client's timeout should fire before);
* `"echo_401"`, `"echo_500"`, `"echo_stream"`: a provider that quotes the credentials it received
  (`Authorization`, `Cookie`, any header naming a key or token) in its error: as a 401, a 500, or an
  error event inside an HTTP 200 stream (a 500 for a request that did not ask for a stream).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["FAULT_KINDS", "FaultPlan", "FaultState", "fault_for", "echo_credentials"]

FAULT_KINDS = ("500", "429", "drop", "stall", "echo_401", "echo_500", "echo_stream")


@dataclass
class FaultPlan:
    """The `faults` section of a server's config (see the module docstring)."""

    rate: dict[str, float] = field(default_factory=dict)
    seed: int | str = 0
    per: str = "key"  # "key": a prompt fails the same way every time; "request": by arrival number
    attempts: int = 1
    always_fail: list[str] = field(default_factory=list)
    fail_first: int = 0
    retry_after_s: float | str = 0.05
    stall_s: float = 30.0
    drop_after: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> FaultPlan:
        data = dict(data or {})
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(
                f"unknown fault settings {sorted(unknown)}; expected {[f.name for f in fields(cls)]}"
            )
        plan = cls(**data)
        bad = set(plan.rate) - set(FAULT_KINDS)
        if bad:
            raise ValueError(f"unknown fault kinds {sorted(bad)}; expected {FAULT_KINDS}")
        if plan.per not in ("key", "request"):
            raise ValueError(f"faults.per must be 'key' or 'request', not {plan.per!r}")
        plan.rate = {k: float(v) for k, v in plan.rate.items()}
        plan.always_fail = [str(s) for s in plan.always_fail]
        return plan

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fault_for(key: str, faults: Mapping[str, Any] | FaultPlan) -> str | None:
    """The injected fault kind for a request key, or None: pure, so tests can compute the same decision.

    `attempts`, `always_fail` and `fail_first` are applied by the server (`FaultState`), not here.
    """
    plan = faults if isinstance(faults, FaultPlan) else FaultPlan.from_dict(faults)
    if not plan.rate:
        return None
    digest = hashlib.sha256(f"{plan.seed}{key}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2.0**64
    edge = 0.0
    for kind in FAULT_KINDS:
        edge += plan.rate.get(kind, 0.0)
        if u < edge:
            return kind
    return None


class FaultState:
    """The per-server memory a plan needs: how often each faulted key has failed already."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.attempts: dict[str, int] = {}

    def decide(self, key: str, arrival: int, route_requests: int) -> str | None:
        """The fault for this request; `route_requests` counts its route's requests, this one included."""
        plan = self.plan
        if route_requests <= plan.fail_first or any(s in key for s in plan.always_fail):
            return "500"
        if not plan.rate:
            return None
        if plan.per == "request":
            return fault_for(str(arrival), plan)
        kind = fault_for(key, plan)
        if kind is None:
            return None
        n = self.attempts[key] = self.attempts.get(key, 0) + 1
        return kind if n <= plan.attempts else None


def echo_credentials(headers: Mapping[str, str]) -> str:
    """An error message quoting the credentials received, as some providers' 401s do."""
    quoted = [
        f"{name}: {value}"
        for name, value in headers.items()
        if name in ("authorization", "cookie") or "key" in name or "token" in name
    ]
    return "Incorrect API key provided. Received " + ("; ".join(quoted) or "no credentials")
