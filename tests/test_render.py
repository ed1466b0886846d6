"""Renderers on hand-built threads: escaping (nothing a comment says can run), highlights, badges, map, tree order."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from argmine.rendering import MAP_MAX_COMMENTS, polarity, reply_order, to_html, to_markdown, to_text_summary
from argmine.thread import Comment, Post, Stance, Thread, make_component

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</textarea><iframe src=javascript:alert(1)></iframe>",
    "<a href='javascript:alert(1)' onclick=alert(1)>click</a>",
    "]]><!-- --><style>body{display:none}</style>",
]


def evil_thread() -> Thread:
    """Every user-controlled field carries markup; one component even sits inside the markup."""
    text = "We must act. " + " ".join(ATTACKS) + " Because it hurts."
    claim = make_component(text, 0, 12, "Claim", "c1.c1", score=0.9, stance=Stance("attack", 0.7))
    inside = text.index("<img")
    markup = make_component(text, inside, inside + 24, "Premise", "c1.c2", score=0.6)
    label = make_component(text, text.index("Because"), len(text), "<b onclick=x>Label</b>", "c1.c3")
    return Thread(
        id='t"><script>alert(1)</script>',
        post=Post(id="op", author="<img src=x onerror=alert(2)>", text="<script>alert('post')</script> Ban cars."),
        comments=[
            Comment(id="c1", author="<script>alert(3)</script>", reply_to="op", text=text,
                    components=[claim, markup, label], stance=Stance("<i onmouseover=y>support</i>", 0.5)),
            Comment(id="c2", author='Eve" onmouseover="alert(4)', reply_to="c1", text="<b onclick=alert(5)>no</b>",
                    stance=Stance("support", 0.8)),
        ],
    )


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value) for name, value in attrs]

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    parser.close()
    return parser


def test_html_has_no_script_and_no_event_handler_whatever_the_users_wrote():
    page = to_html([evil_thread()])
    elements = parse(page)
    assert "script" not in elements.tags
    assert "iframe" not in elements.tags and "img" not in elements.tags and "b" not in elements.tags
    assert [a for a in elements.attributes if a[1].lower().startswith("on")] == []
    assert not any(value and "javascript:" in value for _, _, value in elements.attributes)
    # the markup is shown as text instead
    shown = "".join(elements.text)
    for attack in ATTACKS:
        assert attack in shown
        assert html.escape(attack, quote=True) in page
    assert "<script>alert(3)</script>" in shown and 'Eve" onmouseover="alert(4)' in shown
    # only our own <style> element exists: the planted one is text
    assert elements.tags.count("style") == 1


def test_html_is_self_contained():
    page = to_html([evil_thread()])
    elements = parse(page)
    assert not any(name in ("src", "srcset") for _, name, _ in elements.attributes)
    assert "link" not in elements.tags and "@import" not in page and "url(http" not in page
    # the only URL is the SVG namespace (a name, never fetched)
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) <= {"http://www.w3.org/2000/svg"}
    csp = [v for t, n, v in elements.attributes if t == "meta" and n == "content" and v and "default-src" in v]
    assert csp and "default-src 'none'" in csp[0] and "script-src" not in csp[0]
    hrefs = [v for _, n, v in elements.attributes if n == "href"]
    assert hrefs and all(v.startswith("#") for v in hrefs)  # in-page links only


def market_thread() -> Thread:
    post = "The council should open a weekend market in the old car park."
    a = "Good idea. The car park is always half empty, so the space is wasted."
    b = "It will hurt the shops. Customers need to park near them."
    c = "I don't mind either way."
    d = "Parking is free at the station, which is close."
    return Thread(
        id="market",
        post=Post(id="op", author="Council", text=post,
                  components=[make_component(post, 0, len(post), "Claim", "op.c1", score=0.8)]),
        comments=[
            Comment(id="a", author="Ann", reply_to="op", text=a, stance=Stance("support", 0.91), components=[
                make_component(a, 0, 10, "Claim", "a.c1", score=0.88, stance=Stance("support", 0.7)),
                make_component(a, 11, 44, "Premise", "a.c2", score=0.75),
            ]),
            Comment(id="b", author="Ben", reply_to="op", text=b, stance=Stance("attack", 0.8), components=[
                make_component(b, 0, 22, "Claim", "b.c1", score=0.6, stance=Stance("attack", 0.65)),
                make_component(b, 24, 56, "Premise", "b.c2", score=0.5),
            ]),
            Comment(id="c", author="Cai", reply_to="op", text=c, stance=Stance("none", 0.6)),
            Comment(id="d", author="Dee", reply_to="b", text=d, stance=Stance("support", 0.55)),
            Comment(id="e", author=None, reply_to="d", text="", stance=None),
        ],
    )


def test_html_highlights_components_and_shows_stance_badges():
    page = to_html(market_thread())
    assert '<mark class="c claim" title="Claim 0.88 · stance support 0.70">Good idea.</mark>' in page
    assert '<mark class="c premise" title="Premise 0.75">The car park is always half empty</mark>' in page
    assert '<span class="badge support">support 0.91</span>' in page
    assert '<span class="badge attack">attack 0.80</span>' in page
    assert '<span class="badge neutral">none 0.60</span>' in page
    assert '<span class="badge none">no stance</span>' in page  # the empty comment
    assert '<span class="tag attack">attack 0.65</span>' in page  # Ben's claim
    legend = page[page.index('<div class="legend">') : page.index("</header>")]
    assert '<mark class="c claim">claim</mark>' in legend and '<mark class="c premise">premise</mark>' in legend
    assert "support" in legend and "attack" in legend


def test_html_reply_tree_is_indented_in_order():
    page = to_html(market_thread())
    order = re.findall(r'<li class="(top|reply)" style="--depth:(\d+)">\s*<article class="msg comment" id="t1-c(\d)"',
                       page)
    # Dee replies to Ben and the empty comment to Dee: they follow Ben, before Cai
    assert order == [("top", "1", "1"), ("top", "1", "2"), ("reply", "2", "4"), ("reply", "3", "5"), ("top", "1", "3")]
    assert "↳ replying to Ben" in page


def test_argument_map_draws_one_edge_per_stance_coloured_by_polarity():
    page = to_html(market_thread())
    svg = page[page.index("<svg") : page.index("</svg>")]
    edges = re.findall(r'<path d="M[^"]*" fill="none" stroke="(#[0-9a-f]+)" stroke-width="[\d.]+"( stroke-dasharray)?',
                       svg)
    green, red, grey = "#15803d", "#b91c1c", "#94a3b8"
    # support: Ann, Ann's claim, Dee; attack: Ben, Ben's claim; neutral: Cai; none for the empty comment
    assert sorted(colour for colour, _ in edges) == sorted([green, green, green, red, red, grey])
    assert all(dashed for colour, dashed in edges if colour == grey)
    assert svg.count('fill="#fef3c7"') == 2  # two claim nodes
    assert "Original post · Council" in svg and "#1 Ann" in svg and "#5 anonymous" in svg
    assert 'href="#t1-c2"' in svg  # a node links to its comment


def test_argument_map_caps_comments_but_the_list_keeps_all():
    many = Thread(
        id="big",
        post=Post(id="p", author=None, text="A post."),
        comments=[Comment(id=f"c{i}", author=f"u{i}", reply_to="p", text=f"comment {i}", stance=Stance("support", 0.5))
                  for i in range(MAP_MAX_COMMENTS + 5)],
    )
    page = to_html(many)
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count("<rect") == MAP_MAX_COMMENTS + 1  # comment nodes + the post
    assert f"The first {MAP_MAX_COMMENTS} of {MAP_MAX_COMMENTS + 5} comments are drawn" in page
    assert page.count('<article class="msg comment"') == MAP_MAX_COMMENTS + 5


def _overlapping_thread() -> Thread:
    """One comment whose second component starts inside its first."""
    text = "alpha beta gamma"
    return Thread(
        id="o",
        post=Post(id="p", author=None, text="post"),
        comments=[Comment(id="c", author=None, reply_to="p", text=text, components=[
            make_component(text, 0, 10, "Claim", "x"), make_component(text, 6, 16, "Premise", "y")])],
    )


def test_overlapping_components_are_listed_not_nested():
    thread = _overlapping_thread()
    page = to_html(thread)
    assert '<mark class="c claim" title="Claim">alpha beta</mark> gamma' in page
    assert "Overlapping components, not highlighted: Premise: beta gamma" in page


def test_errors_html_marks_overlapping_components_by_the_same_rule() -> None:
    from argmine.evaluation.disagreements import error_rows
    from argmine.rendering.errors_page import render_errors_html

    thread = _overlapping_thread()
    rows, _ = error_rows([thread], [thread], kind="components")
    page = render_errors_html(rows, labels=["Claim", "Premise"], kind="components", title="t")
    # the first component is marked whole, the one starting inside it is not marked but stays in the span list
    assert '<sup class="lab">Claim</sup><mark class="l0" title="Claim">alpha beta</mark> gamma</div>' in page
    assert "<li>Premise [6, 16): beta gamma</li>" in page


def test_every_html_page_inlines_the_one_stylesheet() -> None:
    from importlib.resources import files

    from argmine.evaluation.disagreements import error_rows
    from argmine.rendering.errors_page import render_errors_html

    css = files("argmine.rendering").joinpath("style.css").read_text(encoding="utf-8")
    thread = market_thread()
    errors = render_errors_html(error_rows([thread], [thread], kind="stance")[0], labels=["Claim"], kind="stance",
                                title="t")
    for page in (to_html(thread), errors):
        assert f"<style>\n{css}</style>" in page


def test_several_threads_one_page_with_unique_ids():
    page = to_html([market_thread(), evil_thread()])
    ids = [v for _, n, v in parse(page).attributes if n == "id"]
    assert len(ids) == len(set(ids))
    assert page.count('<section class="thread"') == 2 and '<nav class="toc">' in page


def test_text_summary_lists_comments_by_depth_with_stance_and_components():
    summary = to_text_summary(market_thread())
    lines = summary.splitlines()
    assert lines[0].startswith("thread market: 5 comments")
    assert 'post by Council: "The council should open' in summary
    assert '  - Ann [a]: support 0.91' in lines
    assert '      claim (0.88; support 0.70): "Good idea."' in lines
    assert '      premise (0.75): "The car park is always half empty"' in lines
    assert '    - Dee [d]: support 0.55' in lines  # a reply to Ben: one level deeper
    assert '      - (anonymous) [e]: no stance (empty comment)' in lines
    assert lines.index('  - Ben [b]: attack 0.80') < lines.index('    - Dee [d]: support 0.55') < lines.index(
        '  - Cai [c]: none 0.60')


def test_text_summary_notes_a_missing_post_and_no_comments():
    thread = Thread(id="page", post=Post(id="p", author=None, text=""), meta={"mined": {"stance": "not predicted: x"}})
    summary = to_text_summary(thread)
    assert "(no original post text)" in summary and "(no comments)" in summary
    assert "note: stance not predicted: x (give the post" in summary


def test_markdown_escapes_markup_and_nests_replies():
    md = to_markdown(evil_thread())
    assert re.findall(r"(?<!\\)<", md) == []  # every "<" is backslash-escaped
    quoted = re.findall(r"^\s*>.*", md, re.MULTILINE)
    assert quoted and all(line.lstrip().startswith("> ") for line in quoted)  # our blockquotes, nothing else
    assert r"\<script\>alert(1)\</script\>" in md
    market = to_markdown(market_thread())
    assert "- **Ann** \\[a\\] · **support 0.91**" in market
    assert "  - **Dee** \\[d\\] · **support 0.55**" in market  # nested under Ben
    assert "  - *Claim* (0.88; support 0.70): Good idea." in market
    assert "> The council should open a weekend market in the old car park." in market


def test_reply_order_visits_every_comment_once():
    thread = market_thread()
    visited = list(reply_order(thread))
    assert sorted(c.id for c, _ in visited) == sorted(c.id for c in thread.comments)
    assert [(c.id, d) for c, d in visited] == [("a", 1), ("b", 1), ("d", 2), ("e", 3), ("c", 1)]


@pytest.mark.parametrize(
    ("label", "expected"),
    [("support", "support"), ("Attack", "attack"), ("deny", "attack"), ("query", "neutral"), ("none", "neutral")],
)
def test_polarity(label, expected):
    assert polarity(Stance(label)) == expected
    assert polarity(None) is None


def test_non_english_text_is_kept_verbatim():
    text = "Мы против. 我们反对。 Nous sommes contre — ça coûte cher. 👎"
    thread = Thread(id="i18n", post=Post(id="p", author="Zoë", text="Post"),
                    comments=[Comment(id="c", author="Łukasz", reply_to="p", text=text, stance=Stance("attack", 0.9))])
    page = to_html(thread)
    assert html.escape(text) in page and "Łukasz" in page and '<meta charset="utf-8">' in page
    assert text in to_markdown(thread).replace("\\", "") and "Łukasz" in to_text_summary(thread)


def test_markdown_keeps_line_starts_literal_inside_quotes():
    text = "# not a heading\n1. not a list\n- not an item\nplain 2. here"
    thread = Thread(id="md", post=Post(id="p", author=None, text="Post"),
                    comments=[Comment(id="c", author="a_b*", reply_to="p", text=text, stance=Stance("none", 0.5))])
    md = to_markdown(thread)
    assert "  > \\# not a heading\n  > 1\\. not a list\n  > \\- not an item\n  > plain 2. here" in md
    assert "**a\\_b\\***" in md  # the author's markup characters are escaped too
