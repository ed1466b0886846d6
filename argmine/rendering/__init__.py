"""Every page argmine writes for people, from Jinja2 templates with one escaping policy and one stylesheet.

    to_text_summary(thread) → str   terminal summary (plain.py, templates/thread.txt)
    to_markdown(thread)     → str   Markdown document (plain.py, templates/thread.md)
    to_html(threads)        → str   one self-contained page with an argument map per thread
                                    (html.py + argmap.py, templates/thread.html, _message.html, argmap.svg)
    render_errors_html(rows) → str  an evaluation's errors.html (errors_page.py, templates/errors.html)

All are pure functions of the threads (gold or predicted: whatever the thread holds is shown).
``neutralise`` is the escaping policy (control characters and bidi overrides shown as escapes,
HTML autoescaped), ``highlight`` the one rule for marking overlapping components, ``views`` what
every format shows of a thread, ``style.css`` the stylesheet inlined into each HTML page.
"""

from argmine.rendering.argmap import MAP_MAX_COMMENTS
from argmine.rendering.html import to_html
from argmine.rendering.neutralise import visible
from argmine.rendering.plain import to_markdown, to_text_summary
from argmine.rendering.views import UNSURE_KEY, is_unsure, polarity, reply_order

__all__ = [
    "MAP_MAX_COMMENTS",
    "UNSURE_KEY",
    "is_unsure",
    "polarity",
    "reply_order",
    "to_html",
    "to_markdown",
    "to_text_summary",
    "visible",
]
