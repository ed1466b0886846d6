"""Component segmentation scores: gold against predicted claims / premises.

Every component becomes a tuple ``(thread id, message id, start, end, label)``
and the scores are set operations on those tuples:

    components/span_exact/micro_f1|micro_precision|micro_recall
        a prediction counts only with exact boundaries and the right label
        (the literature's C-F1)
    components/span_exact/<Label>/f1|precision|recall|support
        the same per label; support = gold count
    components/span_exact/macro_f1, components/span_overlap50/macro_f1
        the mean of the per-label F1 (a label never predicted scores 0): what a
        segmenter's best epoch is picked by, so an epoch that drops one label loses
    components/span_overlap50/micro_f1|micro_precision|micro_recall
        same message, same label, and the overlap covers at least half of both
        spans; each gold and each prediction is matched at most once (greedy,
        largest overlap first)
    components/span_overlap50/<Label>/f1|precision|recall
        the same per label (a match has one label, so the labels' matches sum to the micro count)
    components/token/macro_f1
        IOB2 tags on the whitespace tokens of each message (``\\S+`` runs), so
        it does not depend on any model's tokenizer; macro-average of the
        per-tag F1 over the tags that occur in gold or prediction (O included)
    components/support/gold, components/support/predicted
        the number of distinct gold / predicted components

A precision or recall with nothing to divide by is 0 (scikit-learn's
``zero_division=0``). Duplicate components (same message, span and label)
count once, as sets do.

Every score is a function of summed counts (pytorch-ie's update / compute): ``count_thread`` turns
one aligned thread pair into a ``SpanCounts`` row, ``span_scores`` turns a sum of rows into the keys
above. ``component_metrics`` is the two in a row; the bootstrap re-sums the rows of its resamples.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from argmine.errors import InputError
from argmine.evaluation.alignment import align_threads, message_pairs
from argmine.thread import Component, Thread

PREFIX = "components"
Span = tuple[str, str, int, int, str]  # thread id, message id, start, end, label
Message = tuple[str, str, str]  # thread id, message id, text

_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class SpanCounts:
    """What the span scores of some messages are computed from; rows add up (``a + b``) to their union's counts."""

    exact: Counter[str] = field(default_factory=Counter)  # label → exact matches
    gold: Counter[str] = field(default_factory=Counter)  # label → distinct gold components
    predicted: Counter[str] = field(default_factory=Counter)  # label → distinct predicted components
    overlap50: int = 0  # one-to-one overlap-50 matches
    overlap50_by_label: Counter[str] = field(default_factory=Counter)  # the same matches, by label
    tag_hits: Counter[str] = field(default_factory=Counter)  # IOB2 tag → tokens tagged so in gold and prediction
    tag_gold: Counter[str] = field(default_factory=Counter)
    tag_predicted: Counter[str] = field(default_factory=Counter)

    def __add__(self, other: SpanCounts) -> SpanCounts:
        return SpanCounts(
            self.exact + other.exact, self.gold + other.gold, self.predicted + other.predicted,
            self.overlap50 + other.overlap50, self.overlap50_by_label + other.overlap50_by_label,
            self.tag_hits + other.tag_hits, self.tag_gold + other.tag_gold, self.tag_predicted + other.tag_predicted,
        )

    @property
    def micro(self) -> tuple[int, int, int, int]:
        """Exact matches, overlap-50 matches, gold and predicted components over every label."""
        return (sum(self.exact.values()), self.overlap50, sum(self.gold.values()), sum(self.predicted.values()))


def count_message(
    thread_id: str, message_id: str, text: str, gold: Sequence[Component], pred: Sequence[Component]
) -> SpanCounts:
    """The counts of one message's gold and predicted components."""
    gold_spans = {(thread_id, message_id, c.start, c.end, c.label) for c in gold}
    pred_spans = {(thread_id, message_id, c.start, c.end, c.label) for c in pred}
    gold_tags, pred_tags = token_tags(text, gold), token_tags(text, pred)
    matched = overlap50_pairs(gold_spans, pred_spans)
    return SpanCounts(
        exact=Counter(span[4] for span in gold_spans & pred_spans),
        gold=Counter(span[4] for span in gold_spans),
        predicted=Counter(span[4] for span in pred_spans),
        overlap50=len(matched),
        overlap50_by_label=Counter(span[4] for span in matched),
        tag_hits=Counter(g for g, p in zip(gold_tags, pred_tags) if g == p),
        tag_gold=Counter(gold_tags),
        tag_predicted=Counter(pred_tags),
    )


def count_thread(gold: Thread, pred: Thread) -> SpanCounts:
    """The counts of one aligned thread pair (same messages and texts, else an ``InputError``)."""
    return sum(
        (count_message(gold.id, g.id, g.text, g.components, p.components) for g, p in message_pairs(gold, pred)),
        SpanCounts(),
    )


