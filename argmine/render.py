"""Mined threads for people: a terminal summary, Markdown, and one self-contained HTML page.

    to_text_summary(thread) → str   per comment: author, stance (score), claims and premises, indented by reply depth
    to_markdown(thread)     → str   the same as a Markdown document, with the full texts quoted
    to_html(threads)        → str   one page: legend, an argument map per thread (inline SVG), the post and the
                                    reply tree with claims / premises highlighted and stance badges

All three are pure functions of the threads (gold or predicted: whatever the
thread holds is shown). Comments are listed in reply-tree order: each comment
followed by its replies, siblings in thread order.

The HTML page needs nothing outside itself: no script (none at all), no
network, no external font or stylesheet; a Content-Security-Policy forbids
scripts and remote loads even if a browser were tricked. Every piece of user
text (post, comments, authors, ids, labels) is escaped with ``html.escape``,
inside SVG ``<text>`` and in attributes too, so a comment reading
``<script>…</script>`` is shown as those characters.

Control characters are shown, never obeyed, in all three (``visible``): C0 and C1
controls (ESC starts the sequences that retitle or clear a terminal), DEL, and the
bidi embeddings, overrides and isolates (U+202E shows the text after it reversed)
are written as their escapes, ``\\x1b`` or ``\\u202e``; newlines and tabs stay.
JSON and JSONL output is not rendered and keeps every character exact.

Every stance is shown with its score. A stance marked unsure (``argmine mine
--min-stance-score X`` adds ``"below_min_score": X`` to a stance whose score is
below X) shows as ``unsure (support 0.42)``, drawn as neither support nor
attack. A message flagged ``meta["not_english"]`` (``argmine.language``) shows
its language next to the stance: ``[pt?]`` in text and Markdown, a "not
English" badge in HTML, since the stance models read English only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from argmine import __version__
from argmine.thread import Comment, Component, Post, Stance, Thread

# Stance labels read as support / attack (others: neutral). RumourEval's "deny" is an attack on the rumour.
SUPPORT_LABELS = frozenset({"support", "supports", "agree", "agreement", "for", "pro", "favor", "favour"})
ATTACK_LABELS = frozenset({"attack", "attacks", "deny", "disagree", "disagreement", "against", "con", "rebuttal"})

# The argument map draws at most this many comments (a page stays readable; the list below shows them all).
MAP_MAX_COMMENTS = 60
MAP_MAX_CLAIMS = 4  # claim nodes under one comment node


# The stance key ``argmine mine --min-stance-score X`` adds (value X) to a stance whose score is below X.
UNSURE_KEY = "below_min_score"


def is_unsure(stance: Stance | None) -> bool:
    """Whether a stance was marked as below the ``--min-stance-score`` threshold."""
    return stance is not None and stance.extra.get(UNSURE_KEY) is not None


def _shown_polarity(stance: Stance | None) -> str | None:
    """``polarity`` as drawn: an unsure stance is drawn as neither support nor attack."""
    return "neutral" if is_unsure(stance) else polarity(stance)


def not_english(message: Post) -> str | None:
    """The detected language code of a message flagged ``not_english``; None when it is not flagged."""
    if message.meta.get("not_english") is not True:
        return None
    found = message.meta.get("language_detected", message.meta.get("language"))
    code = found.get("code") if isinstance(found, dict) else None
    return str(code)[:12] if code else "?"  # input JSON may hold anything here: short, and escaped where shown


def polarity(stance: Stance | None) -> str | None:
    """``support``, ``attack`` or ``neutral`` for a stance (its label read case-insensitively); None without one."""
    if stance is None:
        return None
    label = stance.label.lower()
    if label in SUPPORT_LABELS:
        return "support"
    if label in ATTACK_LABELS:
        return "attack"
    return "neutral"


def component_kind(component: Component) -> str:
    """``claim``, ``premise`` or ``other`` (MajorClaim, backing...): the highlight colour."""
    label = component.label.lower()
    if label == "claim":
        return "claim"
    if label == "premise":
        return "premise"
    return "other"


# Replies deeper than this are indented as this deep: a 50,000-deep chain would otherwise take quadratic space.
MAX_INDENT = 12


def reply_order(thread: Thread) -> Iterator[tuple[Comment, int]]:
    """Every comment once, with its depth (1 = a reply to the post): each comment followed by its replies."""
    children: dict[str, list[Comment]] = {}
    for comment in thread.comments:
        children.setdefault(comment.reply_to, []).append(comment)
    stack = [(c, 1) for c in reversed(children.get(thread.post.id, []))]
    while stack:
        comment, depth = stack.pop()
        yield comment, depth
        stack.extend((c, depth + 1) for c in reversed(children.get(comment.id, [])))


# Characters that steer a terminal or reorder the text around them instead of showing. Newline and tab are
# kept; carriage return is shown in text and Markdown (it lets a line overwrite another on a terminal) but
# kept in HTML, whose parser reads it as a newline.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_TERMINAL_CONTROLS = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_HTML_CONTROLS = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")


def visible(text: str, *, for_html: bool = False) -> str:
    """``text`` with each control character written as its escape (``\\x1b``, ``\\u202e``), so it shows."""
    pattern = _HTML_CONTROLS if for_html else _TERMINAL_CONTROLS
    return pattern.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


# -- plain text ---------------------------------------------------------------------------------


def to_text_summary(thread: Thread, *, width: int = 160) -> str:
    """A terminal summary: the post, then per comment its author, stance and components, indented by depth.

    Component texts are shown on one line each, cut to about ``width`` characters.
    """
    lines = [f"thread {thread.id}: {_counts(thread)}"]
    note = _stance_note(thread)
    post = thread.post
    if post.text.strip():
        lines.append(f"post by {post.author or '(unknown author)'}{_post_stance(post)}{_language_text(post)}: "
                     f"{_one_line(post.text, width)}")
    else:
        lines.append("post: (no original post text)")
    if note:
        lines.append(f"note: {note}")
    lines += _text_components(post, "    ", width)
    if not thread.comments:
        lines.append("(no comments)")
    for comment, depth in reply_order(thread):
        indent = "  " * min(depth, MAX_INDENT)
        stance = _stance_text(comment.stance) if comment.stance else "no stance"
        empty = " (empty comment)" if not comment.text.strip() else ""
        lines.append(f"{indent}- {comment.author or '(anonymous)'} [{comment.id}]: {stance}{_language_text(comment)}"
                     f"{empty}")
        lines += _text_components(comment, indent + "    ", width)
    return visible("\n".join(lines)) + "\n"


def _text_components(message: Post, indent: str, width: int) -> list[str]:
    return [
        f"{indent}{component.label.lower()}{_details(component)}: {_one_line(component.text, width)}"
        for component in sorted(message.components, key=lambda c: c.start)
    ]


def _details(component: Component, escape: Callable[[str], str] = str) -> str:
    """`` (score; stance)`` after a component's label in the text and Markdown lists; ``""`` when it has neither."""
    details = [f"{component.score:.2f}"] if component.score is not None else []
    if component.stance is not None:
        details.append(_stance_text(component.stance))
    return f" ({escape('; '.join(details))})" if details else ""


