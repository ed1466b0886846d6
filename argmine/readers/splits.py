"""Seeded, grouped train/dev/test splits.

Groups (an OP, an essay, a rumour) never straddle two sides, so no text of one
group can leak from training into evaluation.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

SPLITS = ("train", "dev", "test", "all")


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    return split


def assign_groups(
    groups: Iterable[str], *, seed: int, dev_fraction: float, test_fraction: float = 0.0
) -> dict[str, str]:
    """Map each distinct group to ``train``, ``dev`` or ``test``.

    The groups are sorted, then shuffled with ``seed``: the result depends only
    on the set of groups and the seed, not on file-system order. Each non-zero
    fraction gets at least one group.
    """
    ordered = sorted(set(groups))
    random.Random(seed).shuffle(ordered)
    n = len(ordered)
    n_test = max(1, round(n * test_fraction)) if test_fraction > 0 and n > 2 else 0
    n_dev = max(1, round(n * dev_fraction)) if dev_fraction > 0 and n > 1 else 0
    sides = {}
    for index, group in enumerate(ordered):
        sides[group] = "test" if index < n_test else "dev" if index < n_test + n_dev else "train"
    return sides
