"""Component segmentation scores: gold against predicted claims / premises.

Every component becomes a tuple ``(thread id, message id, start, end, label)``
and the scores are set operations on those tuples:

    components/span_exact/micro_f1|micro_precision|micro_recall
        a prediction counts only with exact boundaries and the right label
        (the literature's C-F1)
    components/span_exact/<Label>/f1|precision|recall|support
        the same per label; support = gold count
    components/span_overlap50/micro_f1|micro_precision|micro_recall
        same message, same label, and the overlap covers at least half of both
        spans; each gold and each prediction is matched at most once (greedy,
        largest overlap first)
    components/token/macro_f1
        IOB2 tags on the whitespace tokens of each message (``\\S+`` runs), so
        it does not depend on any model's tokenizer; macro-average of the
        per-tag F1 over the tags that occur in gold or prediction (O included)
    components/support/gold, components/support/predicted
        the number of distinct gold / predicted components

A precision or recall with nothing to divide by is 0 (scikit-learn's
``zero_division=0``). Duplicate components (same message, span and label)
count once, as sets do.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from argmine.thread import Component, Thread

PREFIX = "components"
Span = tuple[str, str, int, int, str]  # thread id, message id, start, end, label
Message = tuple[str, str, str]  # thread id, message id, text

_TOKEN = re.compile(r"\S+")


def component_metrics(
    gold_threads: Sequence[Thread], pred_threads: Sequence[Thread], *, labels: Sequence[str] | None = None
) -> dict[str, float]:
    """Scores of predicted threads against gold ones, matched by thread and message id.

    Both sides must hold the same threads and messages with the same texts
    (``ValueError`` otherwise). ``labels`` fixes which per-label keys appear
    (default: every label in gold or prediction).
    """
    gold = {thread.id: thread for thread in gold_threads}
    pred = {thread.id: thread for thread in pred_threads}
    if len(gold) != len(gold_threads) or len(pred) != len(pred_threads):
        raise ValueError("thread ids must be unique on each side")
    if set(gold) != set(pred):
        missing, extra = sorted(set(gold) - set(pred)), sorted(set(pred) - set(gold))
        raise ValueError(f"gold and predicted threads differ: missing {missing[:5]}, unexpected {extra[:5]}")
    messages: list[Message] = []
    gold_components: list[Sequence[Component]] = []
    pred_components: list[Sequence[Component]] = []
    for thread_id, gold_thread in gold.items():
        predicted = {m.id: m for m in pred[thread_id].messages()}
        for message in gold_thread.messages():
            other = predicted.pop(message.id, None)
            if other is None:
                raise ValueError(f"thread {thread_id!r}: message {message.id!r} has no prediction")
            if other.text != message.text:
                raise ValueError(f"thread {thread_id!r}: message {message.id!r} has another text in the prediction")
            messages.append((thread_id, message.id, message.text))
            gold_components.append(message.components)
            pred_components.append(other.components)
        if predicted:
            raise ValueError(f"thread {thread_id!r}: predicted messages not in gold: {sorted(predicted)[:5]}")
    return message_component_metrics(messages, gold_components, pred_components, labels=labels)


def message_component_metrics(
    messages: Sequence[Message],
    gold: Sequence[Sequence[Component]],
    pred: Sequence[Sequence[Component]],
    *,
    labels: Sequence[str] | None = None,
) -> dict[str, float]:
    """The same scores over aligned lists: ``gold[i]`` and ``pred[i]`` are the components of ``messages[i]``.

    ``messages[i]`` is ``(thread id, message id, text)``; the ids only need to
    be unique pairs (training code may use ``("", str(i), text)``).
    """
    if not len(messages) == len(gold) == len(pred):
        raise ValueError(f"{len(messages)} messages, {len(gold)} gold and {len(pred)} predicted component lists")
    if len({(t, m) for t, m, _ in messages}) != len(messages):
        raise ValueError("(thread id, message id) pairs must be unique")
    gold_spans = _spans(messages, gold)
    pred_spans = _spans(messages, pred)
    names = sorted({s[4] for s in gold_spans | pred_spans}) if labels is None else list(labels)

    out: dict[str, float] = {}
    tp = len(gold_spans & pred_spans)
    _put(out, f"{PREFIX}/span_exact/micro", tp, len(gold_spans), len(pred_spans))
    for label in names:
        g = {s for s in gold_spans if s[4] == label}
        p = {s for s in pred_spans if s[4] == label}
        _put(out, f"{PREFIX}/span_exact/{label}", len(g & p), len(g), len(p), sep="/")
        out[f"{PREFIX}/span_exact/{label}/support"] = float(len(g))
    _put(
        out,
        f"{PREFIX}/span_overlap50/micro",
        overlap50_matches(gold_spans, pred_spans),
        len(gold_spans),
        len(pred_spans),
    )

    gold_tags: list[str] = []
    pred_tags: list[str] = []
    for (_, _, text), g, p in zip(messages, gold, pred):
        gold_tags += token_tags(text, g)
        pred_tags += token_tags(text, p)
    out[f"{PREFIX}/token/macro_f1"] = macro_f1(gold_tags, pred_tags)
    out[f"{PREFIX}/support/gold"] = float(len(gold_spans))
    out[f"{PREFIX}/support/predicted"] = float(len(pred_spans))
    return out


def prf(tp: int, n_gold: int, n_pred: int) -> tuple[float, float, float]:
    """Precision, recall, F1 (0 where there is nothing to divide by)."""
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def overlap50_matches(gold: Iterable[Span], pred: Iterable[Span]) -> int:
    """How many gold spans pair with a prediction of the same message and label overlapping ≥ half of both.

    Pairs are taken greedily, largest overlap first (ties: earlier gold, then
    earlier prediction), each span at most once.
    """
    by_key: dict[tuple[str, str, str], list[Span]] = {}
    for span in pred:
        by_key.setdefault((span[0], span[1], span[4]), []).append(span)
    candidates: list[tuple[int, Span, Span]] = []
    for g in gold:
        for p in by_key.get((g[0], g[1], g[4]), ()):
            overlap = min(g[3], p[3]) - max(g[2], p[2])
            if overlap > 0 and 2 * overlap >= g[3] - g[2] and 2 * overlap >= p[3] - p[2]:
                candidates.append((overlap, g, p))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_gold: set[Span] = set()
    used_pred: set[Span] = set()
    for _, g, p in candidates:
        if g not in used_gold and p not in used_pred:
            used_gold.add(g)
            used_pred.add(p)
    return len(used_gold)


def whitespace_tokens(text: str) -> list[tuple[int, int]]:
    """Character spans of the whitespace-separated tokens of a text: the token level of the metrics."""
    return [m.span() for m in _TOKEN.finditer(text)]


def token_tags(text: str, components: Sequence[Component]) -> list[str]:
    """IOB2 tags of the whitespace tokens: ``B-L`` on the first token a component overlaps, ``I-L`` on the rest.

    Components are taken by start (then longest first); a token already in an
    earlier component stays in it, so nested or overlapping gold keeps its
    outer span.
    """
    tokens = whitespace_tokens(text)
    tags = ["O"] * len(tokens)
    for component in sorted(components, key=lambda c: (c.start, -c.end, c.label)):
        first = True
        for i, (start, end) in enumerate(tokens):
            if start < component.end and end > component.start and tags[i] == "O":
                tags[i] = ("B-" if first else "I-") + component.label
                first = False
    return tags


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Mean per-class F1 over the classes present in gold or prediction (0.0 for empty input)."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold tags but {len(pred)} predicted tags")
    classes = sorted(set(gold) | set(pred))
    if not classes:
        return 0.0
    gold_count, pred_count = Counter(gold), Counter(pred)
    hits = Counter(g for g, p in zip(gold, pred) if g == p)
    return sum(prf(hits[c], gold_count[c], pred_count[c])[2] for c in classes) / len(classes)


def _spans(messages: Sequence[Message], components: Sequence[Sequence[Component]]) -> set[Span]:
    return {
        (thread_id, message_id, c.start, c.end, c.label)
        for (thread_id, message_id, _), holder in zip(messages, components)
        for c in holder
    }


def _put(out: dict[str, float], prefix: str, tp: int, n_gold: int, n_pred: int, sep: str = "_") -> None:
    precision, recall, f1 = prf(tp, n_gold, n_pred)
    out[f"{prefix}{sep}precision"] = precision
    out[f"{prefix}{sep}recall"] = recall
    out[f"{prefix}{sep}f1"] = f1
