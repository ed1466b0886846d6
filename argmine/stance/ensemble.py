"""The cross-encoder and the n-gram baseline as one stance classifier: a weighted log-linear pool.

    StanceInput ──► transformer ──► p_t ┐
                └─► sklearn     ──► p_s ┴──► p ∝ p_t^w · p_s^(1−w) ──► argmax ──► Stance

Why two: on RumourEval the cross-encoder is the better judge of support, query
and comment, while the baseline's character n-grams catch the words of a
denial ("stop spreading lies") that adapters on a frozen encoder barely learn
(see ``models/rumoureval2019-stance-minilm/README.md``). Pooling the
log-probabilities lets each model speak where it is confident.

A label the cross-encoder has not learnt (it gives it a small probability
everywhere) would still be vetoed by it in the pool, the more so the larger
``w``: labels listed in ``sklearn_only`` take the baseline's log-probability
alone, and the cross-encoder abstains on them.

The weight ``w`` is chosen on a held-out part of the *training* threads
(``split_holdout``), never on dev: the two members are first trained on the
rest, ``w`` is the grid value with the best held-out macro-F1, then (by
default) both members are trained again on all training threads and pooled
with that ``w``. Dev stays an honest estimate.

Checkpoint folder (see ``argmine.checkpoint``):

    argmine.json    kind "stance-ensemble", labels, settings {weight, sklearn_only, holdout scores per weight, ...}
    transformer/    a "stance" checkpoint (the cross-encoder)
    sklearn/        a "stance-sklearn" checkpoint (the baseline)
    README.md       model card
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from argmine.checkpoint import META_FILE, CheckpointMeta, SavedModel, card_scores, staged_checkpoint
from argmine.errors import CheckpointError, InputError
from argmine.stance.inputs import StanceInput, TextPair
from argmine.thread import Stance

if TYPE_CHECKING:
    from argmine.stance.baseline import SklearnStanceClassifier
    from argmine.stance.transformer import TransformerStanceClassifier

KIND = "stance-ensemble"
MEMBERS = ("transformer", "sklearn")  # subfolder names; the weight w belongs to the first
_FLOOR = 1e-12  # probabilities are clipped here before the log: a hard 0 from one member would veto a label

T = TypeVar("T")


def _draw(thread_id: str, seed: int) -> float:
    """A number in [0, 1) from a hash of (seed, id): the split does not depend on the reading order."""
    digest = hashlib.sha256(f"{seed}:{thread_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_holdout(items: Sequence[T], thread_of: Any, fraction: float, seed: int) -> tuple[list[T], list[T]]:
    """``items`` into (kept, held out) by their thread (``thread_of(item)``): a thread never spans both.

    A thread is held out when its draw is below ``fraction``; with few threads
    the draws may put all on one side, so each side gets at least one thread
    (the lowest draw is held out, the highest kept).
    """
    if not 0 < fraction < 1:
        raise InputError(f"the held-out fraction must lie strictly between 0 and 1, got {fraction}")
    draws = {thread: _draw(thread, seed) for thread in {thread_of(item) for item in items}}
    if len(draws) < 2:
        raise InputError(f"holding out whole threads needs at least two threads, got {len(draws)}")
    held_threads = {thread for thread, draw in draws.items() if draw < fraction}
    held_threads.add(min(draws, key=draws.__getitem__))
    held_threads.discard(max(draws, key=draws.__getitem__))
    kept, held = [], []
    for item in items:
        (held if thread_of(item) in held_threads else kept).append(item)
    return kept, held


def label_columns(labels: Sequence[str], sklearn_only: Sequence[str]) -> list[int]:
    """The columns of the ``sklearn_only`` labels in ``labels`` order; a label not among them is a ValueError."""
    unknown = [label for label in sklearn_only if label not in labels]
    if unknown:
        raise InputError(f"sklearn_only names {unknown}, not among the labels {list(labels)}")
    return [list(labels).index(label) for label in sklearn_only]


def pool(
    p_transformer: np.ndarray, p_sklearn: np.ndarray, weight: float, sklearn_only: Sequence[int] = ()
) -> np.ndarray:
    """Row-normalised ``p_transformer^weight · p_sklearn^(1 − weight)``; the columns ``sklearn_only`` take
    ``p_sklearn`` alone (the transformer abstains on them)."""
    if p_transformer.shape != p_sklearn.shape:
        raise ValueError(f"member probabilities differ in shape: {p_transformer.shape} vs {p_sklearn.shape}")
    log_t, log_s = np.log(np.clip(p_transformer, _FLOOR, 1)), np.log(np.clip(p_sklearn, _FLOOR, 1))
    logits = weight * log_t + (1 - weight) * log_s
    logits[:, list(sklearn_only)] = log_s[:, list(sklearn_only)]
    logits -= logits.max(axis=1, keepdims=True)
    pooled = np.exp(logits)
    return pooled / pooled.sum(axis=1, keepdims=True)


def choose_weight(
    p_transformer: np.ndarray,
    p_sklearn: np.ndarray,
    gold: Sequence[str],
    labels: Sequence[str],
    grid: Sequence[float],
    sklearn_only: Sequence[int] = (),
) -> tuple[float, dict[str, float]]:
    """The grid weight whose pool scores the best macro-F1 on ``gold`` (the first wins ties), and every score."""
    from argmine.evaluation.stance import label_metrics

    if not grid or any(not 0 <= w <= 1 for w in grid):
        raise InputError(f"the weight grid must be values in [0, 1], got {list(grid)}")
    scores: dict[str, float] = {}
    best: tuple[float, float] | None = None
    for weight in grid:
        predicted = [labels[j] for j in pool(p_transformer, p_sklearn, weight, sklearn_only).argmax(axis=1)]
        score = label_metrics(list(gold), predicted, labels, "holdout")["holdout/macro_f1"]
        scores[f"{float(weight):g}"] = score
        if best is None or score > best[0]:
            best = (score, float(weight))
    assert best is not None
    return best[1], scores


class EnsembleStanceClassifier(SavedModel):
    """A transformer and a scikit-learn stance classifier pooled with weight ``weight`` on the transformer,
    except on the labels ``sklearn_only``, which the baseline alone decides."""

    KIND = KIND

    def __init__(
        self,
        transformer: TransformerStanceClassifier,
        sklearn: SklearnStanceClassifier,
        weight: float,
        meta: CheckpointMeta,
        sklearn_only: Sequence[str] = (),
    ) -> None:
        if tuple(transformer.labels) != tuple(sklearn.labels):
            raise ValueError(
                f"the members' labels differ: transformer {list(transformer.labels)}, sklearn {list(sklearn.labels)}"
            )
        if not 0 <= weight <= 1:
            raise InputError(f"the pooling weight must lie in [0, 1], got {weight}")
        self.sklearn_only_columns = label_columns(transformer.labels, sklearn_only)
        self.transformer, self.sklearn, self.weight, self.meta = transformer, sklearn, float(weight), meta
        self.sklearn_only = tuple(sklearn_only)

    @classmethod
    def join(
        cls,
        transformer: TransformerStanceClassifier,
        sklearn: SklearnStanceClassifier,
        weight: float,
        *,
        sklearn_only: Sequence[str] = (),
        settings: dict[str, Any] | None = None,
        training: dict[str, Any] | None = None,
    ) -> EnsembleStanceClassifier:
        """Pool two trained classifiers; ``settings`` adds to the recorded weight (e.g. the held-out scores)."""
        meta = CheckpointMeta(
            kind=KIND,
            labels=tuple(transformer.labels),
            base_encoder=transformer.meta.base_encoder,
            base_sha256=transformer.meta.base_sha256,
            finetune=transformer.meta.finetune,
            settings={
                "weight": float(weight),
                "sklearn_only": list(sklearn_only),
                "members": list(MEMBERS),
                **(settings or {}),
            },
            training=dict(training or {}),
        )
        return cls(transformer, sklearn, weight, meta, sklearn_only)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.meta.labels

    def predict_proba(self, inputs: Sequence[StanceInput | TextPair], *, batch_size: int = 32) -> np.ndarray:
        """Pooled label probabilities, one row per input, columns in ``labels`` order."""
        if not inputs:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        p_transformer = self.transformer.predict_proba(inputs, batch_size=batch_size)
        return pool(p_transformer, self.sklearn.predict_proba(inputs), self.weight, self.sklearn_only_columns)

    def predict(self, inputs: Sequence[StanceInput | TextPair], *, batch_size: int = 32) -> list[Stance]:
        """One ``Stance`` per input, in input order, scored with its pooled probability."""
        probabilities = self.predict_proba(inputs, batch_size=batch_size)
        return [Stance(self.labels[j], float(row[j])) for row, j in zip(probabilities, probabilities.argmax(axis=1))]

    @property
    def precision(self) -> str:
        return self.transformer.precision

    def merged(self) -> EnsembleStanceClassifier:
        """This ensemble with the transformer's LoRA adapters folded into its weights, in place; returns ``self``."""
        self.transformer.merged()
        return self

    def to_precision(self, precision: str) -> EnsembleStanceClassifier:
        """Run the transformer in ``precision`` from now on (the baseline has nothing to convert); returns ``self``."""
        self.transformer.to_precision(precision)
        return self

    def save_pretrained(self, folder: str | Path, card: str | None = None) -> Path:
        """Write the folder atomically: ``argmine.json``, both members' checkpoints, the card."""
        with staged_checkpoint(folder, self.meta, card if card is not None else self.model_card()) as tmp:
            self.transformer.save_pretrained(tmp / "transformer")
            self.sklearn.save_pretrained(tmp / "sklearn")
        return Path(folder)

    @classmethod
    def from_meta(cls, folder: Path, meta: CheckpointMeta) -> EnsembleStanceClassifier:
        """The ensemble saved in ``folder`` whose ``argmine.json`` is ``meta`` (read by ``from_pretrained``).

        Checks the weight and the baseline-only labels, then loads both members, whose labels must be its own.
        """
        from argmine.stance.baseline import SklearnStanceClassifier
        from argmine.stance.transformer import TransformerStanceClassifier

        where = folder / META_FILE
        weight = meta.settings.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
            raise CheckpointError(f"{where}: settings.weight must be a number in [0, 1], got {weight!r}")
        sklearn_only = meta.settings.get("sklearn_only", [])  # folders written before it have none
        if not isinstance(sklearn_only, list) or any(label not in meta.labels for label in sklearn_only):
            raise CheckpointError(
                f"{where}: settings.sklearn_only must be a list of the labels {list(meta.labels)}, got {sklearn_only!r}"
            )
        for sub in MEMBERS:
            if not (folder / sub).is_dir():
                raise CheckpointError(f"{folder}: incomplete ensemble checkpoint, missing the folder {sub}/")
        transformer = TransformerStanceClassifier.from_pretrained(folder / "transformer")
        sklearn = SklearnStanceClassifier.from_pretrained(folder / "sklearn")
        for sub, member in zip(MEMBERS, (transformer, sklearn)):
            if tuple(member.labels) != meta.labels:
                raise CheckpointError(
                    f"{where}: labels {list(meta.labels)} differ from those of {folder / sub} ({list(member.labels)})"
                )
        return cls(transformer, sklearn, float(weight), meta, sklearn_only)

    def model_card(self) -> str:
        meta = self.meta
        settings = meta.settings
        lines = [
            "# argmine stance classifier: cross-encoder + n-gram baseline",
            "",
            "The label probabilities of a fine-tuned transformer cross-encoder (`transformer/`) and of a",
            "TF-IDF + logistic regression baseline (`sklearn/`) pooled log-linearly:",
            f"p ∝ p_transformer^{self.weight:g} · p_sklearn^{1 - self.weight:g}.",
            "The weight was chosen on a held-out part of the training threads, not on dev.",
            "",
            f"- labels: {', '.join(meta.labels)}",
            f"- weight on the transformer: {self.weight:g}",
        ]
        if self.sklearn_only:
            lines.append(
                f"- labels the baseline alone decides (the transformer abstains): {', '.join(self.sklearn_only)}"
            )
        if settings.get("holdout_fraction") is not None:
            lines.append(
                f"- held-out fraction of the training threads: {settings['holdout_fraction']} "
                f"(seed {settings.get('holdout_seed')}; {settings.get('holdout_examples')} examples)"
            )
        lines += card_scores(meta.training.get("metrics") or {})
        lines += ["", f"Written by argmine {meta.argmine_version}.", ""]
        return "\n".join(lines)
