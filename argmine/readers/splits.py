"""Seeded, grouped train/dev/test splits.

Groups (an OP, an essay, a rumour) never straddle two sides, so no text of one
group can leak from training into evaluation.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import replace

from argmine.errors import InputError
from argmine.thread import Thread

SPLITS = ("train", "dev", "test", "all")


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    return split


def check_fractions(dev_fraction: float, test_fraction: float) -> None:
    """Each fraction in [0, 1) and both together below 1, so the train side is never empty."""
    for name, value in (("dev_fraction", dev_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= value < 1.0:
            raise InputError(f"{name} must be in [0, 1), got {value!r}")
    if dev_fraction + test_fraction >= 1.0:
        raise InputError(f"dev_fraction + test_fraction must be below 1, got {dev_fraction + test_fraction!r}")


def check_split_options(split: str, dev_fraction: float, test_fraction: float) -> None:
    """``check_split`` and ``check_fractions``: the arguments of a reader cut train / dev / test by fractions."""
    check_split(split)
    check_fractions(dev_fraction, test_fraction)


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


def on_side(threads: Iterable[Thread], side_of: Callable[[Thread], str], split: str) -> list[Thread]:
    """The threads whose side is ``split`` (every thread for ``all``), each with its side in ``meta["split"]``."""
    out = []
    for thread in threads:
        side = side_of(thread)
        if split in ("all", side):
            out.append(replace(thread, meta={**thread.meta, "split": side}))
    return out
