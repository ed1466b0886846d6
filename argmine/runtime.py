"""What a process sets up before it trains or predicts: seeds, CPU threads, padding-poor batches.

Inference (``argmine mine``, the segmenter's and stance classifier's ``predict``) and training
(``argmine.training``) both use these, so they live apart from the training loop: predicting
imports nothing of it.

    seed_everything(seed)                    Python, NumPy and torch RNGs, in one call
    use_cpu_threads(n)                       torch's intra-op threads: our share of the cores
    length_bucketed_batches(lengths, ...)    example indices grouped by length (shuffled for training)
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence

import numpy as np
import torch

from argmine.errors import InputError


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch: the one seeding function of the project."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def available_cores() -> int:
    """The CPU cores this process may run on (respects affinity and containers' cpusets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def use_cpu_threads(n: int | None = None) -> int:
    """Let torch use ``n`` intra-op threads (default: our share of the cores); returns ``n``.

    The default is every core we may run on, divided among the processes that
    ``torchrun`` started on this machine (LOCAL_WORLD_SIZE). More threads than
    cores only adds contention on a small CPU.
    """
    if n is None:
        n = max(1, available_cores() // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))
    if n < 1:
        raise InputError(f"thread count must be at least 1, got {n}")
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # can only be set before the first parallel op; harmless afterwards
        pass
    return n


def length_bucketed_batches(
    lengths: Sequence[int],
    batch_size: int,
    *,
    shuffle: bool,
    seed: int = 0,
    max_tokens: int | None = None,
    chunk_batches: int = 50,
) -> list[list[int]]:
    """Group example indices into batches of similar length, so little padding is computed.

    With ``shuffle``, the indices are shuffled (by ``seed``), cut into chunks of
    ``chunk_batches`` batches, each chunk sorted by length and cut into batches,
    and the batches shuffled: random but nearly padding-free. Without
    ``shuffle`` (prediction), all examples are sorted by length, longest first.

    A batch holds at most ``batch_size`` examples and, when ``max_tokens`` is
    set, at most ``max_tokens`` padded tokens (examples × longest length); a
    single example longer than ``max_tokens`` gets a batch of its own.
    Every index appears exactly once.
    """
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}")
    if max_tokens is not None and max_tokens < 1:
        raise InputError(f"max_tokens must be at least 1, got {max_tokens}")
    if chunk_batches < 1:
        raise ValueError(f"chunk_batches must be at least 1, got {chunk_batches}")
    order = list(range(len(lengths)))
    rng = random.Random(seed)
    if shuffle:
        rng.shuffle(order)
        chunk = batch_size * chunk_batches
        chunks = [order[i : i + chunk] for i in range(0, len(order), chunk)]
    else:
        chunks = [order]
    batches: list[list[int]] = []
    for part in chunks:
        part = sorted(part, key=lambda i: -lengths[i])  # stable: ties keep their (shuffled) order
        batch: list[int] = []
        longest = 0
        for index in part:
            size = max(longest, lengths[index])
            too_many = len(batch) >= batch_size
            too_long = max_tokens is not None and batch and (len(batch) + 1) * size > max_tokens
            if batch and (too_many or too_long):
                batches.append(batch)
                batch, size = [], lengths[index]
            batch.append(index)
            longest = size
        if batch:
            batches.append(batch)
    if shuffle:
        rng.shuffle(batches)
    return batches
