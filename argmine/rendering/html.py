"""The mined-thread page: one self-contained HTML file showing threads, from the ``thread.html`` template.

    to_html(threads) → str   legend, an argument map per thread (inline SVG), the post and the reply tree
                             with claims / premises highlighted and stance badges

The page needs nothing outside itself: no script (none at all), no network, no external font or
stylesheet (``style.css`` is inlined); a Content-Security-Policy forbids scripts and remote loads
even if a browser were tricked. Every value is escaped by the one policy of ``neutralise``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from typing import Any

from markupsafe import Markup

from argmine import __version__
from argmine.rendering.argmap import argument_map
from argmine.rendering.highlight import highlight
from argmine.rendering.neutralise import render
from argmine.rendering.views import (
    MAX_INDENT,
    UNSURE_KEY,
    clip,
    component_kind,
    counts,
    is_unsure,
    not_english,
    polarity,
    reply_order,
    stance_note,
    stance_text,
)
from argmine.thread import Component, Post, Stance, Thread

# Scripts are never needed: forbid them, and any remote load, outright.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


@cache
def stylesheet() -> Markup:
    """argmine's one stylesheet (``style.css``, package data), to inline in a page's ``<style>``."""
    return Markup("\n" + files("argmine.rendering").joinpath("style.css").read_text(encoding="utf-8"))


def page_values(title: str) -> dict[str, Any]:
    """What every page's ``_head.html`` needs."""
    return {"page_title": title, "csp": CSP, "stylesheet": stylesheet()}


def badge_class(stance: Stance) -> str:
    return "unsure" if is_unsure(stance) else str(polarity(stance))


def _tip(component: Component) -> str:
    tip = component.label + (f" {component.score:.2f}" if component.score is not None else "")
    if component.stance is not None:
        tip += f" · stance {stance_text(component.stance)}"
    return tip


def _kind_counts(message: Post) -> tuple[int, int]:
    kinds = [component_kind(c) for c in message.components]
    return kinds.count("claim"), kinds.count("premise")


_HELPERS = {
    "badge_class": badge_class, "clip": clip, "component_kind": component_kind, "counts": counts,
    "highlight": highlight, "is_unsure": is_unsure, "kind_counts": _kind_counts, "not_english": not_english,
    "stance_text": stance_text, "tip": _tip, "unsure_key": UNSURE_KEY, "max_indent": MAX_INDENT,
}


def _legend(threads: list[Thread]) -> list[tuple[str, str]]:
    """(kind, name) of each component colour in the legend: claim and premise always, ``other`` when present."""
    kinds = {component_kind(c) for t in threads for _, c in t.components()}
    other = sorted({c.label for t in threads for _, c in t.components() if component_kind(c) == "other"})
    names = {"claim": "claim", "premise": "premise", "other": ", ".join(other) or "other"}
    return [(kind, names[kind]) for kind in ("claim", "premise", "other") if kind in kinds | {"claim", "premise"}]


def _thread_view(thread: Thread, anchor: str) -> dict[str, Any]:
    names = {c.id: c.author or "anonymous" for c in thread.comments}
    numbers = {c.id: i for i, c in enumerate(thread.comments, start=1)}  # element ids from positions, not user text
    note = stance_note(thread)
    return {
        "thread": thread, "anchor": anchor, "map": argument_map(thread, anchor),
        "note": note[0].upper() + note[1:] if note else None,
        "comments": [{"comment": c, "depth": depth, "number": numbers[c.id], "replying": names.get(c.reply_to)}
                     for c, depth in reply_order(thread)],
    }


def to_html(threads: Thread | Iterable[Thread], *, title: str = "argmine: mined threads") -> str:
    """One self-contained HTML page showing ``threads`` (see the module docstring)."""
    threads = [threads] if isinstance(threads, Thread) else list(threads)
    return render(
        "thread.html", **page_values(title), **_HELPERS, version=__version__, legend=_legend(threads),
        threads=[_thread_view(t, f"t{i}") for i, t in enumerate(threads, start=1)],
        comment_count=sum(len(t.comments) for t in threads),
    )
