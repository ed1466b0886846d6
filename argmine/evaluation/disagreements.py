"""The rows of errors.html: every message gold beside predicted, and what differs, disagreements first.

The page itself is drawn by ``argmine.rendering.errors_page``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from argmine.evaluation.alignment import align_threads, message_pairs
from argmine.thread import Component, Post, Thread


@dataclass(frozen=True)
class ErrorRow:
    """One message, gold beside predicted, and what differs."""

    thread_id: str
    message: Post
    predicted: Post
    is_post: bool
    problems: tuple[str, ...]


def error_rows(
    gold: Sequence[Thread], predicted: Sequence[Thread], *, kind: str, include_posts: bool = False
) -> tuple[list[ErrorRow], int]:
    """Every message as an ``ErrorRow``, those with a disagreement first (then in corpus order); and their count.

    ``components``: a message disagrees when its gold and predicted component
    sets differ. ``stance``: when a gold stance (comment, component matched by
    span, post if ``include_posts``) differs from the prediction.
    """
    rows: list[ErrorRow] = []
    for g_thread, p_thread in align_threads(gold, predicted):
        for message, pred in message_pairs(g_thread, p_thread, exact=False):
            is_post = message.id == g_thread.post.id
            problems = _problems(message, pred, kind, is_post, include_posts)
            rows.append(ErrorRow(g_thread.id, message, pred, is_post, problems))
    bad = [row for row in rows if row.problems]
    return bad + [row for row in rows if not row.problems], len(bad)


def _key(c: Component) -> tuple[int, int, str]:
    return (c.start, c.end, c.label)


def _problems(gold: Post, pred: Post, kind: str, is_post: bool, include_posts: bool) -> tuple[str, ...]:
    out: list[str] = []
    if kind == "components":
        g = {_key(c) for c in gold.components}
        p = {_key(c) for c in pred.components}
        out += [f"missed {label} [{s}, {e})" for s, e, label in sorted(g - p)]
        out += [f"extra {label} [{s}, {e})" for s, e, label in sorted(p - g)]
        return tuple(out)
    if gold.stance is not None and (include_posts or not is_post):
        said = pred.stance.label if pred.stance else None
        if said != gold.stance.label:
            out.append(f"stance {gold.stance.label} → {said or 'no prediction'}")
    if not is_post:
        spans = {c.span: c for c in pred.components}
        for component in gold.components:
            if component.stance is None:
                continue
            match = spans.get(component.span)
            said = match.stance.label if match is not None and match.stance else None
            if said != component.stance.label:
                out.append(f"{component.label} [{component.start}, {component.end}) stance "
                           f"{component.stance.label} → {said or 'no prediction'}")
    return tuple(out)
