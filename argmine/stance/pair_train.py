"""Fit the pair classifier's head on several corpora at once, each weighed as much as the others.

    {corpus: [StanceExample]} ──features (each text embedded once)──► X, y, weights ──► LogisticRegression
    one head per C ──choose_head: mean dev macro-F1 over the dev corpora──► the head kept

Why corpus weights: DEBAGREEMENT alone has more items than CMV, RumourEval and
the microtexts together, and each corpus labels a different side of stance
(agreement with a parent, a claim's role toward a thesis, a reply's stance
toward a rumour); with every corpus given the same total weight (``balance``
``corpus`` or ``corpus+class``), none of them decides the head alone.
Within a corpus, ``corpus+class`` also weighs each label by the inverse of its
frequency there, so ``none`` (most of CMV and RumourEval) does not swamp the
rest.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from argmine.errors import InputError
from argmine.evaluation.stance import suite_metrics
from argmine.stance.inputs import StanceExample
from argmine.stance.pair import PairStanceClassifier
from argmine.thread import Stance

log = logging.getLogger(__name__)

BALANCES = ("none", "class", "corpus", "corpus+class")


def example_weights(labels: Sequence[str], corpus_of: Sequence[str], balance: str) -> np.ndarray:
    """One weight per example; the weights sum to the number of examples."""
    if balance not in BALANCES:
        raise InputError(f"unknown balance {balance!r}; expected one of {', '.join(BALANCES)}")
    n = len(labels)
    weights = np.ones(n, dtype=np.float64)
    corpora = Counter(corpus_of)
    if "class" in balance:
        keys = list(zip(corpus_of, labels)) if "corpus" in balance else [("", y) for y in labels]
        per_group = Counter(keys)
        classes_in = Counter(corpus for corpus, _ in per_group)
        for i, key in enumerate(keys):
            size = corpora[key[0]] if "corpus" in balance else n
            weights[i] = size / (classes_in[key[0]] * per_group[key])
    if "corpus" in balance:
        for i, corpus in enumerate(corpus_of):
            weights[i] *= n / (len(corpora) * corpora[corpus])
    return weights * n / weights.sum()


def fit_head(
    x: np.ndarray, y: Sequence[str], labels: Sequence[str], weights: np.ndarray, *, C: float
) -> tuple[np.ndarray, np.ndarray]:
    """(coef, intercept) of a multinomial logistic regression, rows in ``labels`` order."""
    from sklearn.linear_model import LogisticRegression

    unknown = sorted(set(y) - set(labels))
    if unknown:
        raise InputError(f"gold labels {unknown} are not among the classifier's labels {list(labels)}")
    target = np.array([list(labels).index(label) for label in y])
    model = LogisticRegression(C=C, max_iter=3000)
    model.fit(x, target, sample_weight=weights)
    coef = np.zeros((len(labels), x.shape[1]), dtype=np.float32)
    intercept = np.full(len(labels), -1e4, dtype=np.float32)  # a label absent from training is never predicted
    if len(model.classes_) == 2:  # scikit-learn's binary case: one row, for the second class
        coef[model.classes_[1]] = model.coef_[0] / 2
        coef[model.classes_[0]] = -model.coef_[0] / 2
        intercept[model.classes_[1]], intercept[model.classes_[0]] = model.intercept_[0] / 2, -model.intercept_[0] / 2
    else:
        coef[model.classes_] = model.coef_
        intercept[model.classes_] = model.intercept_
    return coef, intercept


def by_corpus(examples: Sequence[StanceExample]) -> dict[str, list[StanceExample]]:
    """``examples`` grouped by ``StanceExample.corpus`` (``data`` where it is unset), in their order."""
    out: dict[str, list[StanceExample]] = {}
    for e in examples:
        out.setdefault(e.corpus or "data", []).append(e)
    return out


def corpus_features(
    classifier: PairStanceClassifier, corpora: Mapping[str, Sequence[StanceExample]], *, batch_size: int = 32
) -> tuple[np.ndarray, list[str], list[str]]:
    """The feature rows of every corpus's examples (all corpora in one pass), their gold and their corpus."""
    examples = [(name, e) for name, items in corpora.items() for e in items]
    x = classifier.features_of([e.input for _, e in examples], batch_size=batch_size)
    return x, [str(e.label) for _, e in examples], [name for name, _ in examples]


def choose_head(
    x: np.ndarray,
    y: Sequence[str],
    labels: Sequence[str],
    weights: np.ndarray,
    c_values: Sequence[float],
    dev: tuple[np.ndarray, Sequence[str], Sequence[str]] | None,
) -> tuple[float, tuple[np.ndarray, np.ndarray], dict[str, float]]:
    """Fit a head per C of ``c_values``; keep the one with the best mean dev macro-F1 (ties: the earlier C).

    ``dev`` is ``corpus_features``' (features, gold, corpus of each) of the dev examples; the mean is
    over its corpora, each scored alone with the labels its gold uses (``suite_metrics``), so a corpus
    with four ``support`` items cannot decide alone. Without ``dev`` the first C is taken.
    Returns (C, (coef, intercept), {C: its mean dev macro-F1}).
    """
    tried: dict[str, float] = {}
    best: tuple[float, float, Any] | None = None
    for c in c_values:
        head = fit_head(x, y, labels, weights, C=c)
        if dev is None:
            return c, head, tried
        x_dev, y_dev, dev_corpus_of = dev
        coef, intercept = head
        predicted = [Stance(labels[j]) for j in (x_dev @ coef.T + intercept).argmax(axis=1)]
        score = suite_metrics(y_dev, predicted, dev_corpus_of, labels)["stance/dev/mean_macro_f1"]
        tried[f"{c:g}"] = score
        log.info("pair stance: C=%g mean dev macro-F1 %.4f", c, score)
        if best is None or score > best[0]:
            best = (score, c, head)
    assert best is not None
    return best[1], best[2], tried


def label_counts(corpora: Mapping[str, Sequence[StanceExample]]) -> dict[str, dict[str, int]]:
    """Each corpus's count of each gold label (what the classifier records as ``train_counts``)."""
    return {name: dict(Counter(str(e.label) for e in items)) for name, items in corpora.items()}


def train_pair_stance(
    classifier: PairStanceClassifier,
    train: Mapping[str, Sequence[StanceExample]],
    *,
    C: float = 1.0,
    balance: str = "corpus+class",
    batch_size: int = 32,
) -> PairStanceClassifier:
    """A classifier with a head fitted on ``train`` (corpus name → labelled examples)."""
    if not any(train.values()):
        raise InputError("no training examples")
    x, y, corpus_of = corpus_features(classifier, train, batch_size=batch_size)
    weights = example_weights(y, corpus_of, balance)
    coef, intercept = fit_head(x, y, classifier.labels, weights, C=C)
    counts = label_counts(train)
    log.info("pair head fitted on %d examples from %s (C %g, balance %s)", len(y), ", ".join(train), C, balance)
    return classifier.with_head(coef, intercept, C=C, balance=balance, train_counts=counts)