def _stance_text(stance: Stance) -> str:
    shown = stance.label if stance.score is None else f"{stance.label} {stance.score:.2f}"
    return f"unsure ({shown})" if is_unsure(stance) else shown


def _post_stance(post: Post) -> str:
    """`` (stance)`` after the post's author, for gold threads whose post has one (RumourEval's source tweet)."""
    return f" ({_stance_text(post.stance)})" if post.stance is not None else ""


def _language_text(message: Post) -> str:
    code = not_english(message)
    return f" [{code}?]" if code else ""


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return '"' + (flat if len(flat) <= width else flat[: width - 1].rstrip() + "…") + '"'


def _counts(thread: Thread) -> str:
    labels: dict[str, int] = {}
    for _, component in thread.components():
        labels[component.label] = labels.get(component.label, 0) + 1
    stances: dict[str, int] = {}
    for comment in thread.comments:
        if comment.stance is not None:
            label = "unsure" if is_unsure(comment.stance) else comment.stance.label
            stances[label] = stances.get(label, 0) + 1
    parts = [f"{len(thread.comments)} comment{'s' if len(thread.comments) != 1 else ''}"]
    if labels:
        parts.append(", ".join(f"{n} {label}" for label, n in sorted(labels.items())))
    else:
        parts.append("no components")
    if stances:
        parts.append("comment stance: " + ", ".join(f"{n} {label}" for label, n in sorted(stances.items())))
    return " · ".join(parts)


