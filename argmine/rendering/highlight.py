"""The one highlight rule of every page that marks components in a text.

Components are taken in text order (by start, the longer first on a tie); a component that starts
inside one already marked is not marked but returned apart, so the page can list it. Nested or
overlapping spans (gold corpora have them) thus never split another mark into pieces, and no
component disappears without a word: the mined-thread page lists the skipped ones under the text,
errors.html lists every component of a message anyway.
"""

from __future__ import annotations

from collections.abc import Iterable

from argmine.thread import Component

# The text cut into pieces: plain text (None) or the span of one marked component.
Pieces = list[tuple[str, "Component | None"]]


def highlight(text: str, components: Iterable[Component]) -> tuple[Pieces, list[Component]]:
    """``text`` as pieces to mark (see the module docstring), and the components left unmarked."""
    pieces: Pieces = []
    skipped: list[Component] = []
    position = 0
    for component in sorted(components, key=lambda c: (c.start, -c.end)):
        if component.start < position:
            skipped.append(component)
            continue
        pieces.append((text[position : component.start], None))
        pieces.append((text[component.start : component.end], component))
        position = component.end
    pieces.append((text[position:], None))
    return pieces, skipped
