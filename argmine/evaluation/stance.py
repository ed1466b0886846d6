"""Stance scores: gold threads against predicted ones, per comment, per component, per message.

Pure functions over ``Thread`` objects, no model involved. For each level the
keys are ``stance/<level>/...``:

    n, accuracy, macro_f1            macro-F1 is the mean of the per-label F1 over *all* given labels
    <label>/precision|recall|f1|support
    confusion                        {"labels": [...], "matrix": rows = gold, columns = predicted}
    ece, reliability                 calibration of the predicted label's score (see ``calibration``), when
                                     every prediction of the level carries a score

A precision or recall with nothing to divide by is 0 (as scikit-learn's
``zero_division=0``), so a label never predicted scores F1 0 and pulls the
macro average down rather than dropping out of it.

Levels:

* ``comments``: every reply comment with a gold stance, matched by id;
* ``messages`` (``include_posts=True``): the same plus each post with a gold
  stance. This is RumourEval's official task-A score: macro-F1 over the four
  classes over every post in the key, source posts included;
* ``components``: every reply component with a gold stance, matched to the
  predicted component with the same holder and span. A gold component the
  prediction lacks (a segmentation miss) counts as wrong for its gold label
  and is reported in ``missing``, not in the confusion matrix; predicted
  components that are not gold are ignored here (the segmenter's metrics count them).

A level is scored only when the gold threads have stances there.

Rows, then sums (pytorch-ie's update / compute): ``stance_pairs`` lists one thread's scored
(gold, predicted) items per level, ``stance_scores`` scores the items of any set of rows, so the
bootstrap over threads re-scores resampled rows without re-aligning them.

Calibration: a model that says 0.8 should be right about 80% of the time.
``calibration`` puts each predicted item in one of ``CALIBRATION_BINS``
equal-width bins of its confidence (the score of the label it predicted;
bin ``i`` holds ``[i/B, (i+1)/B)``, the last one also 1.0) and reports the
expected calibration error (Guo et al. 2017), the item-weighted mean gap
between accuracy and mean confidence, ``sum_b n_b / N * |acc_b - conf_b|``,
and the reliability table it is computed from. Items with no prediction (a
missed component) have no confidence and are left out of both.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from argmine.errors import InputError
from argmine.evaluation.alignment import align_threads
from argmine.thread import Post, Stance, Thread

log = logging.getLogger(__name__)

# Ten equal-width bins: the usual choice (Guo et al. 2017); a dev set of a few hundred items fills most of them.
CALIBRATION_BINS = 10


def label_metrics(
    gold: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str], prefix: str
) -> dict[str, Any]:
    """Accuracy, per-label and macro scores, confusion, for aligned label lists.

    ``predicted[i]`` may be ``None`` (no prediction for that item): wrong for
    its gold label, counted in ``<prefix>/missing``.
    """
    labels = list(labels)
    if len(set(labels)) != len(labels) or not labels:
        raise InputError(f"labels must be a non-empty list without repeats, got {labels}")
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    index = {label: i for i, label in enumerate(labels)}
    for name, values in (("gold", gold), ("predicted", predicted)):
        unknown = sorted({v for v in values if v is not None and v not in index})
        if unknown:
            raise InputError(f"{prefix}: {name} labels {unknown} are not among the labels {labels}")
    matrix = [[0] * len(labels) for _ in labels]
    missing = 0
    for g, p in zip(gold, predicted):
        if p is None:
            missing += 1
        else:
            matrix[index[g]][index[p]] += 1
    n = len(gold)
    out: dict[str, Any] = {f"{prefix}/n": n}
    f1s = []
    for i, label in enumerate(labels):
        tp = matrix[i][i]
        predicted_as = sum(row[i] for row in matrix)
        support = sum(1 for g in gold if g == label)  # includes items with no prediction
        precision = tp / predicted_as if predicted_as else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        out[f"{prefix}/{label}/precision"] = precision
        out[f"{prefix}/{label}/recall"] = recall
        out[f"{prefix}/{label}/f1"] = f1
        out[f"{prefix}/{label}/support"] = support
    out[f"{prefix}/accuracy"] = sum(matrix[i][i] for i in range(len(labels))) / n if n else 0.0
    out[f"{prefix}/macro_f1"] = sum(f1s) / len(f1s)
    out[f"{prefix}/missing"] = missing
    out[f"{prefix}/confusion"] = {"labels": labels, "matrix": matrix}
    return out


def calibration(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = CALIBRATION_BINS
) -> tuple[float, list[dict[str, Any]]]:
    """Expected calibration error and the reliability table, over ``bins`` equal-width confidence bins.

    ``confidences[i]`` is the score of the label predicted for item ``i`` (in
    [0, 1]), ``correct[i]`` whether that label is the gold one. Each table row
    is a bin: ``low``, ``high``, ``count`` and, for a non-empty bin, the mean
    ``confidence`` and the ``accuracy`` of its items (``None`` when empty).
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    if len(confidences) != len(correct):
        raise ValueError(f"{len(confidences)} confidences but {len(correct)} correctness values")
    if not confidences:
        raise ValueError("no predictions to measure calibration on")
    counts, confidence_sums, right = [0] * bins, [0.0] * bins, [0] * bins
    for score, ok in zip(confidences, correct):
        if not 0.0 <= score <= 1.0:  # also refuses NaN
            raise ValueError(f"a confidence must lie in [0, 1], got {score}")
        b = min(int(score * bins), bins - 1)  # 1.0 goes in the last bin
        counts[b] += 1
        confidence_sums[b] += score
        right[b] += bool(ok)
    total = len(confidences)
    ece = 0.0
    table = []
    for b in range(bins):
        n = counts[b]
        confidence = confidence_sums[b] / n if n else None
        accuracy = right[b] / n if n else None
        if n:
            ece += n / total * abs(accuracy - confidence)  # type: ignore[operator]
        table.append({"low": b / bins, "high": (b + 1) / bins, "count": n, "confidence": confidence,
                      "accuracy": accuracy})
    return ece, table


