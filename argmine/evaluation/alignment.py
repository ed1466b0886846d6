"""Gold threads paired with their predictions: the one alignment every score, the bootstrap and the report use.

    align_threads(gold, predicted)   [(gold thread, predicted thread)] by thread id, in gold order
    message_pairs(gold, predicted)   [(gold message, predicted message)] of one thread pair, by message id

Scores are then computed once per pair (a "row") and summed (see ``spans`` and ``stance``), so the
bootstrap over threads re-sums rows instead of re-aligning anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from argmine.errors import InputError
from argmine.thread import Post, Thread


def _by_id(threads: Iterable[Thread], side: str) -> dict[str, Thread]:
    out: dict[str, Thread] = {}
    for thread in threads:
        if thread.id in out:
            raise InputError(f"{side} threads hold thread id {thread.id!r} twice")
        out[thread.id] = thread
    return out


def align_threads(
    gold: Iterable[Thread], predicted: Iterable[Thread], *, extra_predictions: bool = False
) -> list[tuple[Thread, Thread]]:
    """Each gold thread with the predicted thread of the same id, in gold order.

    Both sides must hold the same thread ids; with ``extra_predictions`` predicted threads that are
    not in gold are ignored (stance scoring: a classifier may be run on more threads than are labelled).
    """
    gold_by_id = _by_id(gold, "gold")
    pred_by_id = _by_id(predicted, "predicted")
    if extra_predictions:
        for thread_id in gold_by_id:
            if thread_id not in pred_by_id:
                raise InputError(f"gold thread {thread_id!r} has no predicted thread")
    elif set(gold_by_id) != set(pred_by_id):
        missing = sorted(set(gold_by_id) - set(pred_by_id))
        extra = sorted(set(pred_by_id) - set(gold_by_id))
        raise InputError(f"gold and predicted threads differ: missing {missing[:5]}, unexpected {extra[:5]}")
    return [(thread, pred_by_id[thread_id]) for thread_id, thread in gold_by_id.items()]


def message_pairs(gold: Thread, predicted: Thread, *, exact: bool = True) -> list[tuple[Post, Post]]:
    """Each message of ``gold`` (post first) with the predicted message of the same id.

    Every gold message needs its prediction. ``exact`` (span scores) also requires the same text on
    both sides and no predicted message that gold lacks: offsets are only comparable on one text.
    """
    by_id = {message.id: message for message in predicted.messages()}
    out: list[tuple[Post, Post]] = []
    for message in gold.messages():
        other = by_id.pop(message.id, None)
        if other is None:
            raise InputError(f"thread {gold.id!r}: message {message.id!r} has no prediction")
        if exact and other.text != message.text:
            raise InputError(f"thread {gold.id!r}: message {message.id!r} has another text in the prediction")
        out.append((message, other))
    if exact and by_id:
        raise InputError(f"thread {gold.id!r}: predicted messages not in gold: {sorted(by_id)[:5]}")
    return out

