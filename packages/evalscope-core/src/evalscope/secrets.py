"""One redaction step for everything a run writes: files, logs, error messages, the terminal.

Why one process-wide set of known secrets rather than a filter per writer: a key reaches text by
routes no single writer can foresee — a provider's 401 that echoes `Bearer sk-…` lands in a sample's
error, hence in the reviews and the report; a key in `--model-args` or in `user:pass@host` lands in
the config dump; an engine prints its own config. So every secret the run learns is registered here
once (`register_secrets`), and every writer — `run_context.atomic_write_text`, the prediction cache,
the log filter, perf's SQLite rows and summaries, the CLI's error printer — passes its text through
`redact`. Registering only ever adds, so a value stays hidden for the rest of the process.

Two kinds of rule:
* **Known values** (`redact`): exact replacement of every registered secret, wherever it appears.
  Exact, so it is safe on model output (a prediction is never altered unless it contains the key).
* **Shapes** (`redact_shapes`, applied by `redact_message`): `Bearer <token>`, `user:pass@` in a URL,
  `?key=…`/`&token=…` query values and `sk-…` keys — for text we did not write ourselves (a server's
  error message, a URL from the user) where a secret we were never told of may hide. Not applied to
  model output, where a prediction about HTTP auth must stay as the model wrote it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "MASK",
    "SECRET_KEY_NAMES",
    "environment_secrets",
    "known_secrets",
    "redact",
    "redact_data",
    "redact_message",
    "redact_shapes",
    "redact_url",
    "register_secrets",
    "secrets_in_data",
    "url_secrets",
]

MASK = "***"

#: Mapping keys whose values are secrets, at any depth of a config (compared lower-case).
SECRET_KEY_NAMES = frozenset(
    {
        "key",
        "api_key",
        "apikey",
        "api-key",
        "x-api-key",
        "judge_key",
        "openai_api_key",
        "token",
        "access_token",
        "auth_token",
        "hf_token",
        "password",
        "secret",
        "authorization",
        "wandb_api_key",
        "swanlab_api_key",
    }
)

#: Query parameters that carry credentials (`?key=` for Google-style APIs, `?api-key=` for Azure, ...).
_QUERY_SECRET_NAMES = frozenset(
    {"key", "api_key", "api-key", "apikey", "token", "access_token", "sig", "password"}
)

#: Values that are placeholders, not secrets: masking them would only garble unrelated text.
_PLACEHOLDERS = frozenset({"empty", "none", "null", "dummy", "sk-xxx", "xxx", "***", "token", "key"})

_known: set[str] = set()
_ordered: list[str] = []  # longest first, so a secret containing another is replaced whole

# Each shape demands a digit (or base64 padding) in the credential, so prose survives:
# "basic arithmetic", "bearer bonds" and "sk-learn-compatible" are words, not keys.
_SHAPES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\b(bearer)(\s+)(?=[A-Za-z._~+/=-]*[0-9=])[A-Za-z0-9._~+/=-]{8,}"), r"\1\2" + MASK),
    (re.compile(r"\b(Basic)(\s+)(?=[A-Za-z+/]*[0-9+/=])[A-Za-z0-9+/]{8,}={0,2}"), r"\1\2" + MASK),
    (re.compile(r"(://)[^/\s:@\"']+:[^/\s@\"']+@"), r"\1" + MASK + "@"),
    (
        re.compile(r"(?i)([?&](?:api[_-]?key|key|token|access_token|sig|password)=)[^&#\s\"']+"),
        r"\1" + MASK,
    ),
    (re.compile(r"\bsk-(?=[A-Za-z_-]*[0-9])[A-Za-z0-9_-]{12,}"), "sk-" + MASK),
]


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember secret values so that `redact` hides them from now on (placeholders are ignored)."""
    changed = False
    for value in values:
        if not value:
            continue
        value = str(value)
        if len(value) < 4 or value.lower() in _PLACEHOLDERS or value in _known:
            continue
        _known.add(value)
        changed = True
    if changed:
        _ordered[:] = sorted(_known, key=len, reverse=True)


def known_secrets() -> list[str]:
    """The registered values (for engines that scrub files they wrote themselves)."""
    return list(_ordered)


def redact(text: str) -> str:
    """Replace every registered secret in `text` by `***`."""
    if not _ordered:
        return text
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_shapes(text: str) -> str:
    """Mask what looks like a credential (bearer tokens, URL passwords, `?key=`, `sk-…`)."""
    for pattern, repl in _SHAPES:
        text = pattern.sub(repl, text)
    return text


def redact_message(text: str) -> str:
    """Both rules: for messages that came from elsewhere (server errors, engine output, exceptions)."""
    return redact_shapes(redact(text))


def redact_data(value: Any) -> Any:
    """A JSON-like structure with secret-named keys masked and known secrets removed from strings."""
    if isinstance(value, dict):
        return {
            k: (MASK if isinstance(k, str) and k.lower() in SECRET_KEY_NAMES and v else redact_data(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact_data(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


def secrets_in_data(value: Any) -> list[str]:
    """Values under secret-named keys at any depth, and the credentials of URL-valued strings.

    For settings that nest keys (`eval_config.models[].key`, perf's `--extra-args`, `model_args`).
    """
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and k.lower() in SECRET_KEY_NAMES and v:
                found.append(v.get_secret_value() if hasattr(v, "get_secret_value") else str(v))
            elif isinstance(v, str) and "://" in v:
                found += url_secrets(v)  # an engine's model URL with user:pass@ or ?key=
            else:
                found += secrets_in_data(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            found += secrets_in_data(v)
    return found


def url_secrets(url: str | None) -> list[str]:
    """The credentials a URL carries: the `user:password@` password and secret query values."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.password] if parts.password else []
    found += [v for k, v in parse_qsl(parts.query) if k.lower() in _QUERY_SECRET_NAMES and v]
    return [f for f in found if f]


def redact_url(url: str) -> str:
    """The URL with its password and secret query values masked (for configs, logs and messages)."""
    return redact_shapes(redact(url))


def environment_secrets(names: Iterable[str] = ("OPENAI_API_KEY", "MODELSCOPE_SDK_TOKEN")) -> list[str]:
    """Values of environment variables that hold keys the SDKs read on their own."""
    return [os.environ[n] for n in names if os.environ.get(n)]