def _stance_note(thread: Thread) -> str | None:
    mined = thread.meta.get("mined")
    if isinstance(mined, dict) and mined.get("stance") not in (None, "predicted"):
        return f"stance {mined['stance']} (give the post, e.g. --post FILE)"
    return None


# -- Markdown -----------------------------------------------------------------------------------

_MD_INLINE = re.compile(r"([\\`*_\[\]<>&|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#+\->=])")
_MD_LINE_NUMBER = re.compile(r"^(\s*\d+)([.)])")  # "1." starts a list: escape its punctuation


def _md(text: str, *, line_start: bool = False) -> str:
    """Text safe inside Markdown: markup characters backslash-escaped (so ``<script>`` stays text).

    With ``line_start`` the text begins a line, where ``#``, ``-``, ``1.`` ... would start a block.
    """
    escaped = _MD_INLINE.sub(r"\\\1", text)
    if not line_start:
        return escaped
    escaped = _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    return _MD_LINE_NUMBER.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def _md_quote(text: str, indent: str) -> list[str]:
    if not text.strip():
        return [f"{indent}> *(empty)*"]
    return [f"{indent}> {_md(line, line_start=True)}".rstrip() for line in text.strip().split("\n")]


def to_markdown(thread: Thread) -> str:
    """A Markdown document: the post quoted, then the reply tree as nested items with stances and components."""
    post = thread.post
    lines = [f"## Thread {_md(thread.id)}", "", f"*{_md(_counts(thread))}*", ""]
    note = _stance_note(thread)
    if note:
        lines += [f"> **Note:** {_md(note)}", ""]
    lines += [f"**Original post** by {_md(post.author or 'unknown author')}{_md(_post_stance(post))}"
              f"{_md(_language_text(post))}", ""]
    lines += _md_quote(post.text, "")
    lines.append("")
    lines += _md_components(post, "")
    lines += ["", "### Comments", ""]
    if not thread.comments:
        lines.append("*(no comments)*")
    for comment, depth in reply_order(thread):
        indent = "  " * (min(depth, MAX_INDENT) - 1)
        stance = f" · **{_md(_stance_text(comment.stance))}**" if comment.stance else ""
        stance += _md(_language_text(comment))
        lines.append(f"{indent}- **{_md(comment.author or 'anonymous')}** \\[{_md(comment.id)}\\]{stance}")
        lines.append("")
        lines += _md_quote(comment.text, indent + "  ")
        lines.append("")
        component_lines = _md_components(comment, indent + "  ")
        if component_lines:
            lines += [*component_lines, ""]
    return visible("\n".join(lines).rstrip()) + "\n"


def _md_components(message: Post, indent: str) -> list[str]:
    return [
        f"{indent}- *{_md(component.label)}*{_details(component, _md)}: {_md(' '.join(component.text.split()))}"
        for component in sorted(message.components, key=lambda c: c.start)
    ]


# -- HTML ---------------------------------------------------------------------------------------


def _e(text: object) -> str:
    """Escape for HTML text and attribute values (quotes too), control characters shown (``visible``)."""
    return html.escape(visible(str(text), for_html=True), quote=True)


