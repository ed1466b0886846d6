"""Fit the pair classifier's head on several corpora at once, each weighed as much as the others.

    {corpus: [StanceExample]} ──features (each text embedded once)──► X, y, weights ──► LogisticRegression

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

import numpy as np

from argmine.stance.inputs import StanceExample
from argmine.stance.pair import PairStanceClassifier

log = logging.getLogger(__name__)

BALANCES = ("none", "class", "corpus", "corpus+class")


def example_weights(labels: Sequence[str], corpus_of: Sequence[str], balance: str) -> np.ndarray:
    """One weight per example; the weights sum to the number of examples."""
    if balance not in BALANCES:
        raise ValueError(f"unknown balance {balance!r}; expected one of {', '.join(BALANCES)}")
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
        raise ValueError(f"gold labels {unknown} are not among the classifier's labels {list(labels)}")
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


def corpus_features(
    classifier: PairStanceClassifier, corpora: Mapping[str, Sequence[StanceExample]], *, batch_size: int = 32
) -> tuple[np.ndarray, list[str], list[str]]:
    """The feature rows of every corpus's examples (all corpora in one pass), their gold and their corpus."""
    examples = [(name, e) for name, items in corpora.items() for e in items]
    x = classifier.features_of([e.input for _, e in examples], batch_size=batch_size)
    return x, [str(e.label) for _, e in examples], [name for name, _ in examples]


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
        raise ValueError("no training examples")
    x, y, corpus_of = corpus_features(classifier, train, batch_size=batch_size)
    weights = example_weights(y, corpus_of, balance)
    coef, intercept = fit_head(x, y, classifier.labels, weights, C=C)
    counts = {name: dict(Counter(str(e.label) for e in items)) for name, items in train.items()}
    log.info("pair head fitted on %d examples from %s (C %g, balance %s)", len(y), ", ".join(train), C, balance)
    return classifier.with_head(coef, intercept, C=C, balance=balance, train_counts=counts)
