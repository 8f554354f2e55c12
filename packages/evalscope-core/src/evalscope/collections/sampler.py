"""Samplers: draw a mixed evaluation set from a `CollectionSchema`, EvalScope 1.14.1's interface.

    mixed = WeightedSampler(schema, seed=42).sample(1000)     # list of dicts, one per line
    dump_jsonl_data(mixed, "mix.jsonl")

What each sampler decides is how many samples each member gets:

* `WeightedSampler` — in proportion to the schema's (normalised) weights;
* `UniformSampler` — the same number from every member, whatever the weights;
* `StratifiedSampler` — in proportion to each member's size (the mix mirrors the pooled data).

The counts are exact (see `allocation.py`): they add up to the number asked, each member's is
within 1 of its share, and a member smaller than its share gives everything and its shortfall goes
to the others (logged). Inside a member the draw is stratified by subset — each subset gets its
share of the member's count in proportion to its size — and uniform without replacement inside a
subset. Each subset's draw has its own random stream, derived from the seed and the member's and
subset's names, so the same seed gives byte-identical output and editing one member of the schema
does not change what is drawn from the others. `seed=None` draws differently every time.

Every record's `weight` is the member's schema share divided by its number of samples (as in
EvalScope), whichever sampler drew it: the report's weighted average then weighs members as the
schema says even where the counts could not.
"""

from __future__ import annotations

import logging
import os
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from evalscope.collections.allocation import apportion
from evalscope.collections.loading import ChecksMembers, MemberLoader, MemberSample, default_loader
from evalscope.collections.records import DatasetEntry
from evalscope.collections.schema import CollectionSchema, DatasetInfo, leaf_weights
from evalscope.errors import ConfigError

__all__ = ["MemberAllocation", "Sampler", "StratifiedSampler", "UniformSampler", "WeightedSampler"]

log = logging.getLogger("evalscope.collections")


@dataclass(frozen=True)
class MemberAllocation:
    """What one member contributed to the last `sample` call."""

    name: str
    hierarchy: list[str]
    available: int
    #: its exact share of the count asked, before any shortfall moved (weight × N for the weighted sampler)
    quota: float
    count: int
    subsets: dict[str, int] = field(default_factory=dict)


class Sampler:
    """Base class: subclasses say how the count is shared among members (`member_weights`)."""

    def __init__(
        self,
        schema: CollectionSchema,
        *,
        seed: int | None = 42,
        loader: MemberLoader | None = None,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.schema = schema
        self.seed = seed
        self.loader = loader
        self.data_dir = data_dir
        #: per member, what the last `sample` call drew (for a summary)
        self.allocation: list[MemberAllocation] = []

    def member_weights(self, shares: list[Fraction], sizes: list[int]) -> list[Fraction]:
        """Relative weights of the members' counts, from their schema shares and sizes."""
        raise NotImplementedError

    def sample(self, count: int) -> list[dict[str, Any]]:
        """`count` records (fewer only when all members together have fewer samples), as dicts."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"count must be a positive whole number of samples, got {count!r}.")
        flat = leaf_weights(self.schema)
        infos = [info for info, _ in flat]
        shares = [share for _, share in flat]
        loader = self.loader or default_loader(self.data_dir)
        if isinstance(loader, ChecksMembers):
            loader.check(infos)  # every name and args before any data is read
        pools = [_by_subset(loader(info)) for info in infos]
        sizes = [sum(len(v) for v in pool.values()) for pool in pools]
        weights = self.member_weights(shares, sizes)
        if not any(w > 0 and n > 0 for w, n in zip(weights, sizes, strict=True)):
            raise ConfigError(
                "No member of the collection with a positive weight has any sample.",
                hint="check each member's subset_list and the data folder (--data-dir)",
            )
        plan = apportion(weights, count, sizes)
        self._log_shortfalls(infos, sizes, plan.quotas, plan.capped, count, plan.total)
        rng = random.Random() if self.seed is None else None
        seen: Counter[str] = Counter()
        records: list[dict[str, Any]] = []
        self.allocation = []
        for info, share, pool, n, quota in zip(infos, shares, pools, plan.counts, plan.quotas, strict=True):
            occurrence = seen[info.name]
            seen[info.name] += 1
            subsets = list(pool)
            per_subset = [0] * len(subsets)
            if n:
                per_subset = apportion(
                    [Fraction(len(pool[s])) for s in subsets], n, [len(pool[s]) for s in subsets]
                ).counts
            weight = float(share) / n if n else 0.0
            for subset, k in zip(subsets, per_subset, strict=True):
                draw = rng or random.Random(
                    f"evalscope-collection/{self.seed}/{info.name}#{occurrence}/{subset}"
                )
                for position in sorted(draw.sample(range(len(pool[subset])), k)):
                    picked = pool[subset][position]
                    entry = DatasetEntry(
                        index=len(records),
                        prompt=picked.prompt,
                        tags=list(info.tags),
                        categories=list(info.hierarchy),
                        task_type=info.task_type,
                        weight=weight,
                        dataset_name=info.name,
                        subset_name=subset,
                        member=picked.member,
                    )
                    records.append(entry.to_dict())
            self.allocation.append(
                MemberAllocation(
                    name=info.name,
                    hierarchy=list(info.hierarchy),
                    available=sum(len(v) for v in pool.values()),
                    quota=float(quota),
                    count=n,
                    subsets=dict(zip(subsets, per_subset, strict=True)),
                )
            )
        return records

    @staticmethod
    def _log_shortfalls(
        infos: Sequence[DatasetInfo],
        sizes: Sequence[int],
        quotas: Sequence[Fraction],
        capped: Sequence[int],
        count: int,
        got: int,
    ) -> None:
        for i in capped:
            log.warning(
                "%s has %d sample(s), fewer than its share of %.2f of %d: it gives all it has and the other "
                "members take the %.2f missing, in proportion to their weights",
                infos[i].name,
                sizes[i],
                float(quotas[i]),
                count,
                float(quotas[i]) - sizes[i],
            )
        if got < count:
            log.warning(
                "the members have only %d sample(s) in all, fewer than the %d asked: the mix has %d",
                got,
                count,
                got,
            )


class WeightedSampler(Sampler):
    """Counts in proportion to the schema's weights (normalised down the tree)."""

    def member_weights(self, shares: list[Fraction], sizes: list[int]) -> list[Fraction]:
        return list(shares)


class UniformSampler(Sampler):
    """The same count from every member (the schema's weights only weigh the report's average)."""

    def member_weights(self, shares: list[Fraction], sizes: list[int]) -> list[Fraction]:
        return [Fraction(1)] * len(shares)


class StratifiedSampler(Sampler):
    """Counts in proportion to each member's size, and inside a member to each subset's size."""

    def member_weights(self, shares: list[Fraction], sizes: list[int]) -> list[Fraction]:
        return [Fraction(n) for n in sizes]


def _by_subset(samples: Sequence[MemberSample]) -> dict[str, list[MemberSample]]:
    pool: dict[str, list[MemberSample]] = {}
    for sample in samples:
        pool.setdefault(sample.subset, []).append(sample)
    return pool