STYLE = """
:root { --claim:#fde68a; --claim-line:#d97706; --premise:#bfdbfe; --premise-line:#2563eb;
  --other:#e9d5ff; --other-line:#9333ea; --support:#15803d; --support-bg:#dcfce7;
  --attack:#b91c1c; --attack-bg:#fee2e2; --neutral:#475569; --neutral-bg:#e2e8f0;
  --ink:#1e293b; --muted:#64748b; --line:#e2e8f0; --paper:#ffffff; --page:#f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif; }
.page { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 0 0 2px; }
.sub { color: var(--muted); margin: 0 0 14px; font-size: 13px; }
.legend { display: flex; flex-wrap: wrap; gap: 8px 18px; align-items: center; padding: 10px 14px;
  background: var(--paper); border: 1px solid var(--line); border-radius: 10px; font-size: 13px; }
.legend .group { display: flex; gap: 8px; align-items: center; }
.legend .title { color: var(--muted); font-weight: 600; text-transform: uppercase; font-size: 11px;
  letter-spacing: .05em; }
.swatch { display: inline-block; width: 28px; height: 0; border-top: 3px solid; vertical-align: middle; }
.swatch.support { border-color: var(--support); } .swatch.attack { border-color: var(--attack); }
.swatch.neutral { border-color: var(--neutral); border-top-style: dashed; }
nav.toc { margin: 14px 0 0; font-size: 13px; } nav.toc a { margin-right: 12px; color: #1d4ed8; }
section.thread { margin-top: 26px; background: var(--paper); border: 1px solid var(--line); border-radius: 12px;
  padding: 18px 20px 8px; box-shadow: 0 1px 2px rgba(15,23,42,.04); }
.stats { color: var(--muted); font-size: 13px; margin: 0 0 10px; }
.notice { background: #fffbeb; border: 1px solid #fcd34d; border-radius: 8px; padding: 6px 10px; font-size: 13px;
  margin: 0 0 10px; }
figure.map { margin: 6px 0 16px; overflow-x: auto; border: 1px solid var(--line); border-radius: 10px;
  background: #fcfdfe; }
figure.map svg { display: block; max-width: 100%; height: auto; }
figure.map figcaption { font-size: 12px; color: var(--muted); padding: 4px 10px 8px; }
.msg { border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; margin: 0 0 10px;
  background: var(--paper); }
.msg.post { background: #f8fafc; border-color: #cbd5e1; }
.msg header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 10px; font-size: 13px;
  color: var(--muted); margin-bottom: 4px; }
.msg header .author { color: var(--ink); font-weight: 650; font-size: 14px; }
.msg header .count { margin-left: auto; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.text.empty { color: var(--muted); font-style: italic; }
ol.comments { list-style: none; margin: 0; padding: 0; }
ol.comments > li { margin-left: calc((var(--depth) - 1) * 28px); position: relative; }
ol.comments > li.reply::before { content: ""; position: absolute; left: -16px; top: -10px; bottom: 22px;
  border-left: 2px solid var(--line); border-bottom: 2px solid var(--line); width: 12px; border-bottom-left-radius: 8px; }
mark.c { border-radius: 3px; padding: 0 1px; color: inherit; }
mark.claim { background: var(--claim); box-shadow: inset 0 -2px 0 var(--claim-line); }
mark.premise { background: var(--premise); box-shadow: inset 0 -2px 0 var(--premise-line); }
mark.other { background: var(--other); box-shadow: inset 0 -2px 0 var(--other-line); }
.badge { display: inline-block; border-radius: 999px; padding: 0 9px; font-size: 12px; font-weight: 600;
  line-height: 20px; white-space: nowrap; }
.badge.support { background: var(--support-bg); color: var(--support); }
.badge.attack { background: var(--attack-bg); color: var(--attack); }
.badge.neutral { background: var(--neutral-bg); color: var(--neutral); }
.badge.unsure { background: #fef9c3; color: #854d0e; border: 1px dashed #ca8a04; }
.badge.lang { background: #ede9fe; color: #5b21b6; }
.badge.none { background: transparent; color: var(--muted); border: 1px dashed #cbd5e1; font-weight: 500; }
.tag { font-size: 10.5px; font-weight: 650; border-radius: 4px; padding: 0 4px; margin-left: 2px;
  vertical-align: 1px; white-space: nowrap; }
.tag.support { background: var(--support-bg); color: var(--support); }
.tag.attack { background: var(--attack-bg); color: var(--attack); }
.tag.neutral { background: var(--neutral-bg); color: var(--neutral); }
.tag.unsure { background: #fef9c3; color: #854d0e; }
.skipped { font-size: 12px; color: var(--muted); margin-top: 4px; }
footer { color: var(--muted); font-size: 12px; margin-top: 28px; text-align: center; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .92em; }
"""

