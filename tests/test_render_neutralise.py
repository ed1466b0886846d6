"""Control characters in user text are shown, never obeyed, in everything rendered for people (issue 17, item 4).

ESC]2;…BEL retitles a terminal, ESC[2J clears it, U+202E reverses the text after it: none of them may reach
a terminal or a page raw. JSON keeps every character exact.
"""

from __future__ import annotations

import json

from argmine.rendering import to_html, to_markdown, to_text_summary
from argmine.evaluation.disagreements import ErrorRow
from argmine.rendering.errors_page import render_errors_html
from argmine.thread import Comment, Post, Stance, Thread, make_component

RETITLE = "\x1b]2;pwned\x07"
CLEAR = "\x1b[2J"
RLO = "\u202e"
CONTROLS = ("\x1b", "\x07", "\x9b", "\x00", "\x08", "\r", RLO, "\u2066", "\u200f")


def hostile_thread() -> Thread:
    text = f"{RETITLE}We must act{CLEAR}. Because\x08\x08 {RLO}gpj.exe and\x9b31m C1 and \x00 and\rover."
    claim = make_component(text, 0, len(RETITLE) + 11, "Claim", "c1.c1", score=0.9, stance=Stance("attack", 0.7))
    return Thread(
        id=f"t{CLEAR}1",
        post=Post(id="op", author=f"op{RETITLE}", text=f"Ban cars{RLO}.\nSecond line\tafter a tab."),
        comments=[
            Comment(id="c1", author=f"{RLO}evil\u2066", reply_to="op", text=text, components=[claim],
                    stance=Stance("support", 0.5)),
            Comment(id="c2", author="\u200fEve\x1b[31m", reply_to="c1", text="plain reply", stance=None),
        ],
    )


def assert_neutral(rendered: str, *, keep_cr: bool = False) -> None:
    for char in CONTROLS:
        if char == "\r" and keep_cr:
            continue
        assert char not in rendered, f"{char!r} reached the output raw"


def test_text_summary_shows_control_characters_as_escapes() -> None:
    out = to_text_summary(hostile_thread())
    assert_neutral(out)
    assert "\\x1b]2;pwned\\x07" in out and "\\x1b[2J" in out and "\\u202eevil\\u2066" in out and "\\u200fEve" in out
    assert "\n" in out  # the layout's own newlines stay


def test_markdown_shows_control_characters_as_escapes() -> None:
    out = to_markdown(hostile_thread())
    assert_neutral(out)
    assert "\\x1b" in out and "\\u202e" in out and "\\x9b" in out and "\\x00" in out and "\\r" in out
    assert "Second line\tafter a tab" in out  # tabs and line breaks of the text are kept


def test_html_page_shows_control_characters_and_bidi_overrides_as_escapes() -> None:
    page = to_html(hostile_thread())
    assert_neutral(page, keep_cr=True)  # a carriage return is a newline to an HTML parser
    assert "\\u202eevil" in page and "\\x1b]2;pwned\\x07" in page
    assert "Ban cars\\u202e." in page  # in the argument map (SVG) and the post alike


def test_errors_page_shows_control_characters_as_escapes() -> None:
    thread = hostile_thread()
    rows = [ErrorRow(thread.id, m, m, m.id == "op", ("stance x → y",)) for m in thread.messages()]
    page = render_errors_html(rows, labels=["Claim"], kind="components", title=f"t{RETITLE}")
    assert_neutral(page, keep_cr=True)
    assert "\\x1b]2;pwned\\x07" in page


def test_json_stays_exact() -> None:
    thread = hostile_thread()
    again = Thread.from_dict(json.loads(json.dumps(thread.to_dict(), ensure_ascii=False)))
    assert again.comments[0].text == thread.comments[0].text and again.comments[0].author == f"{RLO}evil\u2066"


def test_visible_keeps_ordinary_text() -> None:
    from argmine.rendering import visible

    text = "Ünïcödé, emoji 🙂, Arabic مرحبا, Hebrew שלום, CJK 中文\n\tindented"
    assert visible(text) == text and visible(text, for_html=True) == text
    assert visible("a\r\nb") == "a\\r\nb" and visible("a\r\nb", for_html=True) == "a\r\nb"
