"""Put a stance classifier's predictions on threads, and load either kind of stance checkpoint."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from argmine.checkpoint import read_meta
from argmine.stance.inputs import StanceInput, TextPair, stance_examples
from argmine.thread import Post, Stance, Thread

if TYPE_CHECKING:
    from argmine.stance.baseline import SklearnStanceClassifier
    from argmine.stance.ensemble import EnsembleStanceClassifier
    from argmine.stance.pair import PairStanceClassifier
    from argmine.stance.transformer import TransformerStanceClassifier

M = TypeVar("M", bound=Post)
STANCE_KINDS = ("stance", "stance-sklearn", "stance-ensemble", "stance-pair")  # what load_stance_classifier reads


class StanceClassifier(Protocol):
    """What both stance classifiers offer."""

    @property
    def labels(self) -> tuple[str, ...]: ...

    def predict(self, inputs: Sequence[StanceInput | TextPair], *, batch_size: int = ...) -> list[Stance]: ...


def load_stance_classifier(
    folder: str | Path,
) -> TransformerStanceClassifier | SklearnStanceClassifier | EnsembleStanceClassifier | PairStanceClassifier:
    """The classifier saved in ``folder``, by the kind its ``argmine.json`` names."""
    meta = read_meta(folder, kind=STANCE_KINDS)
    if meta.kind == "stance-ensemble":
        from argmine.stance.ensemble import EnsembleStanceClassifier

        return EnsembleStanceClassifier.from_pretrained(folder)
    if meta.kind == "stance-sklearn":
        from argmine.stance.baseline import SklearnStanceClassifier

        return SklearnStanceClassifier.from_pretrained(folder)
    if meta.kind == "stance-pair":
        from argmine.stance.pair import PairStanceClassifier

        return PairStanceClassifier.from_pretrained(folder)
    from argmine.stance.transformer import TransformerStanceClassifier

    return TransformerStanceClassifier.from_pretrained(folder)


def predict_threads(
    classifier: StanceClassifier,
    threads: Iterable[Thread],
    *,
    level: str = "comment",
    include_posts: bool = False,
    batch_size: int = 32,
) -> list[Thread]:
    """Copies of ``threads`` carrying the classifier's stances at ``level`` (and on posts if asked).

    Every stance the input held is removed first, at every level, so a
    returned thread holds predictions only and can never be scored against its
    own gold labels by mistake.
    """
    threads = list(threads)
    examples = stance_examples(threads, level, include_posts=include_posts, labelled_only=False)
    stances = classifier.predict([e.input for e in examples], batch_size=batch_size)
    predicted = {(e.thread_id, e.item_id): s for e, s in zip(examples, stances)}
    out = []
    for thread in threads:
        post = _relabel(thread.post, thread.id, predicted)
        comments = tuple(_relabel(c, thread.id, predicted) for c in thread.comments)
        out.append(replace(thread, post=post, comments=comments))
    return out


def _relabel(message: M, thread_id: str, predicted: dict[tuple[str, str], Stance]) -> M:
    components = tuple(replace(c, stance=predicted.get((thread_id, c.id))) for c in message.components)
    return replace(message, stance=predicted.get((thread_id, message.id)), components=components)