# Scripts are never needed: forbid them, and any remote load, outright.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def to_html(threads: Thread | Iterable[Thread], *, title: str = "argmine: mined threads") -> str:
    """One self-contained HTML page showing ``threads`` (see the module docstring)."""
    threads = [threads] if isinstance(threads, Thread) else list(threads)
    kinds = sorted({component_kind(c): c.label for t in threads for _, c in t.components()}.items())
    other_labels = sorted({c.label for t in threads for _, c in t.components() if component_kind(c) == "other"})
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        '<div class="page">',
        "<header>",
        f"<h1>{_e(title)}</h1>",
        (
            f'<p class="sub">{len(threads)} thread{"s" if len(threads) != 1 else ""} · '
            f"{sum(len(t.comments) for t in threads)} comments · generated by argmine {_e(__version__)}</p>"
        ),
        _legend(kinds, other_labels),
        "</header>",
    ]
    if len(threads) > 1:
        links = " ".join(f'<a href="#t{i}">{_e(t.id)}</a>' for i, t in enumerate(threads, start=1))
        parts.append(f'<nav class="toc">Threads: {links}</nav>')
    parts.append("<main>")
    for index, thread in enumerate(threads, start=1):
        parts.append(_thread_html(thread, f"t{index}"))
    parts += [
        "</main>",
        (
            "<footer>Highlights, badges and the map show what the thread holds (predictions when mined). "
            "This page runs no script and loads nothing from the network.</footer>"
        ),
        "</div>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _legend(kinds: list[tuple[str, str]], other_labels: list[str]) -> str:
    names = {"claim": "claim", "premise": "premise", "other": ", ".join(other_labels) or "other"}
    present = [kind for kind, _ in kinds] or ["claim", "premise"]
    for kind in ("claim", "premise"):  # both are always in the legend: the two colours to tell apart
        if kind not in present:
            present.append(kind)
    order = [k for k in ("claim", "premise", "other") if k in present]
    marks = " ".join(f'<mark class="c {k}">{_e(names[k])}</mark>' for k in order)
    badges = (
        '<span class="badge support">support</span> <span class="badge attack">attack</span> '
        '<span class="badge neutral">none / other</span>'
    )
    edges = (
        '<span class="swatch support"></span> supports the post '
        '<span class="swatch attack"></span> attacks it '
        '<span class="swatch neutral"></span> neither'
    )
    return (
        '<div class="legend">'
        f'<span class="group"><span class="title">Components</span> {marks}</span>'
        f'<span class="group"><span class="title">Stance toward the post</span> {badges}</span>'
        f'<span class="group"><span class="title">Map</span> {edges}</span>'
        "</div>"
    )


def _thread_html(thread: Thread, anchor: str) -> str:
    parts = [f'<section class="thread" id="{anchor}">', f"<h2>Thread <code>{_e(thread.id)}</code></h2>"]
    parts.append(f'<p class="stats">{_e(_counts(thread))}</p>')
    note = _stance_note(thread)
    if note:
        parts.append(f'<p class="notice">{_e(note[0].upper() + note[1:])}.</p>')
    parts.append(_map_figure(thread, anchor))
    parts.append(_message_html(thread.post, f"{anchor}-post", "Original post", None))
    names = {c.id: c.author or "anonymous" for c in thread.comments}
    numbers = {c.id: i for i, c in enumerate(thread.comments, start=1)}  # element ids from positions, not user text
    parts.append('<ol class="comments">')
    for comment, depth in reply_order(thread):
        replying = names.get(comment.reply_to)
        klass = "reply" if depth > 1 else "top"
        parts.append(f'<li class="{klass}" style="--depth:{min(depth, 12)}">')
        parts.append(_message_html(comment, f"{anchor}-c{numbers[comment.id]}", None, replying))
        parts.append("</li>")
    parts.append("</ol>")
    if not thread.comments:
        parts.append('<p class="stats">No comments.</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _message_html(message: Post, anchor: str, heading: str | None, replying: str | None) -> str:
    kind = "post" if heading else "comment"
    who = message.author or ("unknown author" if heading else "anonymous")
    header = [f'<span class="author">{_e(heading + " · " if heading else "")}{_e(who)}</span>']
    if replying is not None:
        header.append(f"<span>↳ replying to {_e(replying)}</span>")
    if kind == "comment" or message.stance is not None:
        header.append(_badge(message.stance))
    code = not_english(message)
    if code:
        header.append(f'<span class="badge lang" title="not English: stance may be unreliable">'
                      f"not English ({_e(code)})</span>")
    claims = sum(1 for c in message.components if component_kind(c) == "claim")
    premises = sum(1 for c in message.components if component_kind(c) == "premise")
    header.append(f'<span class="count">{claims} claim{"s" if claims != 1 else ""} · '
                  f'{premises} premise{"s" if premises != 1 else ""}</span>')
    body, skipped = _highlight(message.text, message.components)
    empty = " empty" if not message.text.strip() else ""
    parts = [
        f'<article class="msg {kind}" id="{anchor}">',
        f"<header>{' '.join(header)}</header>",
        f'<div class="text{empty}">{body if message.text.strip() else "(empty)"}</div>',
    ]
    if skipped:
        listed = "; ".join(f"{_e(c.label)}: {_e(_clip(c.text, 80))}" for c in skipped)
        parts.append(f'<div class="skipped">Overlapping components, not highlighted: {listed}</div>')
    parts.append("</article>")
    return "\n".join(parts)


def _badge(stance: Stance | None) -> str:
    if stance is None:
        return '<span class="badge none">no stance</span>'
    return f'<span class="badge {_badge_class(stance)}"{_unsure_title(stance)}>{_e(_stance_text(stance))}</span>'


def _badge_class(stance: Stance) -> str:
    return "unsure" if is_unsure(stance) else str(polarity(stance))


def _unsure_title(stance: Stance) -> str:
    if not is_unsure(stance):
        return ""
    return f' title="{_e(f"score below --min-stance-score {stance.extra[UNSURE_KEY]}")}"'


def _highlight(text: str, components: Iterable[Component]) -> tuple[str, list[Component]]:
    """The escaped text with each component in a ``<mark>``; components overlapping an earlier one are returned."""
    out: list[str] = []
    skipped: list[Component] = []
    position = 0
    for component in sorted(components, key=lambda c: (c.start, -c.end)):
        if component.start < position:
            skipped.append(component)
            continue
        out.append(_e(text[position : component.start]))
        tip = component.label + (f" {component.score:.2f}" if component.score is not None else "")
        if component.stance is not None:
            tip += f" · stance {_stance_text(component.stance)}"
        out.append(
            f'<mark class="c {component_kind(component)}" title="{_e(tip)}">{_e(text[component.start : component.end])}</mark>'
        )
        if component.stance is not None:
            shown = _e(_stance_text(component.stance))
            out.append(f'<span class="tag {_badge_class(component.stance)}">{shown}</span>')
        position = component.end
    out.append(_e(text[position:]))
    return "".join(out), skipped


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# -- the argument map (inline SVG) ----------------------------------------------------------------

EDGE_COLOURS = {"support": "#15803d", "attack": "#b91c1c", "neutral": "#94a3b8"}
NODE_W = 158  # a comment node; claim nodes sit under it, indented
CLAIM_INDENT = 14
CHANNEL = 34  # the free lane left of each column where edges run up to the post
MARGIN = 14
POST_H = 58
COMMENT_H = 46
CLAIM_H = 38
GAP = 6
ROW_GAP = 26
CHAR_W = 6.2  # about one character at 11.5px in a sans-serif font


@dataclass
class _Node:
    x: float
    y: float
    w: float
    h: float
    stance: Stance | None


def _wrap(text: str, chars: int, lines: int) -> list[str]:
    """Up to ``lines`` lines of at most ``chars`` characters; the last ends in … when text is left over."""
    out: list[str] = []
    current = ""
    for word in text.split():
        if len(word) > chars:
            word = word[: chars - 1] + "…"
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= chars:
            current = candidate
            continue
        out.append(current)
        current = word
        if len(out) == lines:
            last = out[-1]
            out[-1] = (last if len(last) < chars else last[: chars - 1].rstrip()) + "…"
            return out
    if current:
        out.append(current)
    return out


def _svg_text(x: float, y: float, lines: list[str], *, size: float = 11.5, weight: int = 400, fill: str = "#1e293b",
              leading: float = 14) -> str:
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{y + i * leading:.1f}">{_e(line)}</tspan>' for i, line in enumerate(lines)
    )
    return f'<text font-size="{size}" font-weight="{weight}" fill="{fill}">{spans}</text>'


def _map_figure(thread: Thread, anchor: str) -> str:
    comments = list(thread.comments[:MAP_MAX_COMMENTS])
    numbers = {c.id: i for i, c in enumerate(thread.comments, start=1)}
    columns = max(1, min(5, len(comments)))
    width = MARGIN * 2 + columns * (NODE_W + CHANNEL)
    post = _Node(MARGIN, MARGIN, width - 2 * MARGIN, POST_H, None)

    # Place comments row by row, their claims stacked under them.
    nodes: list[tuple[str, Comment, Component | None, _Node]] = []  # (kind, comment, claim, node)
    more: list[tuple[float, float, int]] = []
    y = MARGIN + POST_H + 40
    for row_start in range(0, len(comments), columns):
        row = comments[row_start : row_start + columns]
        tallest = 0.0
        for col, comment in enumerate(row):
            x = MARGIN + col * (NODE_W + CHANNEL) + CHANNEL
            nodes.append(("comment", comment, None, _Node(x, y, NODE_W, COMMENT_H, comment.stance)))
            claims = sorted((c for c in comment.components if component_kind(c) == "claim"), key=lambda c: c.start)
            cy = y + COMMENT_H + GAP
            for claim in claims[:MAP_MAX_CLAIMS]:
                node = _Node(x + CLAIM_INDENT, cy, NODE_W - CLAIM_INDENT, CLAIM_H, claim.stance)
                nodes.append(("claim", comment, claim, node))
                cy += CLAIM_H + GAP
            if len(claims) > MAP_MAX_CLAIMS:
                more.append((x + CLAIM_INDENT, cy + 10, len(claims) - MAP_MAX_CLAIMS))
                cy += 16
            tallest = max(tallest, cy - y)
        y += tallest + ROW_GAP
    height = y - ROW_GAP + MARGIN + 6 if comments else MARGIN * 2 + POST_H + 30

    # Edges run left into the column's channel and straight up to the post; lower nodes take lanes further left,
    # so no edge crosses another's horizontal leg.
    edges: list[str] = []
    lanes: dict[float, int] = {}
    column_of = {}
    for kind, comment, claim, node in nodes:
        column_x = node.x - (CLAIM_INDENT if kind == "claim" else 0)
        column_of[id(node)] = column_x
        if _shown_polarity(node.stance) is not None:
            lanes[column_x] = lanes.get(column_x, 0) + 1
    used: dict[float, int] = {}
    for kind, comment, claim, node in nodes:
        colour_kind = _shown_polarity(node.stance)
        if colour_kind is None:
            continue
        column_x = column_of[id(node)]
        count = lanes[column_x]
        step = min(6.0, (CHANNEL - 12) / max(1, count - 1))
        lane = column_x - 6 - used.get(column_x, 0) * step
        used[column_x] = used.get(column_x, 0) + 1
        start_y = node.y + node.h / 2
        end_y = post.y + post.h + 1  # the arrowhead's tip touches the post
        dash = ' stroke-dasharray="4 3"' if colour_kind == "neutral" else ""
        stroke = 1.4 if colour_kind == "neutral" else 2
        r = 6
        path = (
            f"M{node.x:.1f},{start_y:.1f} H{lane + r:.1f} Q{lane:.1f},{start_y:.1f} {lane:.1f},{start_y - r:.1f} "
            f"V{end_y:.1f}"
        )
        what = "claim" if kind == "claim" else "comment"
        label = _e(f"{what} by {comment.author or 'anonymous'}: {_stance_text(node.stance)}")  # type: ignore[arg-type]
        edges.append(
            f'<path d="{path}" fill="none" stroke="{EDGE_COLOURS[colour_kind]}" stroke-width="{stroke}"{dash} '
            f'marker-end="url(#{anchor}-arrow-{colour_kind})"><title>{label}</title></path>'
        )

    boxes: list[str] = []
    post_lines = _wrap(thread.post.text, int((post.w - 24) / CHAR_W), 2) if thread.post.text.strip() else [
        "(no original post text)"
    ]
    boxes.append(
        f'<a href="#{anchor}-post"><g><title>{_e(_clip(thread.post.text, 600) or "no original post text")}</title>'
        f'<rect x="{post.x}" y="{post.y}" width="{post.w}" height="{post.h}" rx="10" fill="#f1f5f9" '
        f'stroke="#334155" stroke-width="1.5"/>'
        + _svg_text(post.x + 12, post.y + 19, [f"Original post · {thread.post.author or 'unknown author'}"],
                    size=12, weight=700)
        + _svg_text(post.x + 12, post.y + 36, post_lines[:1] + post_lines[1:2], size=11.5, fill="#334155")
        + "</g></a>"
    )
    for kind, comment, claim, node in nodes:
        colour_kind = _shown_polarity(node.stance)
        stroke = EDGE_COLOURS[colour_kind] if colour_kind else "#cbd5e1"
        if kind == "comment":
            number = numbers[comment.id]
            name = _clip(comment.author or "anonymous", 20)
            stance = _stance_text(comment.stance) if comment.stance else "no stance"
            tip = f"#{number} {comment.author or 'anonymous'} ({stance}): {_clip(comment.text, 400)}"
            boxes.append(
                f'<a href="#{anchor}-c{number}"><g><title>{_e(tip)}</title>'
                f'<rect x="{node.x}" y="{node.y}" width="{node.w}" height="{node.h}" rx="8" fill="#ffffff" '
                f'stroke="{stroke}" stroke-width="2"/>'
                + _svg_text(node.x + 10, node.y + 18, [f"#{number} {name}"], size=12, weight=700)
                + _svg_text(node.x + 10, node.y + 35, [stance], size=11.5, weight=600,
                            fill=EDGE_COLOURS[colour_kind] if colour_kind and colour_kind != "neutral" else "#475569")
                + "</g></a>"
            )
        else:
            assert claim is not None
            lines = _wrap(claim.text, int((node.w - 18) / CHAR_W), 2)
            stance = f" · {_stance_text(claim.stance)}" if claim.stance else ""
            tip = f"claim{stance}: {_clip(claim.text, 400)}"
            boxes.append(
                f"<g><title>{_e(tip)}</title>"
                f'<rect x="{node.x}" y="{node.y}" width="{node.w}" height="{node.h}" rx="6" fill="#fef3c7" '
                f'stroke="#f59e0b" stroke-width="1"/>'
                f'<rect x="{node.x}" y="{node.y}" width="5" height="{node.h}" rx="2" fill="{stroke}"/>'
                + _svg_text(node.x + 11, node.y + 15, lines, size=10.5, leading=13)
                + "</g>"
            )
    for x, y_more, count in more:
        boxes.append(_svg_text(x + 4, y_more, [f"+{count} more claim{'s' if count != 1 else ''}"], size=10.5,
                               fill="#64748b"))
    if not comments:
        boxes.append(_svg_text(MARGIN + 12, MARGIN + POST_H + 22, ["no comments"], size=12, fill="#64748b"))

    markers = "".join(
        f'<marker id="{anchor}-arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="5.5" markerHeight="5.5" '
        f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        for name, colour in EDGE_COLOURS.items()
    )
    label = _e(f"Argument map of thread {thread.id}: comments and their claims, with edges to the post by stance")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{label}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, DejaVu Sans, Arial, sans-serif">'
        f"<defs>{markers}</defs>" + "".join(edges) + "".join(boxes) + "</svg>"
    )
    shown = len(comments)
    caption = "Each comment (and each of its claims, in yellow, under it) is linked to the original post by its stance."
    if len(thread.comments) > shown:
        caption += f" The first {shown} of {len(thread.comments)} comments are drawn; all are listed below."
    return f'<figure class="map">{svg}<figcaption>{_e(caption)}</figcaption></figure>'