def span_scores(counts: SpanCounts, *, labels: Sequence[str] | None = None) -> dict[str, float]:
    """The ``components/...`` keys of summed counts; ``labels`` fixes the per-label keys (default: every label seen)."""
    names = sorted(set(counts.gold) | set(counts.predicted)) if labels is None else list(labels)
    tp, _, n_gold, n_pred = counts.micro
    out: dict[str, float] = {}
    _put(out, f"{PREFIX}/span_exact/micro", tp, n_gold, n_pred)
    for label in names:
        _put(out, f"{PREFIX}/span_exact/{label}", counts.exact[label], counts.gold[label], counts.predicted[label],
             sep="/")
        out[f"{PREFIX}/span_exact/{label}/support"] = float(counts.gold[label])
    _put(out, f"{PREFIX}/span_overlap50/micro", counts.overlap50, n_gold, n_pred)
    for label in names:
        _put(out, f"{PREFIX}/span_overlap50/{label}", counts.overlap50_by_label[label], counts.gold[label],
             counts.predicted[label], sep="/")
    for match in ("span_exact", "span_overlap50"):  # a label the model never predicts pulls these down
        per_label = [out[f"{PREFIX}/{match}/{label}/f1"] for label in names]
        out[f"{PREFIX}/{match}/macro_f1"] = sum(per_label) / len(per_label) if per_label else 0.0
    classes = sorted(set(counts.tag_gold) | set(counts.tag_predicted))
    out[f"{PREFIX}/token/macro_f1"] = (
        sum(prf(counts.tag_hits[c], counts.tag_gold[c], counts.tag_predicted[c])[2] for c in classes) / len(classes)
        if classes else 0.0
    )
    out[f"{PREFIX}/support/gold"] = float(n_gold)
    out[f"{PREFIX}/support/predicted"] = float(n_pred)
    return out


def component_metrics(
    gold_threads: Sequence[Thread], pred_threads: Sequence[Thread], *, labels: Sequence[str] | None = None
) -> dict[str, float]:
    """Scores of predicted threads against gold ones, matched by thread and message id.

    Both sides must hold the same threads and messages with the same texts
    (``InputError`` otherwise). ``labels`` fixes which per-label keys appear
    (default: every label in gold or prediction).
    """
    rows = [count_thread(g, p) for g, p in align_threads(gold_threads, pred_threads)]
    return span_scores(sum(rows, SpanCounts()), labels=labels)


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
        raise InputError(f"{len(messages)} messages, {len(gold)} gold and {len(pred)} predicted component lists")
    if len({(t, m) for t, m, _ in messages}) != len(messages):
        raise InputError("(thread id, message id) pairs must be unique")
    rows = (count_message(t, m, text, g, p) for (t, m, text), g, p in zip(messages, gold, pred))
    return span_scores(sum(rows, SpanCounts()), labels=labels)


def prf(tp: int, n_gold: int, n_pred: int) -> tuple[float, float, float]:
    """Precision, recall, F1 (0 where there is nothing to divide by)."""
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def overlap50_matches(gold: Iterable[Span], pred: Iterable[Span]) -> int:
    """How many gold spans pair with a prediction of the same message and label overlapping ≥ half of both."""
    return len(overlap50_pairs(gold, pred))


def overlap50_pairs(gold: Iterable[Span], pred: Iterable[Span]) -> set[Span]:
    """The gold spans that pair with a prediction of the same message and label overlapping ≥ half of both.

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
    return used_gold


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


def token_confusion(
    gold: Sequence[Thread], predicted: Sequence[Thread], labels: Sequence[str]
) -> tuple[list[str], list[list[int]]]:
    """Gold × predicted IOB2 tags of every whitespace token (the tags of ``components/token/macro_f1``)."""
    counts: dict[tuple[str, str], int] = {}
    for g_thread, p_thread in align_threads(gold, predicted):
        for message, pred in message_pairs(g_thread, p_thread, exact=False):
            for g, p in zip(token_tags(message.text, message.components), token_tags(message.text, pred.components)):
                counts[(g, p)] = counts.get((g, p), 0) + 1
    tags = ["O"] + [f"{prefix}-{label}" for label in labels for prefix in ("B", "I")]
    tags += sorted({t for pair in counts for t in pair} - set(tags))
    index = {tag: i for i, tag in enumerate(tags)}
    matrix = [[0] * len(tags) for _ in tags]
    for (g, p), n in counts.items():
        matrix[index[g]][index[p]] += n
    return tags, matrix


def _put(out: dict[str, float], prefix: str, tp: int, n_gold: int, n_pred: int, sep: str = "_") -> None:
    precision, recall, f1 = prf(tp, n_gold, n_pred)
    out[f"{prefix}{sep}precision"] = precision
    out[f"{prefix}{sep}recall"] = recall
    out[f"{prefix}{sep}f1"] = f1