def _calibration_metrics(
    gold: Sequence[str], predicted: Sequence[Stance | None], prefix: str
) -> dict[str, Any]:
    """``<prefix>/ece`` and ``<prefix>/reliability`` over the predicted items; nothing when a score is missing."""
    pairs = [(g, p) for g, p in zip(gold, predicted) if p is not None]
    if not pairs:
        return {}
    if any(p.score is None for _, p in pairs):
        log.info("%s: some predicted stances carry no score, so no calibration is reported", prefix)
        return {}
    ece, table = calibration([p.score for _, p in pairs], [p.label == g for g, p in pairs])  # type: ignore[misc]
    return {f"{prefix}/ece": ece, f"{prefix}/reliability": {"bins": table}}


# (gold label, predicted stance or None) of each scored item, per level: one thread's row.
StancePairs = dict[str, list[tuple[str, "Stance | None"]]]
LEVELS = ("comments", "messages", "components")


def _predicted_stance(pred: Post, thread_id: str, where: str) -> Stance:
    if pred.stance is None:
        raise ValueError(f"thread {thread_id!r}: predicted {where} {pred.id!r} has no stance")
    return pred.stance


def stance_pairs(gold: Thread, pred: Thread, *, include_posts: bool = False) -> StancePairs:
    """The scored items of one aligned thread pair, per level (the rules of the module docstring).

    Every labelled gold comment must have its prediction (an ``InputError`` names it), since the
    classifier reads the gold comments.
    """
    levels: StancePairs = {level: [] for level in LEVELS}
    pred_comments = {c.id: c for c in pred.comments}
    if include_posts and gold.post.stance is not None:
        levels["messages"].append((gold.post.stance.label, _predicted_stance(pred.post, gold.id, "post")))
    for comment in gold.comments:
        if comment.stance is not None:
            if comment.id not in pred_comments:
                raise InputError(f"thread {gold.id!r}: gold comment {comment.id!r} is not in the prediction")
            stance = _predicted_stance(pred_comments[comment.id], gold.id, "comment")
            for level in ("comments", "messages") if include_posts else ("comments",):
                levels[level].append((comment.stance.label, stance))
        labelled = [c for c in comment.components if c.stance is not None]
        if labelled:
            holder = pred_comments.get(comment.id)
            spans = {c.span: c for c in holder.components} if holder is not None else {}
            for component in labelled:
                match = spans.get(component.span)
                levels["components"].append((component.stance.label, match.stance if match else None))  # type: ignore[union-attr]
    return levels


