"""Stance toward the post through the reply chain: a reply's agreement with its parent, composed with the parent's stance.

    post ◄─attack── p ◄─attack── c        c disagrees with an attack on the post: c supports the post

A reply to a reply is often about its parent, not the post ("Marcus, I take the point about
ladders, but …"). Read against the post with its parent beside it, the cross-encoder says ``none``
(about 0.9) for nearly every such reply: most replies to replies in its training data (CMV,
RumourEval) take no side on the post. The same classifier also learnt agreement with the message a
reply answers (DEBAGREEMENT and Lei et al. 2022 pair a reply with its parent as the "post"), so for
a comment ``c`` replying to a comment ``p``:

    a = classifier(post=p.text, text=c.text)       c's agreement with p (support = agrees)
    q = p's stance toward the post, composed the same way up the chain (a direct reply: as read)
    chained(support) = a_s·q_s + a_a·q_a     agreeing with a supporter, disagreeing with an attacker
    chained(attack)  = a_s·q_a + a_a·q_s
    chained(none)    = 1 − the two           c neither agrees nor disagrees, or p takes no side
    final = weight · chained + (1 − weight) · direct

Only replies whose agreement is sure enough (``max(a_s, a_a) ≥ min_agreement``) are chained; the
others keep the direct reading. A claim of a reply is chained the same way (its own agreement with
the holder's parent). At full weight a nested item's direct reading is only asked for when its
agreement is unsure (otherwise it would be thrown away): same answers, fewer pairs to read. Direct
replies to the post, and the post itself, are read as before. The shipped default's settings and
what they cost on each dev set: its model card.
"""

from __future__ import annotations

import inspect
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from argmine.errors import CheckpointError, InputError
from argmine.stance.inputs import StanceInput, comment_input, stance_examples
from argmine.thread import Stance, Thread

CHAIN_LABELS = ("support", "attack", "none")


@dataclass(frozen=True)
class ChainSettings:
    """How much the reply chain decides (``weight``), and for which replies (``min_agreement``)."""

    weight: float = 1.0
    min_agreement: float = 0.0

    def __post_init__(self) -> None:
        for name in ("weight", "min_agreement"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"stance_chain.{name} must be a number from 0 to 1, got {value!r}")

    def to_json(self) -> dict[str, float]:
        return {"weight": float(self.weight), "min_agreement": float(self.min_agreement)}

    @classmethod
    def from_json(cls, value: Any, where: str) -> ChainSettings | None:
        """``settings.stance_chain`` of an ``argmine.json`` (absent or null: no chain)."""
        if value is None:
            return None
        if not isinstance(value, Mapping) or set(value) - {"weight", "min_agreement"}:
            raise CheckpointError(f"{where}: settings.stance_chain must be {{weight, min_agreement}}, got {value!r}")
        try:
            return cls(**value)
        except ValueError as error:
            raise CheckpointError(f"{where}: settings.{error}") from None


def chain_for(labels: Sequence[str], chain: ChainSettings | None) -> ChainSettings | None:
    """``chain`` for a classifier with these labels; an ``InputError`` if they are not support / attack / none."""
    if chain is not None and not set(CHAIN_LABELS) <= set(labels):
        raise InputError(f"stance_chain needs the stance labels {', '.join(CHAIN_LABELS)}; "
                         f"this classifier has {', '.join(labels)}")
    return chain


