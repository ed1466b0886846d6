"""Put a stance classifier's predictions on threads, and load any kind of stance checkpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

from argmine.checkpoint import CheckpointMeta, load_checkpoint
from argmine.stance.chain import ChainSettings, predict_stances
from argmine.stance.inputs import StanceInput, TextPair
from argmine.thread import Post, Stance, Thread

if TYPE_CHECKING:
    from argmine.stance.baseline import SklearnStanceClassifier
    from argmine.stance.ensemble import EnsembleStanceClassifier
    from argmine.stance.pair import PairStanceClassifier
    from argmine.stance.transformer import TransformerStanceClassifier

M = TypeVar("M", bound=Post)


class StanceClassifier(Protocol):
    """What every stance classifier offers: labels, predictions, its checkpoint, and a faster form for inference."""

    meta: CheckpointMeta  # what its argmine.json says (training records are added by replacing it)

    @property
    def labels(self) -> tuple[str, ...]: ...

    @property
    def precision(self) -> str: ...

    def predict(self, inputs: Sequence[StanceInput | TextPair], *, batch_size: int = ...) -> list[Stance]: ...

    def predict_proba(self, inputs: Sequence[StanceInput | TextPair], **kwargs: Any) -> np.ndarray:
        """One row per input, columns in ``labels`` order (the reply chain composes these)."""
        ...

    def save_pretrained(self, folder: str | Path, card: str | None = None) -> Path: ...

    def merged(self) -> StanceClassifier:
        """LoRA adapters folded into the weights for inference, in place; returns ``self``."""
        ...

    def to_precision(self, precision: str) -> StanceClassifier:
        """Converted in place to run in ``precision`` (``argmine.precision``); returns ``self``."""
        ...


# The model classes import torch or scikit-learn: each loader imports its own when a checkpoint of its kind loads.
def _transformer(folder: Path, meta: CheckpointMeta) -> TransformerStanceClassifier:
    from argmine.stance.transformer import TransformerStanceClassifier

    return TransformerStanceClassifier.from_meta(folder, meta)


def _sklearn(folder: Path, meta: CheckpointMeta) -> SklearnStanceClassifier:
    from argmine.stance.baseline import SklearnStanceClassifier

    return SklearnStanceClassifier.from_meta(folder, meta)


def _ensemble(folder: Path, meta: CheckpointMeta) -> EnsembleStanceClassifier:
    from argmine.stance.ensemble import EnsembleStanceClassifier

    return EnsembleStanceClassifier.from_meta(folder, meta)


def _pair(folder: Path, meta: CheckpointMeta) -> PairStanceClassifier:
    from argmine.stance.pair import PairStanceClassifier

    return PairStanceClassifier.from_meta(folder, meta)


# Each kind of stance checkpoint and what builds it from (folder, argmine.json read once).
STANCE_LOADERS: dict[str, Callable[[Path, CheckpointMeta], StanceClassifier]] = {
    "stance": _transformer,
    "stance-sklearn": _sklearn,
    "stance-ensemble": _ensemble,
    "stance-pair": _pair,
}
STANCE_KINDS = tuple(STANCE_LOADERS)


def load_stance_classifier(folder: str | Path) -> StanceClassifier:
    """The classifier saved in ``folder``, by the kind its ``argmine.json`` names (read once)."""
    return load_checkpoint(folder, STANCE_LOADERS)


def predict_threads(
    classifier: StanceClassifier,
    threads: Iterable[Thread],
    *,
    level: str = "comment",
    include_posts: bool = False,
    chain: ChainSettings | None = None,
    batch_size: int = 32,
) -> list[Thread]:
    """Copies of ``threads`` carrying the classifier's stances at ``level`` (and on posts if asked).

    ``chain``: replies to replies read through their parent (``argmine.stance.chain``). Every
    stance the input held is removed first, at every level, so a returned thread holds
    predictions only and can never be scored against its own gold labels by mistake.
    """
    threads = list(threads)
    predicted = predict_stances(
        classifier, threads, level=level, include_posts=include_posts, chain=chain, batch_size=batch_size
    )
    out = []
    for thread in threads:
        post = _relabel(thread.post, thread.id, predicted)
        comments = tuple(_relabel(c, thread.id, predicted) for c in thread.comments)
        out.append(replace(thread, post=post, comments=comments))
    return out


def _relabel(message: M, thread_id: str, predicted: dict[tuple[str, str], Stance]) -> M:
    components = tuple(replace(c, stance=predicted.get((thread_id, c.id))) for c in message.components)
    return replace(message, stance=predicted.get((thread_id, message.id)), components=components)
