"""Mined threads as plain text (a terminal summary) and as Markdown, from the ``thread.txt`` / ``thread.md`` templates.

    to_text_summary(thread) → str   per comment: author, stance (score), claims and premises, indented by reply depth
    to_markdown(thread)     → str   the same as a Markdown document, with the full texts quoted

Comments are listed in reply-tree order: each comment followed by its replies, siblings in thread
order. Control characters in every value are shown as escapes (``neutralise``); Markdown markup in
user text is backslash-escaped, so ``<script>`` or a leading ``#`` stay text.
"""

from __future__ import annotations

from argmine.rendering.neutralise import render
from argmine.rendering.views import (
    MAX_INDENT,
    by_start,
    counts,
    details,
    language_text,
    one_line,
    post_stance,
    reply_order,
    stance_note,
    stance_text,
)
from argmine.thread import Thread

_HELPERS = {
    "by_start": by_start, "counts": counts, "details": details, "language_text": language_text,
    "one_line": one_line, "post_stance": post_stance, "reply_order": reply_order, "stance_note": stance_note,
    "stance_text": stance_text, "max_indent": MAX_INDENT,
}


def to_text_summary(thread: Thread, *, width: int = 160) -> str:
    """A terminal summary: the post, then per comment its author, stance and components, indented by depth.

    Component texts are shown on one line each, cut to about ``width`` characters.
    """
    return render("thread.txt", thread=thread, width=width, **_HELPERS)


def to_markdown(thread: Thread) -> str:
    """A Markdown document: the post quoted, then the reply tree as nested items with stances and components."""
    return render("thread.md", thread=thread, **_HELPERS).rstrip() + "\n"