def stance_scores(rows: Iterable[StancePairs], labels: Sequence[str]) -> dict[str, Any]:
    """The ``stance/<level>/...`` keys of the items of ``rows`` put together; a level without items is left out."""
    rows = list(rows)
    out: dict[str, Any] = {}
    for level in LEVELS:
        items = [pair for row in rows for pair in row[level]]
        if items:
            gold_labels = [g for g, _ in items]
            predicted = [p for _, p in items]
            names = [p.label if p is not None else None for p in predicted]
            out.update(label_metrics(gold_labels, names, labels, f"stance/{level}"))
            out.update(_calibration_metrics(gold_labels, predicted, f"stance/{level}"))
    return out


def stance_metrics(
    gold_threads: Iterable[Thread],
    pred_threads: Iterable[Thread],
    labels: Sequence[str],
    *,
    include_posts: bool = False,
) -> dict[str, Any]:
    """Score predicted stances against gold ones (see the module docstring for the keys and rules).

    Threads are matched by id (predicted threads not in gold are ignored), comments by id; every gold
    thread and labelled comment must have its prediction (an ``InputError`` names the first one
    missing), since the classifier reads the gold comments.
    """
    pairs = align_threads(gold_threads, pred_threads, extra_predictions=True)
    out = stance_scores((stance_pairs(g, p, include_posts=include_posts) for g, p in pairs), labels)
    if not out:
        raise InputError("the gold threads carry no stance labels to score")
    return out


def suite_metrics(
    gold: Sequence[str],
    predicted: Sequence[Stance],
    corpus_of: Sequence[str],
    labels: Sequence[str],
    prefix: str = "stance/dev",
) -> dict[str, Any]:
    """``<prefix>/<corpus>/...`` for each corpus of a mixed evaluation, and ``<prefix>/mean_macro_f1``.

    Model selection over several dev sets: one small set (CMV dev has 4 ``support`` items) cannot
    decide alone. A corpus's macro-F1 averages the F1 of the labels *its gold uses*: AAE claims are
    never ``none``, so ``none`` is not one of its classes (predicting it is still wrong: it lowers
    the recall of the others). Each corpus also gets ``unpredicted``, the gold labels never
    predicted there, ``constant`` (one label predicted for every item), and its calibration.
    """
    out: dict[str, Any] = {}
    scores = []
    for corpus in dict.fromkeys(corpus_of):
        keep = [i for i, c in enumerate(corpus_of) if c == corpus]
        gold_here = [gold[i] for i in keep]
        said = [predicted[i] for i in keep]
        where = f"{prefix}/{corpus}"
        out |= label_metrics(gold_here, [p.label for p in said], labels, where)
        used = [label for label in labels if label in set(gold_here)]
        out[f"{where}/macro_f1"] = sum(out[f"{where}/{label}/f1"] for label in used) / len(used)
        out[f"{where}/macro_f1_labels"] = used
        out[f"{where}/unpredicted"] = [label for label in used if label not in {p.label for p in said}]
        out[f"{where}/constant"] = len({p.label for p in said}) == 1 and len(said) > 1
        out |= _calibration_metrics(gold_here, said, where)
        scores.append(out[f"{where}/macro_f1"])
    out[f"{prefix}/mean_macro_f1"] = sum(scores) / len(scores) if scores else float("nan")
    return out
