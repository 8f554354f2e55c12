"""Exact apportionment: how many samples each member gets, summing to exactly the total asked.

EvalScope 1.14.1 gives each member `int(weight × N)` and the last one whatever is left, so the
truncation error of every member piles onto the last. Here the quotas `weight × N` are exact
fractions and the largest-remainder (Hamilton) method rounds them: every member gets its quota
rounded down or up, so it is within 1 of `weight × N`, and the counts add up to N.

A member with fewer samples than its quota gives them all, and its shortfall is shared by the
others in proportion to their weights (recomputed until no member is asked for more than it has);
`Apportionment.capped` says which members were short, for the log.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Apportionment", "apportion"]


@dataclass(frozen=True)
class Apportionment:
    counts: list[int]
    #: each member's exact share of the total before any shortfall was moved (weight × N)
    quotas: list[Fraction]
    #: members that had fewer samples than their quota asked (they give all they have)
    capped: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


def apportion(
    weights: Sequence[Fraction], total: int, capacities: Sequence[int] | None = None
) -> Apportionment:
    """Split `total` among members by `weights` (≥ 0, not all 0), none above its capacity.

    When the capacities of the members with a positive weight add up to less than `total`, every
    such member gives all it has and the counts add up to less than `total`.
    """
    if total < 0:
        raise ValueError(f"total must be >= 0, got {total}")
    n = len(weights)
    caps = list(capacities) if capacities is not None else [total] * n
    if len(caps) != n:
        raise ValueError("one capacity per weight")
    wsum = sum(weights, Fraction(0))
    if n == 0 or wsum <= 0:
        raise ValueError("weights must include a positive one")
    quotas = [Fraction(w) * total / wsum for w in weights]
    counts = [0] * n
    eligible = [i for i in range(n) if weights[i] > 0 and caps[i] > 0]
    budget = min(total, sum(caps[i] for i in eligible))
    fixed: dict[int, int] = {}
    while True:
        free = [i for i in eligible if i not in fixed]
        left = budget - sum(fixed.values())
        free_weight = sum((Fraction(weights[i]) for i in free), Fraction(0))
        if not free or left <= 0:
            share = {i: Fraction(0) for i in free}
            break
        share = {i: Fraction(weights[i]) * left / free_weight for i in free}
        over = [i for i in free if share[i] > caps[i]]
        if not over:
            break
        for i in over:
            fixed[i] = caps[i]
    for i, c in fixed.items():
        counts[i] = c
    floors = {i: math.floor(q) for i, q in share.items()}
    for i, f in floors.items():
        counts[i] = f
    leftover = budget - sum(counts)
    # Largest remainders first; ties go to the earlier member, so the result is fully determined.
    order = sorted(share, key=lambda i: (-(share[i] - floors[i]), i))
    for i in order[: max(leftover, 0)]:
        counts[i] += 1
    capped = [i for i in range(n) if weights[i] > 0 and caps[i] < quotas[i]]
    return Apportionment(counts=counts, quotas=quotas, capped=capped)
