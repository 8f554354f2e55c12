"""`metric_list` for benchmarks that score themselves (DROP, TriviaQA, general_mcq, general_qa).

Such a benchmark computes a fixed set of metric keys in `score()`; a user's `metric_list` may pick
some of them (or name a group, like EvalScope's 'BLEU' and 'Rouge'), and an unknown name must fail
before the run starts, with the closest valid name, instead of silently scoring nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from evalscope.errors import ConfigError, closest


def select_metrics(
    benchmark: str,
    requested: Sequence[str] | None,
    default: Sequence[str],
    groups: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """The metric keys to report: `default` unless the user asked for some; groups expand in place."""
    if not requested:
        return list(default)
    groups = groups or {}
    known = {m.lower(): m for m in default}
    by_group = {g.lower(): list(keys) for g, keys in groups.items()}
    chosen: list[str] = []
    for name in requested:
        keys = by_group.get(name.lower()) or ([known[name.lower()]] if name.lower() in known else None)
        if keys is None:
            valid = list(groups) + list(default)
            hint = closest(name, valid)
            raise ConfigError(
                f"{benchmark} cannot compute metric {name!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + ".",
                hint=f"metric_list takes: {', '.join(valid)}",
            )
        chosen += [k for k in keys if k not in chosen]
    return chosen
