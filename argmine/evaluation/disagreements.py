"""The rows of errors.html: every message gold beside predicted, and what differs, disagreements first."""

from __future__ import annotations

import html
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1em; margin: 0 0 .4em; }
section { border: 1px solid #ccc; border-radius: 4px; padding: .6em .8em; margin: .8em 0; }
section.disagree { border-left: 5px solid #c0392b; } section.agree { border-left: 5px solid #27ae60; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.side h3 { font-size: .85em; text-transform: uppercase; color: #666; margin: .2em 0; }
.text { white-space: pre-wrap; background: #fafafa; padding: .4em; }
mark { padding: 0 1px; border-radius: 2px; } sup.lab { font-size: .7em; color: #555; }
.problems { color: #c0392b; margin: .3em 0; } ul.spans { font-size: .85em; margin: .3em 0; padding-left: 1.2em; }
.l0 { background: #f9e79f; } .l1 { background: #aed6f1; } .l2 { background: #abebc6; } .l3 { background: #f5b7b1; }
.l4 { background: #d7bde2; } .l5 { background: #f8c471; } .lx { background: #d5d8dc; }
"""


def _esc(value: Any) -> str:
    from argmine.render import visible  # control characters shown as escapes, as on every page for people

    return html.escape(visible(str(value), for_html=True), quote=True)


def render_errors_html(rows: Sequence[ErrorRow], *, labels: Sequence[str], kind: str, title: str) -> str:
    """A self-contained page (inline CSS, no script, no link out); every corpus string is HTML-escaped."""
    classes = {label: f"l{i}" if i < 6 else "lx" for i, label in enumerate(labels)}
    bad = sum(1 for row in rows if row.problems)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Errors: {_esc(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Gold vs predicted: {_esc(title)}</h1>",
        (f"<p>{len(rows)} messages, {bad} with a disagreement ({'components' if kind == 'components' else 'stance'}); "
        "those come first. Marked text: components, label in superscript.</p>"),
    ]
    for row in rows:
        state = "disagree" if row.problems else "agree"
        where = "post" if row.is_post else f"comment, reply to {row.message.reply_to}"  # type: ignore[attr-defined]
        parts.append(f'<section class="{state}">')
        parts.append(f"<h2>thread {_esc(row.thread_id)} · {_esc(row.message.id)} ({_esc(where)})</h2>")
        if row.problems:
            parts.append('<ul class="problems">' + "".join(f"<li>{_esc(p)}</li>" for p in row.problems) + "</ul>")
        parts.append('<div class="pair">')
        for side, message in (("gold", row.message), ("predicted", row.predicted)):
            stance = f" · stance: {_esc(message.stance.label)}" if message.stance else ""
            parts.append(f'<div class="side"><h3>{side}{stance}</h3>')
            parts.append(f'<div class="text">{_marked(message.text, message.components, classes)}</div>')
            if message.components:
                items = "".join(
                    f"<li>{_esc(c.label)} [{c.start}, {c.end})"
                    + (f" · stance {_esc(c.stance.label)}" if c.stance else "")
                    + f": {_esc(_clip(c.text))}</li>"
                    for c in sorted(message.components, key=lambda c: (c.start, c.end))
                )
                parts.append(f'<ul class="spans">{items}</ul>')
            parts.append("</div>")
        parts.append("</div></section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _marked(text: str, components: Sequence[Component], classes: Mapping[str, str]) -> str:
    """The text with each component in a <mark>; where components overlap, the one that starts first is shown."""
    cuts = sorted({0, len(text), *(c.start for c in components), *(c.end for c in components)})
    starts: dict[int, list[Component]] = {}
    for c in components:
        starts.setdefault(c.start, []).append(c)
    out = []
    for begin, end in itertools.pairwise(cuts):
        for c in starts.get(begin, []):
            out.append(f'<sup class="lab">{_esc(c.label)}</sup>')
        covering = [c for c in components if c.start <= begin and end <= c.end]
        piece = _esc(text[begin:end])
        if covering:
            first = min(covering, key=lambda c: (c.start, -c.end))
            out.append(f'<mark class="{classes.get(first.label, "lx")}" title="{_esc(first.label)}">{piece}</mark>')
        else:
            out.append(piece)
    return "".join(out)
