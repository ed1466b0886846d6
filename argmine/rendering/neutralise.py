"""The one escaping policy of every page argmine renders for people, and the Jinja2 environment that applies it.

Control characters are shown, never obeyed (``visible``): C0 and C1 controls (ESC starts the
sequences that retitle or clear a terminal), DEL, and the bidi embeddings, overrides and isolates
(U+202E shows the text after it reversed) are written as their escapes, ``\\x1b`` or ``\\u202e``;
newlines and tabs stay. A carriage return is shown in text and Markdown (it lets a line overwrite
another on a terminal) but kept in HTML, whose parser reads it as a newline.

HTML and SVG templates escape every value (autoescape on): first ``visible``, then
``html.escape(quote=True)``, in text and attributes alike, so a comment reading
``<script>…</script>`` is shown as those characters. Text and Markdown templates apply
``visible`` to every value; Markdown markup in user text is backslash-escaped by the ``md`` filter.
JSON and JSONL output is not rendered and keeps every character exact.
"""

from __future__ import annotations

import html
import re
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

# Characters that steer a terminal or reorder the text around them instead of showing.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_TERMINAL_CONTROLS = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_HTML_CONTROLS = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")


def visible(text: str, *, for_html: bool = False) -> str:
    """``text`` with each control character written as its escape (``\\x1b``, ``\\u202e``), so it shows."""
    pattern = _HTML_CONTROLS if for_html else _TERMINAL_CONTROLS
    return pattern.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def escape_html(value: object) -> Markup:
    """A value as HTML text or attribute value: control characters shown, then ``&<>"'`` escaped."""
    if isinstance(value, Markup):  # already built by the templates' own markup
        return value
    return Markup(html.escape(visible(str(value), for_html=True), quote=True))


_MD_INLINE = re.compile(r"([\\`*_\[\]<>&|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#+\->=])")
_MD_LINE_NUMBER = re.compile(r"^(\s*\d+)([.)])")  # "1." starts a list: escape its punctuation


def escape_markdown(text: str, *, line_start: bool = False) -> str:
    """Text safe inside Markdown: markup characters backslash-escaped (so ``<script>`` stays text).

    With ``line_start`` the text begins a line, where ``#``, ``-``, ``1.`` ... would start a block.
    """
    escaped = _MD_INLINE.sub(r"\\\1", text)
    if not line_start:
        return escaped
    escaped = _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    return _MD_LINE_NUMBER.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def _visible_value(value: Any) -> Any:
    return visible(value) if isinstance(value, str) else value


@cache
def environment(markup: bool) -> jinja2.Environment:
    """The templates' environment: ``markup`` (HTML, SVG) escapes every value, otherwise ``visible`` is applied.

    Blocks on their own line leave no line behind (``trim_blocks``, ``lstrip_blocks``), so a
    template's lines are the output's lines; undefined names are errors, not empty strings.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("argmine.rendering", "templates"),
        autoescape=markup,
        finalize=escape_html if markup else _visible_value,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = escape_markdown
    return env


def render(template: str, **values: Any) -> str:
    """Render one of the package's templates (``*.html`` / ``*.svg`` escaped as markup, others as text)."""
    markup = template.endswith((".html", ".svg"))
    return environment(markup).get_template(template).render(**values)
