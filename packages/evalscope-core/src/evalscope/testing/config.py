"""The scripted server's settings: one dataclass, the same keys as the JSON given to `--config`.

Where a reply comes from, first match wins:

1. `tokens` (an int, or `"max_tokens"`: the request's `max_tokens`, 16 when absent): a *synthetic*
   reply of that many `token_text` tokens, finish reason `length` -- the fake model of perf tests;
2. for chat requests (and `/responses`, whose input is read as chat messages), a responder
   (`responders.chat`: a Python callable given to `InProcessServer`, or
   `{"factory": "package.module:function", "args": {...}}`, imported in the server's process);
3. the reply table: the FIRST entry, in order, whose `contains` is a substring of the request key
   (the last user message; a completion's prompt), else `default_reply`.

Timing: `delay_s` holds the whole response back (a slow service); `ttft` is the time from arrival to
the first token, `ttft_per_active` adds that much per stream already in flight (a queue that grows
with load), `itl` is the time between tokens. `max_active` > 0 is a server of known capacity: at
most that many streams generate at once, the others wait in a FIFO queue and their `ttft` starts
when a slot frees (capacity = max_active / (ttft + (tokens - 1) * itl) requests/s). A reply that is not streamed is written when its last
token would have been. Deadlines are absolute (arrival + ttft + k * itl), so a late timer never
shifts the tokens after it.

Misconfigured services, for the tests of what a user meets when the URL or key is wrong:
`api_key` makes every model route require `Authorization: Bearer <api_key>` and answer 401 otherwise,
ECHOING the header it got, as real providers do. `misbehave` breaks the protocol after
`misbehave_after` good replies: "html" (a 200 web page on every route), "truncated_json" (a 200 JSON
body cut in half), "empty_choices" (`choices: []`), "null_content" (`message.content: null`),
"echo_key_500" (a 500 whose message echoes the header). `strict_model` answers 404 "The model `x`
does not exist." for any other model name, as vLLM does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from evalscope.testing.faults import FaultPlan

__all__ = ["MISBEHAVIOURS", "RESPONDER_ROUTES", "ServerConfig"]

MISBEHAVIOURS = ("html", "truncated_json", "empty_choices", "null_content", "echo_key_500")
#: The routes a responder can serve: chat replies, embedding vectors, rerank scores.
RESPONDER_ROUTES = ("chat", "embeddings", "rerank")


@dataclass
class ServerConfig:
    """Validated eagerly: a typo in a test's table fails at startup, not as a wrong reply."""

    model: str = "scripted"
    default_reply: str = "I don't know."
    entries: list[dict[str, str]] = field(default_factory=list)
    responders: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: int | str | None = None
    token_text: str = " tok"
    usage: bool = True
    reasoning: bool = False
    embedding_dim: int = 0  # > 0: /embeddings answers with hash-derived vectors of this size
    delay_s: float = 0.0
    ttft: float = 0.0
    ttft_per_active: float = 0.0
    itl: float = 0.0
    max_active: int = 0  # > 0: at most this many streams generate at once; later ones queue (FIFO)
    record_timings: bool = False
    faults: FaultPlan = field(default_factory=FaultPlan)
    api_key: str | None = None
    misbehave: str | None = None
    misbehave_after: int = 0
    strict_model: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServerConfig:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        values = dict(data)
        entries = [dict(e) for e in values.get("entries") or []]
        for e in entries:
            if not isinstance(e.get("contains"), str) or not isinstance(e.get("reply"), str):
                raise ValueError(f"each entry needs string 'contains' and 'reply': {e!r}")
        values["entries"] = entries
        faults = values.get("faults")
        values["faults"] = faults if isinstance(faults, FaultPlan) else FaultPlan.from_dict(faults)
        responders = {k: dict(v) for k, v in (values.get("responders") or {}).items()}
        for route, spec in responders.items():
            if route not in RESPONDER_ROUTES:
                raise ValueError(f"unknown responder route {route!r}; expected one of {RESPONDER_ROUTES}")
            factory = spec.get("factory")
            if not isinstance(factory, str) or ":" not in factory or set(spec) - {"factory", "args"}:
                raise ValueError(
                    f"responders.{route} needs 'factory': 'package.module:function' (and optional 'args'): {spec!r}"
                )
        values["responders"] = responders
        tokens = values.get("tokens")
        if tokens is not None and tokens != "max_tokens" and not (isinstance(tokens, int) and tokens > 0):
            raise ValueError(f"tokens must be a positive int, 'max_tokens' or null, not {tokens!r}")
        misbehave = values.get("misbehave")
        if misbehave is not None and misbehave not in MISBEHAVIOURS:
            raise ValueError(f"unknown misbehave {misbehave!r}; expected one of {MISBEHAVIOURS}")
        try:
            config = cls(**values)
        except TypeError as exc:  # pragma: no cover - the key check above catches the usual cause
            raise ValueError(str(exc)) from None
        if not isinstance(config.max_active, int) or config.max_active < 0:
            raise ValueError(f"max_active must be an int >= 0, not {config.max_active!r}")
        for name in ("delay_s", "ttft", "ttft_per_active", "itl"):
            setattr(config, name, float(getattr(config, name)))
        return config

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able form; `from_dict(to_dict())` gives the same config."""
        return asdict(self)
