"""Percentile bootstrap intervals over threads for the headline scores of one evaluation.

Comments of one thread are not independent, so threads are the unit that is resampled. Each
thread pair is turned into its row once (``spans.count_thread``, ``stance.stance_pairs``); a
resample is scored by summing the rows it drew, with the same scoring functions as the metrics,
so an interval is always an interval of the number next to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from argmine.errors import InputError
from argmine.evaluation.alignment import align_threads
from argmine.evaluation.glossary import HEADLINE, STANCE_LEVELS
from argmine.evaluation.spans import count_thread, prf
from argmine.evaluation.stance import StancePairs, label_metrics, stance_pairs
from argmine.thread import Thread

log = logging.getLogger(__name__)

# A function of the drawn thread indices: the metric on that resample (None when it has nothing to score).
Statistic = Callable[[np.ndarray], "float | None"]


def bootstrap_intervals(
    gold: Sequence[Thread],
    predicted: Sequence[Thread],
    *,
    kind: str,
    labels: Sequence[str],
    keys: Iterable[str] = HEADLINE,
    samples: int = 1000,
    seed: int = 0,
    include_posts: bool = False,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of ``keys``: threads drawn with replacement, ``samples`` times.

    ``kind`` is ``components`` (span keys) or ``stance`` (stance keys); keys the
    other kind owns, or that the data does not score, are left out. Threads are
    matched by id (``InputError`` if the two sides hold different ones). A
    resample in which a stance level has no item is skipped for that key.
    """
    if samples < 1:
        raise InputError(f"bootstrap samples must be at least 1, got {samples}")
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    pairs = align_threads(gold, predicted)
    if not pairs:
        return {}
    statistics = thread_statistics(pairs, kind=kind, labels=labels, include_posts=include_posts)
    wanted = [key for key in keys if key in statistics]
    if not wanted:
        return {}
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(pairs), size=(samples, len(pairs)))
    values: dict[str, list[float]] = {key: [] for key in wanted}
    for draw in draws:
        for key in wanted:
            value = statistics[key](draw)
            if value is not None:
                values[key].append(value)
    tail = (1 - level) / 2 * 100
    out = {}
    for key, found in values.items():
        if found:
            low, high = np.percentile(found, [tail, 100 - tail])
            out[key] = (float(low), float(high))
        if len(found) < samples:
            log.info("bootstrap %s: %d of %d resamples had nothing to score", key, samples - len(found), samples)
    return out


def thread_statistics(
    pairs: Sequence[tuple[Thread, Thread]], *, kind: str, labels: Sequence[str], include_posts: bool
) -> dict[str, Statistic]:
    """For each headline key the data scores: the statistic of a resample, from rows computed here once."""
    out: dict[str, Statistic] = {}
    if kind == "components":
        # Micro P/R/F1 only depend on summed counts: a resample is a sum of rows of this matrix.
        counts = np.array([count_thread(g, p).micro for g, p in pairs], dtype=np.int64)  # exact, overlap, gold, pred
        if counts[:, 2].sum() or counts[:, 3].sum():
            out["components/span_exact/micro_f1"] = lambda draw: _micro_f1(counts[draw], 0)
            out["components/span_overlap50/micro_f1"] = lambda draw: _micro_f1(counts[draw], 1)
    elif kind == "stance":
        rows = [stance_pairs(g, p, include_posts=include_posts) for g, p in pairs]
        for level in STANCE_LEVELS:
            if any(row[level] for row in rows):
                out[f"stance/{level}/macro_f1"] = _macro_f1_statistic(rows, level, labels)
    else:
        raise InputError(f"kind must be components or stance, got {kind!r}")
    return out


def _micro_f1(rows: np.ndarray, column: int) -> float:
    total = rows.sum(axis=0)
    return prf(int(total[column]), int(total[2]), int(total[3]))[2]


def _macro_f1_statistic(rows: Sequence[StancePairs], level: str, labels: Sequence[str]) -> Statistic:
    def statistic(draw: np.ndarray) -> float | None:
        items = [pair for i in draw for pair in rows[i][level]]
        if not items:
            return None
        gold = [g for g, _ in items]
        predicted = [p.label if p is not None else None for _, p in items]
        return label_metrics(gold, predicted, labels, "s")["s/macro_f1"]

    return statistic
