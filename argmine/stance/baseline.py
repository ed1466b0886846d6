"""A fast scikit-learn stance baseline: TF-IDF n-grams + overlap features → logistic regression.

    StanceInput(post, text, parent)
      ├── text   → word 1–2-gram TF-IDF, character 2–5-gram TF-IDF (within words)
      ├── parent → word 1–2-gram TF-IDF
      └── dense  → cosine(text, post), cosine(text, parent), has parent, is the post itself,
                   log length, has a question mark
    ──► LogisticRegression(class_weight="balanced"): the loss weighs each class by
        the inverse of its frequency, the answer to ``none``/``comment`` dominating.

The regularisation ``C`` can be chosen from a few values by dev macro-F1.

Saved without pickles, in the folder conventions of ``argmine.checkpoint``:

    argmine.json        kind "stance-sklearn", labels, settings (features, C, the dev scores per C)
    features.json       each vectorizer's tokenisation settings and its vocabulary (terms in column order)
    model.safetensors   idf/<vectorizer> vectors, coef (classes × features), intercept
    README.md           model card

The TF-IDF weighting is computed here (not by scikit-learn's fitted
transformer), from the stored vocabulary and idf, so training and a reloaded
model run the very same arithmetic.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from argmine.checkpoint import (
    CheckpointMeta,
    SavedModel,
    card_scores,
    check_loadable,
    json_type,
    read_json_object,
    require_files,
    staged_checkpoint,
)
from argmine.errors import CheckpointError, InputError
from argmine.io_utils import write_json
from argmine.precision import resolve_precision
from argmine.stance.inputs import StanceInput, TextPair, as_input
from argmine.thread import Stance

log = logging.getLogger(__name__)

KIND = "stance-sklearn"
FEATURES_FILE = "features.json"
WEIGHTS_FILE = "model.safetensors"
WORD_PATTERN = r"(?u)\b\w+\b|[?!]"  # single-letter words and ?/! count: "I", "?" carry stance
DENSE_FEATURES = ("post_overlap", "parent_overlap", "has_parent", "is_post", "log_words", "question")
_ANALYZERS = ("word", "char_wb")


@dataclass(frozen=True)
class TfidfFeatures:
    """One TF-IDF block: sublinear tf × smoothed idf, rows L2-normalised, over a fixed vocabulary."""

    field: str  # "text" or "parent": which part of the input it reads
    analyzer: str  # "word" or "char_wb"
    ngram_range: tuple[int, int]
    vocabulary: tuple[str, ...]
    idf: np.ndarray

    def _counter(self, vocabulary: Sequence[str] | None = None, **fit: Any) -> Any:
        from sklearn.feature_extraction.text import CountVectorizer

        pattern = {"token_pattern": WORD_PATTERN} if self.analyzer == "word" else {}
        return CountVectorizer(
            analyzer=self.analyzer,
            ngram_range=self.ngram_range,
            lowercase=True,
            vocabulary=vocabulary,
            **pattern,
            **fit,
        )

    @classmethod
    def fit(
        cls, field: str, analyzer: str, ngram_range: tuple[int, int], texts: Sequence[str], *, max_features: int
    ) -> TfidfFeatures:
        """Vocabulary (terms in at least 2 texts, the ``max_features`` most frequent) and idf from ``texts``."""
        probe = cls(field, analyzer, ngram_range, (), np.zeros(0))
        counter = probe._counter(min_df=2 if len(texts) > 10 else 1, max_features=max_features)
        try:
            counts = counter.fit_transform(texts)
        except ValueError:  # no term survives (tiny or empty data): an empty block
            return cls(field, analyzer, ngram_range, (), np.zeros(0, dtype=np.float32))
        vocabulary = tuple(sorted(counter.vocabulary_, key=counter.vocabulary_.__getitem__))
        df = np.asarray((counts > 0).sum(axis=0)).ravel()
        idf = (np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32)
        return cls(field, analyzer, ngram_range, vocabulary, idf)

    @property
    def name(self) -> str:
        return f"{self.field}_{self.analyzer}"

    @cached_property
    def _fixed_counter(self) -> Any:
        return self._counter(vocabulary=list(self.vocabulary))

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        if not self.vocabulary:
            return sparse.csr_matrix((len(texts), 0), dtype=np.float32)
        counts = self._fixed_counter.transform(texts).astype(np.float32).tocsr()
        counts.data = 1 + np.log(counts.data)
        weighted = counts @ sparse.diags(self.idf)
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        norms[norms == 0] = 1
        return sparse.csr_matrix(sparse.diags(1 / norms) @ weighted, dtype=np.float32)

    def describe(self) -> dict[str, Any]:
        return {"field": self.field, "analyzer": self.analyzer, "ngram_range": list(self.ngram_range)}


def _row_cosine(a: sparse.csr_matrix, b: sparse.csr_matrix) -> np.ndarray:
    """Cosine of matching rows of two L2-normalised matrices."""
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


class SklearnStanceClassifier(SavedModel):
    """TF-IDF + logistic regression; build with ``fit`` or ``from_pretrained``."""

    KIND = KIND

    def __init__(
        self,
        blocks: Sequence[TfidfFeatures],
        coef: np.ndarray,
        intercept: np.ndarray,
        meta: CheckpointMeta,
    ) -> None:
        self.blocks = tuple(blocks)
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.meta = meta

    @property
    def labels(self) -> tuple[str, ...]:
        return self.meta.labels

    # Numpy arithmetic on stored arrays: nothing to merge or convert, so it always runs (and saves) as it is.
    precision = "float32"

    def merged(self) -> SklearnStanceClassifier:
        return self

    def to_precision(self, precision: str) -> SklearnStanceClassifier:
        resolve_precision(precision)  # a bad name is refused as for the other models
        return self

    # -- features ---------------------------------------------------------------

    def features(self, inputs: Sequence[StanceInput | TextPair]) -> sparse.csr_matrix:
        items = [as_input(x) for x in inputs]
        return _features(self.blocks, items)

    # -- training -----------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        inputs: Sequence[StanceInput | TextPair],
        gold: Sequence[str],
        labels: Sequence[str],
        *,
        c_values: Sequence[float] = (1.0,),
        dev_inputs: Sequence[StanceInput | TextPair] = (),
        dev_gold: Sequence[str] = (),
        max_features: int = 50_000,
        seed: int = 0,
    ) -> SklearnStanceClassifier:
        """Fit on ``inputs``/``gold``; with several ``c_values``, keep the one with the best dev macro-F1."""
        from sklearn.linear_model import LogisticRegression

        from argmine.evaluation.stance import label_metrics

        labels = tuple(labels)
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise InputError(f"labels must be at least two distinct strings, got {list(labels)}")
        if len(inputs) != len(gold):
            raise ValueError(f"{len(inputs)} inputs but {len(gold)} labels")
        _check_gold(gold, labels, "training")
        absent = [label for label in labels if label not in set(gold)]
        if absent:
            raise InputError(f"labels {absent} have no training example; drop them from labels or add data")
        if not c_values or any(c <= 0 for c in c_values):
            raise InputError(f"c_values must be positive numbers, got {list(c_values)}")
        if len(c_values) > 1 and not dev_inputs:
            raise InputError("choosing among several c_values needs dev examples")
        _check_gold(dev_gold, labels, "dev")
        items = [as_input(x) for x in inputs]
        blocks = [
            TfidfFeatures.fit("text", "word", (1, 2), [x.text for x in items], max_features=max_features),
            TfidfFeatures.fit("text", "char_wb", (2, 5), [x.text for x in items], max_features=max_features),
            TfidfFeatures.fit(
                "parent", "word", (1, 2), [x.parent or "" for x in items], max_features=max_features // 2
            ),
        ]
        x_train = _features(blocks, items)
        y = np.array([labels.index(g) for g in gold])
        x_dev = _features(blocks, [as_input(x) for x in dev_inputs]) if dev_inputs else None
        best: tuple[float, float, Any] | None = None
        dev_scores: dict[str, float] = {}
        for c in c_values:
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=seed)
            model.fit(x_train, y)
            coef, intercept = model.coef_.astype(np.float32), model.intercept_.astype(np.float32)
            if x_dev is None:
                best = (math.nan, c, (coef, intercept))
                break
            predicted = [labels[j] for j in _probabilities(x_dev, coef, intercept).argmax(axis=1)]
            score = label_metrics(list(dev_gold), predicted, labels, "dev")["dev/macro_f1"]
            dev_scores[repr(float(c))] = score
            log.info("sklearn stance baseline: C=%g dev macro-F1 %.4f", c, score)
            if best is None or score > best[0]:
                best = (score, c, (coef, intercept))
        assert best is not None
        _, chosen, (coef, intercept) = best
        settings = {
            "c": float(chosen),
            "dev_macro_f1_by_c": dev_scores,
            "max_features": max_features,
            "class_weight": "balanced",
            "dense_features": list(DENSE_FEATURES),
        }
        return cls(blocks, coef, intercept, CheckpointMeta(kind=KIND, labels=labels, settings=settings))

    # -- prediction -----------------------------------------------------------------

    def predict_proba(self, inputs: Sequence[StanceInput | TextPair]) -> np.ndarray:
        """Label probabilities, one row per input, columns in ``labels`` order."""
        if not inputs:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return _probabilities(self.features(inputs), self.coef, self.intercept)

    def predict(self, inputs: Sequence[StanceInput | TextPair], *, batch_size: int = 1024) -> list[Stance]:
        """One ``Stance`` per input, in input order, scored with its probability."""
        out: list[Stance] = []
        for start in range(0, len(inputs), batch_size):
            probabilities = self.predict_proba(inputs[start : start + batch_size])
            out += [
                Stance(self.labels[j], float(row[j])) for row, j in zip(probabilities, probabilities.argmax(axis=1))
            ]
        return out

    # -- saving -----------------------------------------------------------------------

    def save_pretrained(self, folder: str | Path, card: str | None = None) -> Path:
        """Write the checkpoint folder atomically (JSON + safetensors, no pickles)."""
        from safetensors.numpy import save_file

        with staged_checkpoint(folder, self.meta, card if card is not None else self.model_card()) as tmp:
            write_json(
                tmp / FEATURES_FILE,
                {
                    "word_pattern": WORD_PATTERN,
                    "dense": list(DENSE_FEATURES),
                    "blocks": [{**b.describe(), "vocabulary": list(b.vocabulary)} for b in self.blocks],
                },
            )
            tensors = {f"idf/{i}": np.ascontiguousarray(b.idf, dtype=np.float32) for i, b in enumerate(self.blocks)}
            tensors["coef"] = np.ascontiguousarray(self.coef)
            tensors["intercept"] = np.ascontiguousarray(self.intercept)
            save_file(tensors, str(tmp / WEIGHTS_FILE))
        return Path(folder)

    @classmethod
    def from_meta(cls, folder: Path, meta: CheckpointMeta) -> SklearnStanceClassifier:
        """The baseline saved in ``folder`` whose ``argmine.json`` is ``meta`` (read by ``from_pretrained``).

        No pickles; the vocabularies, idf vectors and weights must fit each other and be finite.
        """
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        check_loadable(folder)  # pickles (a model.pkl instead of the safetensors) are refused by name
        require_files(folder, [FEATURES_FILE, WEIGHTS_FILE])
        path = folder / FEATURES_FILE
        spec = read_json_object(path)
        try:
            tensors = load_file(str(folder / WEIGHTS_FILE))
        except (SafetensorError, OSError, ValueError) as error:
            raise CheckpointError(f"{folder / WEIGHTS_FILE}: unreadable ({error})") from None
        for name, tensor in sorted(tensors.items()):  # a NaN weight would load and then decide nothing
            if np.issubdtype(tensor.dtype, np.floating) and not np.isfinite(tensor).all():
                bad = "NaN" if np.isnan(tensor).any() else "infinite"
                raise CheckpointError(f"{folder / WEIGHTS_FILE}: tensor {name!r} holds {bad} values; refused")
        if spec.get("word_pattern") != WORD_PATTERN or spec.get("dense") != list(DENSE_FEATURES):
            raise CheckpointError(f"{path}: written with other features than this argmine computes")
        if not isinstance(spec.get("blocks"), (list, type(None))):
            raise CheckpointError(f"{path}: field 'blocks' must be a list, got {json_type(spec['blocks'])}")
        blocks = []
        for i, block in enumerate(spec.get("blocks") or []):
            blocks.append(_block_from_json(block, tensors.get(f"idf/{i}"), f"{path}: blocks[{i}]"))
        if not blocks:
            raise CheckpointError(f"{path}: no feature blocks")
        coef, intercept = tensors.get("coef"), tensors.get("intercept")
        if coef is None or intercept is None:
            raise CheckpointError(f"{folder / WEIGHTS_FILE}: missing coef or intercept")
        width = sum(len(b.vocabulary) for b in blocks) + len(DENSE_FEATURES)
        rows = 1 if len(meta.labels) == 2 else len(meta.labels)
        if coef.shape != (rows, width) or intercept.shape != (rows,):
            raise CheckpointError(
                f"{folder / WEIGHTS_FILE}: coef {tuple(coef.shape)} / intercept {tuple(intercept.shape)} do not fit "
                f"{len(meta.labels)} labels and {width} features"
            )
        return cls(blocks, coef, intercept, meta)

    def model_card(self) -> str:
        meta = self.meta
        lines = [
            "# argmine stance baseline (scikit-learn)",
            "",
            "TF-IDF word and character n-grams of a comment (and its parent) with post/parent overlap features,",
            "logistic regression with balanced class weights. Stored as JSON + safetensors (no pickles).",
            "",
            f"- labels: {', '.join(meta.labels)}",
            f"- C: {meta.settings.get('c')}",
            f"- features: {sum(len(b.vocabulary) for b in self.blocks)} n-grams + {len(DENSE_FEATURES)} dense",
        ]
        lines += card_scores(meta.training.get("metrics") or {})
        lines += ["", f"Written by argmine {meta.argmine_version}.", ""]
        return "\n".join(lines)


def _check_gold(gold: Sequence[str], labels: Sequence[str], what: str) -> None:
    unknown = sorted({g for g in gold if g not in labels})
    if unknown:
        raise InputError(f"{what} labels {unknown} are not among the labels {list(labels)}")


def _features(blocks: Sequence[TfidfFeatures], items: Sequence[StanceInput]) -> sparse.csr_matrix:
    fields: Mapping[str, list[str]] = {
        "text": [x.text for x in items],
        "parent": [x.parent or "" for x in items],
    }
    parts = [b.transform(fields[b.field]) for b in blocks]
    at = next((i for i, b in enumerate(blocks) if b.field == "text" and b.analyzer == "word"), None)
    if at is not None:
        words, text_vectors = blocks[at], parts[at]
        posts = list(dict.fromkeys(x.post for x in items))  # many comments share one post: transform each once
        row_of = {post: i for i, post in enumerate(posts)}
        post_vectors = words.transform(posts)[[row_of[x.post] for x in items]]
        post_overlap = _row_cosine(text_vectors, post_vectors)
        parent_overlap = _row_cosine(text_vectors, words.transform(fields["parent"]))
    else:
        post_overlap = parent_overlap = np.zeros(len(items))
    dense = np.column_stack(
        [
            post_overlap,
            parent_overlap,
            [float(x.parent is not None) for x in items],
            [float(x.text == x.post) for x in items],
            [min(1.0, math.log1p(len(x.text.split())) / math.log(1000)) for x in items],
            [float("?" in x.text) for x in items],
        ]
    ).astype(np.float32)
    return sparse.hstack([*parts, sparse.csr_matrix(dense)], format="csr", dtype=np.float32)


def _probabilities(x: sparse.csr_matrix, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """What ``LogisticRegression.predict_proba`` computes: softmax of the scores, or a sigmoid for two classes."""
    scores = np.asarray(x @ coef.T, dtype=np.float64) + intercept
    if coef.shape[0] == 1:
        positive = 1 / (1 + np.exp(-scores[:, 0]))
        return np.column_stack([1 - positive, positive])
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def _block_from_json(data: Any, idf: np.ndarray | None, where: str) -> TfidfFeatures:
    if not isinstance(data, Mapping):
        raise CheckpointError(f"{where}: expected an object")
    field, analyzer, ngrams, vocabulary = (data.get(k) for k in ("field", "analyzer", "ngram_range", "vocabulary"))
    if field not in ("text", "parent") or analyzer not in _ANALYZERS:
        raise CheckpointError(f"{where}: unknown field {field!r} or analyzer {analyzer!r}")
    if not (isinstance(ngrams, list) and len(ngrams) == 2 and all(isinstance(n, int) and n > 0 for n in ngrams)):
        raise CheckpointError(f"{where}.ngram_range: expected two positive integers, got {ngrams!r}")
    if not isinstance(vocabulary, list) or not all(isinstance(t, str) for t in vocabulary):
        raise CheckpointError(f"{where}.vocabulary: expected a list of strings")
    if len(set(vocabulary)) != len(vocabulary):
        raise CheckpointError(f"{where}.vocabulary: repeated terms")
    if idf is None or idf.shape != (len(vocabulary),):
        shape = None if idf is None else tuple(idf.shape)
        raise CheckpointError(f"{where}: idf vector {shape} does not match a vocabulary of {len(vocabulary)} terms")
    return TfidfFeatures(field, analyzer, (ngrams[0], ngrams[1]), tuple(vocabulary), idf.astype(np.float32))