def chained_proba(agreement: np.ndarray, parent: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Rows of P(stance toward the post) from rows of P(agreement with the parent) and the parent's P(stance)."""
    s, a, n = (list(labels).index(x) for x in CHAIN_LABELS)
    out = np.zeros_like(agreement)
    out[:, s] = agreement[:, s] * parent[:, s] + agreement[:, a] * parent[:, a]
    out[:, a] = agreement[:, s] * parent[:, a] + agreement[:, a] * parent[:, s]
    out[:, n] = 1.0 - out[:, s] - out[:, a]
    return out


def stance_proba(classifier: Any, inputs: Sequence[Any], batch_size: int) -> np.ndarray:
    """The classifier's probability rows for ``inputs``; identical inputs (a claim that is its whole comment) run once."""
    labels = classifier.labels
    unique = list(dict.fromkeys(inputs))
    if not unique:
        return np.zeros((0, len(labels)), dtype=np.float32)
    takes_batch = "batch_size" in inspect.signature(classifier.predict_proba).parameters  # scikit-learn's does not
    kwargs = {"batch_size": batch_size} if takes_batch else {}
    rows = np.asarray(classifier.predict_proba(unique, **kwargs))
    index = {item: i for i, item in enumerate(unique)}
    return rows[[index[item] for item in inputs]]


def predict_stances(
    classifier: Any,
    threads: Iterable[Thread],
    *,
    level: str = "comment",
    include_posts: bool = False,
    component_labels: Collection[str] | None = None,
    labelled_only: bool = False,
    chain: ChainSettings | None = None,
    batch_size: int = 32,
) -> dict[tuple[str, str], Stance]:
    """``{(thread id, item id): Stance}`` for every item ``stance_examples`` yields; replies chained when ``chain`` says so.

    Without ``chain`` (or with weight 0) every item is read directly, as ``classifier.predict`` would;
    a chain for a classifier whose labels are not support / attack / none is an ``InputError``.
    ``labelled_only``: only the items with a gold stance (scoring); parents are still read for the chain.
    """
    threads = list(threads)
    labels = list(classifier.labels)
    examples = stance_examples(
        threads, level, include_posts=include_posts, labelled_only=labelled_only, component_labels=component_labels
    )
    asked = {(e.thread_id, e.item_id): e.input for e in examples}
    if chain_for(labels, chain) is None or chain.weight == 0:
        rows = dict(zip(asked, stance_proba(classifier, list(asked.values()), batch_size)))
    else:
        rows = _chained_rows(classifier, threads, asked, chain, labels, batch_size)
    return {key: Stance(labels[int(row.argmax())], float(row.max())) for key, row in rows.items()}


def _chained_rows(
    classifier: Any,
    threads: list[Thread],
    asked: dict[tuple[str, str], StanceInput],
    chain: ChainSettings,
    labels: list[str],
    batch_size: int,
) -> dict[tuple[str, str], np.ndarray]:
    """A row for every item ``asked`` for: replies to replies (and their claims) composed, parents first.

    At full weight a nested item's direct reading only counts where its agreement is unsure, so it
    is read after the agreements and only for those (each reply to a reply read once, not twice).
    """
    # Each nested item's agreement with its holder's parent.
    nested: dict[tuple[str, str], StanceInput] = {}
    for t in threads:
        for c in t.comments:
            if c.reply_to == t.post.id:
                continue
            parent_text = t.message(c.reply_to).text
            for item_id, text in [(c.id, c.text)] + [(k.id, k.text) for k in c.components]:
                if (t.id, item_id) in asked:
                    nested[(t.id, item_id)] = StanceInput(post=parent_text, text=text)
    # A reply's chain starts from its parent's reading: comments not asked for are read too.
    direct_inputs = dict(asked)
    for t in threads:
        for c in t.comments:
            direct_inputs.setdefault((t.id, c.id), comment_input(t, c))
    deferred = set(nested) if chain.weight == 1 else set()
    first = [key for key in direct_inputs if key not in deferred]
    rows = stance_proba(classifier, [direct_inputs[k] for k in first] + list(nested.values()), batch_size)
    direct = dict(zip(first, rows[: len(first)]))
    s, a = labels.index("support"), labels.index("attack")
    agreement = {
        key: row
        for key, row in zip(nested, rows[len(first):])
        if max(row[s], row[a]) >= chain.min_agreement  # unsure whether it agrees: the direct reading stays
    }
    unsure = [key for key in direct_inputs if key in deferred and key not in agreement]
    direct |= dict(zip(unsure, stance_proba(classifier, [direct_inputs[k] for k in unsure], batch_size)))

    def composed(key: tuple[str, str], parent_row: np.ndarray) -> np.ndarray:
        if key not in agreement:
            return direct[key]  # an unsure agreement, or an item not asked for: read directly above
        through_parent = chained_proba(agreement[key][None], parent_row[None], labels)[0]
        if key not in direct:  # full weight: the direct reading was never needed, so never read
            return through_parent
        return chain.weight * through_parent + (1 - chain.weight) * direct[key]

    out = {key: direct[key] for key in asked if key not in nested}
    for t in threads:
        stance_of: dict[str, np.ndarray] = {}  # comment id → its final row; parents come first
        for c in sorted(t.comments, key=t.depth):
            if c.reply_to == t.post.id:
                row = direct[(t.id, c.id)]
            else:
                parent_row = stance_of[c.reply_to]
                row = composed((t.id, c.id), parent_row)
                for k in c.components:
                    if (t.id, k.id) in asked:
                        out[(t.id, k.id)] = composed((t.id, k.id), parent_row)
                if (t.id, c.id) in asked:
                    out[(t.id, c.id)] = row
            stance_of[c.id] = row
    return out
