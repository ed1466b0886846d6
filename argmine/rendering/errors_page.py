"""errors.html of an evaluation, from the ``errors.html`` template (the rows come from ``argmine.evaluation.disagreements``).

A self-contained page like the mined-thread page: the same head (no script, a Content-Security-Policy,
the one stylesheet inlined), the same escaping and the same highlight rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from argmine.rendering.highlight import highlight
from argmine.rendering.html import page_values
from argmine.rendering.neutralise import render

if TYPE_CHECKING:
    from argmine.evaluation.disagreements import ErrorRow

# Components are coloured by the position of their label among the checkpoint's labels; these many have a colour.
LABEL_COLOURS = 6


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_errors_html(rows: Sequence[ErrorRow], *, labels: Sequence[str], kind: str, title: str) -> str:
    """A self-contained page (inline CSS, no script, no link out); every corpus string is HTML-escaped."""
    return render(
        "errors.html", **page_values(f"Errors: {title}"), title=title, rows=rows, kind=kind,
        disagreeing=sum(1 for row in rows if row.problems), highlight=highlight, clip=_clip,
        classes={label: f"l{i}" if i < LABEL_COLOURS else "lx" for i, label in enumerate(labels)},
    )
