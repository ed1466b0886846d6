"""What a stance trainer optimises and selects by: loss weights per label, gold labels checked against the
label set, and the dev metrics an epoch (or a C, or a pooling weight) is chosen on.

The weighting modes are described in ``argmine.stance.train``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from argmine.errors import InputError
from argmine.evaluation.stance import label_metrics
from argmine.settings import CLASS_WEIGHTINGS
from argmine.stance.inputs import StanceExample

SELECT_METRIC = "stance/dev/macro_f1"
SELECT_METRIC_SUITE = "stance/dev/mean_macro_f1"  # dev examples from several corpora


def class_weights(gold: Sequence[str], labels: Sequence[str], mode: str) -> list[float]:
    """Loss weight of each label (in ``labels`` order) for ``mode`` balanced / sqrt / none (corpus+class: all 1)."""
    if mode not in CLASS_WEIGHTINGS:
        raise InputError(f"class_weighting must be one of {', '.join(CLASS_WEIGHTINGS)}, got {mode!r}")
    counts = Counter(gold)
    absent = [label for label in labels if counts[label] == 0]
    if absent:
        raise InputError(f"labels {absent} have no training example; drop them from labels or add data")
    if mode in ("none", "corpus+class", "reply+class"):  # these weigh each example instead
        return [1.0] * len(labels)
    weights = [len(gold) / (len(labels) * counts[label]) for label in labels]
    return [math.sqrt(w) for w in weights] if mode == "sqrt" else weights


def reply_class_weights(gold: Sequence[str], nested: Sequence[bool]) -> list[float]:
    """``reply+class``: each example's weight, class-balanced within direct replies and within replies to replies.

    Why: in CMV and RumourEval nine in ten replies to replies are ``none`` toward the post, so a model
    trained on them learns "a parent in the pair means none" and says ``none`` to every nested reply
    of our own threads. Here each label weighs the same within each group; each group keeps its share
    of the examples, and the weights have mean 1.
    """
    groups = Counter(nested)
    per_key = Counter(zip(nested, gold))
    labels_in = Counter(group for group, _ in per_key)
    weights = [groups[g] / (labels_in[g] * per_key[(g, y)]) for g, y in zip(nested, gold)]
    scale = len(weights) / sum(weights) if weights else 1.0
    return [w * scale for w in weights]


def gold_labels(examples: Sequence[StanceExample], labels: Sequence[str], what: str) -> list[str]:
    gold = []
    for example in examples:
        if example.label is None:
            raise InputError(f"{what} example {example.thread_id}/{example.item_id} has no gold label")
        if example.label not in labels:
            raise InputError(
                f"{what} example {example.thread_id}/{example.item_id} has label {example.label!r}, "
                f"not among the labels {list(labels)} (map it in the data config)"
            )
        gold.append(example.label)
    return gold


def dev_metrics(examples: Sequence[StanceExample], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """``stance/dev/...`` over all examples, and ``stance/dev/<level>s/...`` when they mix levels."""
    gold = [e.label or "" for e in examples]
    out = label_metrics(gold, list(predicted), labels, "stance/dev")
    levels = sorted({e.level for e in examples})
    if len(levels) > 1:
        for level in levels:
            keep = [i for i, e in enumerate(examples) if e.level == level]
            out.update(
                label_metrics([gold[i] for i in keep], [predicted[i] for i in keep], labels, f"stance/dev/{level}s")
            )
    return out


def scalar_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
