"""The copied-comment-page reader, on small pages we invent in the style of a Substack copy."""

from __future__ import annotations

import logging

import pytest

from argmine.errors import CorpusFormatError, InputError
from argmine.readers.text import parse_text_page, read_text_page

# Every kind of chrome in one page: count line, the reader's own avatar, name line, age lines
# ("3h", "Sep 12", "2dEdited"), like/reply/share counters, bare like counts, a curly apostrophe.
PAGE = """4 Comments
User's avatar
Wren Alder's avatar
Wren Alder
3h

Bridges cost less than ferries over twenty years.

That is the whole argument, and the council ignored it.

Expand full comment
Like (3)
Reply
Share
2 replies
Osric Fenn's avatar
Sep 12

Ferries can move when the town grows; a bridge cannot.

Expand full comment
12
Reply
Share
Jo Mbeki’s avatar
2dEdited

Não é só uma questão de custo — é também de tempo.

Expand full comment
Pia Lund's avatar

Short one.

Expand full comment
1 reply
"""

BODIES = [
    "Bridges cost less than ferries over twenty years.\n\nThat is the whole argument, and the council ignored it.",
    "Ferries can move when the town grows; a bridge cannot.",
    "Não é só uma questão de custo — é também de tempo.",
    "Short one.",
]
CHROME = ("Expand full comment", "avatar", "Like (3)", "Reply", "Share", "replies", "2dEdited", "Sep 12", "3h")


def test_every_comment_with_author_and_exact_body() -> None:
    thread = parse_text_page(PAGE, post="The council should build a bridge.")
    assert [c.author for c in thread.comments] == ["Wren Alder", "Osric Fenn", "Jo Mbeki", "Pia Lund"]
    assert [c.text for c in thread.comments] == BODIES
    for comment in thread.comments:
        assert not any(chrome in comment.text for chrome in CHROME), comment.text
    assert thread.meta["declared_comment_count"] == 4
    assert thread.meta["skipped_avatars"] == [{"line": 2, "name": "User"}]
    assert "unparsed" not in thread.meta


def test_age_and_edited_lines_go_to_meta() -> None:
    comments = parse_text_page(PAGE).comments
    assert comments[0].meta["age"] == "3h" and comments[0].meta["edited"] is False
    assert comments[1].meta["age"] == "Sep 12"
    assert comments[2].meta["age"] == "2d" and comments[2].meta["edited"] is True
    assert "age" not in comments[3].meta


def test_offsets_point_into_the_page() -> None:
    thread = parse_text_page(PAGE)
    lines = PAGE.split("\n")
    for comment in thread.comments:
        offset = comment.meta["offset"]
        assert PAGE[offset: offset + len(comment.text)] == comment.text
        assert lines[comment.meta["line"] - 1] == comment.text.split("\n")[0]


def test_windows_line_endings_read_the_same() -> None:
    plain = parse_text_page(PAGE)
    crlf = parse_text_page("\ufeff" + PAGE.replace("\n", "\r\n"))
    assert [c.text for c in crlf.comments] == BODIES
    assert [c.to_dict() for c in crlf.comments] == [c.to_dict() for c in plain.comments]
    assert not any("\r" in c.text for c in crlf.comments)


def test_missing_final_expand_line_and_trailing_chrome() -> None:
    page = (
        "Ama Osei's avatar\n\nFirst body.\n\nExpand full comment\n"
        "Lin Park's avatar\n3h\n\nLast body, never expanded.\n\nSecond paragraph.\n\nReply\nShare\n4\n"
    )
    thread = parse_text_page(page)
    assert [c.text for c in thread.comments] == ["First body.", "Last body, never expanded.\n\nSecond paragraph."]


def test_no_expand_lines_at_all_splits_on_avatar_lines() -> None:
    page = "Ama Osei's avatar\n\nOne.\n\nLin Park's avatar\n\nTwo.\n\nThe answer is\n\n42\n"
    thread = parse_text_page(page)
    assert [(c.author, c.text) for c in thread.comments] == [
        ("Ama Osei", "One."),
        ("Lin Park", "Two.\n\nThe answer is\n\n42"),
    ]


def test_an_avatar_phrase_inside_a_paragraph_does_not_split_the_comment() -> None:
    page = (
        "Ama Osei's avatar\n\nI keep staring at\nLin Park's avatar\nbecause it is a lighthouse.\n\n"
        "Expand full comment\n"
    )
    thread = parse_text_page(page)
    assert len(thread.comments) == 1
    assert thread.comments[0].text == "I keep staring at\nLin Park's avatar\nbecause it is a lighthouse."


def test_unknown_lines_between_comments_are_reported_not_read(caplog: pytest.LogCaptureFixture) -> None:
    page = (
        "Ama Osei's avatar\n\nOne.\n\nExpand full comment\n"
        "Something the reader does not know\n"
        "Lin Park's avatar\n\nTwo.\n"
    )
    with caplog.at_level(logging.WARNING, logger="argmine.readers.text"):
        thread = parse_text_page(page, source="page.txt", post="P")
    assert [c.text for c in thread.comments] == ["One.", "Two."]
    assert thread.meta["unparsed"] == [{"line": 6, "text": "Something the reader does not know"}]
    assert any("not recognised" in r.getMessage() and "page.txt" in r.getMessage() for r in caplog.records)


def test_declared_count_mismatch_is_warned(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="argmine.readers.text"):
        thread = parse_text_page("9 Comments\nAma Osei's avatar\n\nOne.\n\nExpand full comment\n", post="P")
    assert thread.meta["declared_comment_count"] == 9
    assert any("announces 9 comments but 1" in r.getMessage() for r in caplog.records)


def test_without_post_the_thread_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="argmine.readers.text"):
        thread = parse_text_page(PAGE, source="page.txt")
    assert thread.post.text == ""
    assert thread.meta["post_provided"] is False
    assert any("no original post" in r.getMessage() for r in caplog.records)


def test_with_post() -> None:
    post = "\r\nThe council should\r\nbuild a bridge.\n"
    thread = parse_text_page(PAGE, post=post, post_author="Mayor", thread_id="t1")
    assert thread.id == "t1"
    assert thread.post.text == "The council should\nbuild a bridge."
    assert thread.post.author == "Mayor"
    assert thread.meta["post_provided"] is True
    with pytest.raises(InputError, match="post text is empty"):
        parse_text_page(PAGE, post="  \n")


# -- reply links ---------------------------------------------------------------


def _page(*comments: tuple[str, str]) -> str:
    return "".join(f"{author}'s avatar\n\n{body}\n\nExpand full comment\n" for author, body in comments)


def test_no_signal_means_reply_to_the_post() -> None:
    thread = parse_text_page(PAGE, post="The council should build a bridge.")
    assert all(c.reply_to == thread.post.id for c in thread.comments)
    assert all("reply_signal" not in c.meta for c in thread.comments)


def test_back_and_forth_links_the_exchange() -> None:
    thread = parse_text_page(_page(("Ama", "Tolls would pay for it."), ("Lin", "Tolls hurt commuters."),
                                   ("Ama", "Commuters already pay ferry fares."), ("Sol", "Unrelated point.")))
    ids = [c.id for c in thread.comments]
    assert [c.reply_to for c in thread.comments] == ["post", ids[0], ids[1], "post"]
    assert thread.comments[1].meta["reply_signal"] == "exchange"


def test_a_quote_of_the_previous_comment_links_it() -> None:
    thread = parse_text_page(
        _page(
            ("Ama", "The ferry is a floating tax on the poor."),
            ("Lin", "Calling it “a floating tax” is unfair."),
        ),
        post="Bridge or ferry?",
    )
    assert thread.comments[1].reply_to == thread.comments[0].id
    assert thread.comments[1].meta["reply_signal"] == "quote"


def test_a_short_quote_or_a_quote_of_the_post_does_not_link() -> None:
    comments = (
        ("Ama", "The bridge will last a century at least."),
        ("Lin", "A “century at least” is what the post claims."),
    )
    linked = parse_text_page(_page(*comments), post="Bridge or ferry?")
    assert linked.comments[1].reply_to == linked.comments[0].id
    from_post = parse_text_page(_page(*comments), post="Built well, the bridge will last a century at least.")
    assert from_post.comments[1].reply_to == "post"
    short = parse_text_page(_page(("Ama", "It is a floating tax."), ("Lin", "Not “a tax” at all.")), post="P")
    assert short.comments[1].reply_to == "post"


def test_addressing_the_previous_author_links_it() -> None:
    page = _page(("Ama Osei", "One."), ("Lin", "Ama Osei, I disagree."), ("Sol", "As @Lin said."))
    thread = parse_text_page(page, post="P")
    assert [c.reply_to for c in thread.comments] == ["post", "c1", "c2"]
    assert [c.meta.get("reply_signal") for c in thread.comments] == [None, "mention", "mention"]


def test_reply_inference_can_be_switched_off() -> None:
    page = _page(("Ama", "One."), ("Lin", "Two."), ("Ama", "Three."))
    thread = parse_text_page(page, post="P", infer_replies=False)
    assert all(c.reply_to == "post" for c in thread.comments)
    assert thread.meta["reply_rule"] == "all-to-post"


# -- bad input -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "  \n\r\n\t\n"])
def test_empty_page_is_an_error(text: str) -> None:
    with pytest.raises(CorpusFormatError, match="empty comment page"):
        parse_text_page(text, source="empty.txt")


def test_plain_text_without_chrome_is_an_error() -> None:
    with pytest.raises(CorpusFormatError, match="no comment found") as error:
        parse_text_page("Bridges are good.\n\nFerries are bad.\n", source="plain.txt")
    assert "plain.txt" in str(error.value)


def test_expand_lines_without_avatars_is_an_error_that_says_why() -> None:
    with pytest.raises(CorpusFormatError, match="no \"NAME's avatar\" lines"):
        parse_text_page("Ama Osei\n3h\n\nOne.\n\nExpand full comment\nLin\n\nTwo.\n\nExpand full comment\n")


def test_read_text_page_from_a_file(tmp_path) -> None:
    path = tmp_path / "my-page.txt"
    path.write_bytes(PAGE.replace("\n", "\r\n").encode("utf-8"))
    thread = read_text_page(path, post="The council should build a bridge.")
    assert thread.id == "my-page"
    assert [c.text for c in thread.comments] == BODIES
    assert thread.meta["source"] == str(path)


def test_file_errors(tmp_path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(CorpusFormatError, match="empty comment page") as error:
        read_text_page(empty)
    assert str(empty) in str(error.value)

    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(CorpusFormatError, match="binary"):
        read_text_page(binary)

    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Ama's avatar\n\nN\xe3o.\n".encode("latin-1"))
    with pytest.raises(CorpusFormatError, match="not valid UTF-8"):
        read_text_page(latin)

    with pytest.raises(CorpusFormatError, match="no such file"):
        read_text_page(tmp_path / "missing.txt")


# -- quoted headers, chrome-only pages, other platforms (issue 17, item 6) ----------------------------


def test_a_quoted_avatar_line_stays_in_the_comment_that_quotes_it() -> None:
    # Ama pastes a header line of Lin's into her comment; Substack ends each comment with "Expand full comment",
    # so a header before Ama's own Expand line is her text, not a new comment.
    page = (
        "Ama Osei's avatar\n\nLin wrote this earlier:\n\nLin Park's avatar\n\nBridges are a waste.\n\n"
        "I disagree.\n\nExpand full comment\n"
        "Sol Reyes's avatar\n\nSecond.\n\nExpand full comment\n"
        "Tam Ng's avatar\n\nLast, never expanded.\n"
    )
    thread = parse_text_page(page, post="P")
    assert [c.author for c in thread.comments] == ["Ama Osei", "Sol Reyes", "Tam Ng"]
    quoted = "Lin wrote this earlier:\n\nLin Park's avatar\n\nBridges are a waste.\n\nI disagree."
    assert thread.comments[0].text == quoted
    assert thread.comments[0].meta["quoted_header_lines"] == [5]
    assert thread.comments[2].text == "Last, never expanded."


def test_a_page_without_comments_says_no_comment_found() -> None:
    # The reader's own avatar over the comment box, and the sort buttons: no comment at all.
    page = "3 Comments\nUser's avatar\n\nWrite a comment…\n\nTop\nLatest\nDiscussion about this post\n"
    with pytest.raises(CorpusFormatError, match="no comment found: the page holds only its own chrome") as error:
        parse_text_page(page, source="empty-page.txt", post="P")
    assert str(error.value).startswith("empty-page.txt: ")
    assert "\n" not in str(error.value)


def test_the_comment_box_is_chrome_not_a_comment() -> None:
    page = "User's avatar\n\nWrite a comment…\n\nTop\nLatest\nAma Osei's avatar\n\nOne.\n\nExpand full comment\n"
    thread = parse_text_page(page, post="P")
    assert [(c.author, c.text) for c in thread.comments] == [("Ama Osei", "One.")]
    assert thread.meta["skipped_avatars"] == [{"line": 1, "name": "User", "reason": "only page chrome"}]


DISQUS = """12 Comments
Ferry Town Gazette
Login
Favorite 3
Tweet
Share
Sort by Best
Join the discussion…

Log in with
or sign up with Disqus ?
Name
Avatar
Ama Osei
• 3 years ago

Bridges cost less than ferries.

5
•
Reply
•
Share ›
Avatar
Lin Park
• 2 years ago edited

Ferries can move.

Reply
•
Share ›
Load more comments
Powered by Disqus
"""
REDDIT = """Comments Section
Sort by:
Best
Search Comments
Expand comment search
u/ama_osei avatar
ama_osei
•
3h ago

Bridges cost less than ferries.

12
Reply
Award
Share
u/lin-park avatar
lin-park
•
2h ago
Edited 1h ago

Ferries can move.

3
Reply
Award
Share
"""
YOUTUBE = """1,204 Comments
Sort by
Add a comment...
@amaosei
3 years ago
Bridges cost less than ferries.
112
Reply
3 replies
@lin.park
2 years ago (edited)
Ferries can move.

And they are cheap.
4
Reply
"""


@pytest.mark.parametrize(
    "page, authors, second, unparsed",
    [
        (DISQUS, ["Ama Osei", "Lin Park"], "Ferries can move.", ["Ferry Town Gazette"]),
        (REDDIT, ["ama_osei", "lin-park"], "Ferries can move.", []),
        (YOUTUBE, ["@amaosei", "@lin.park"], "Ferries can move.\n\nAnd they are cheap.", []),
    ],
    ids=["disqus", "reddit", "youtube"],
)
def test_other_platforms_as_copied_from_a_browser(page: str, authors: list[str], second: str, unparsed: list) -> None:
    thread = parse_text_page(page, post="P")
    assert [c.author for c in thread.comments] == authors
    assert [c.text for c in thread.comments] == ["Bridges cost less than ferries.", second]
    assert thread.comments[1].meta["edited"] is True
    assert [u["text"] for u in thread.meta.get("unparsed", [])] == unparsed
    # Nothing vanishes: every non-blank line is in a body, listed as unparsed, or counted as skipped chrome.
    in_bodies = sum(1 for c in thread.comments for line in c.text.split("\n") if line.strip())
    non_blank = sum(1 for line in page.split("\n") if line.strip())
    assert in_bodies + len(unparsed) + thread.meta["skipped_chrome_lines"] == non_blank


def test_skipped_chrome_is_counted_in_meta_and_in_stats() -> None:
    from argmine.cli.stats import format_stats, thread_stats

    thread = parse_text_page(PAGE, post="The council should build a bridge.")
    # count line, 5 avatar lines, name and age lines (4), Expand lines (4), footers (Like, Reply, Share,
    # 2 replies, 12, Reply, Share, 1 reply)
    assert thread.meta["skipped_chrome_lines"] == 1 + 5 + 4 + 4 + 8
    stats = thread_stats([thread])
    assert stats["text_pages"] == {
        "chrome_lines_skipped": 22, "unparsed_lines": 0, "avatars_skipped": 1, "inferred_replies": 0,
    }
    assert "22 chrome lines skipped" in format_stats(stats)


# -- inferred reply links are marked, and can be switched off from the CLI (issue 18, item 8) ------------


def test_inferred_reply_links_are_marked_as_inferred() -> None:
    thread = parse_text_page(_page(("Ama", "One."), ("Lin", "Two."), ("Ama", "Three.")), post="P")
    assert [c.meta.get("reply_inferred", False) for c in thread.comments] == [False, True, True]
    assert thread.meta["reply_rule"] == "adjacent-signals"


def test_replies_option_of_read_threads_and_the_commands(tmp_path, capsys) -> None:
    import json

    from argmine.cli import main
    from argmine.readers import read_threads

    path = tmp_path / "page.txt"
    path.write_text(_page(("Ama", "One."), ("Lin", "Two."), ("Ama", "Three.")), encoding="utf-8")
    (inferred,) = read_threads("text", path, post="P")
    (flat,) = read_threads("text", path, post="P", replies="flat")
    assert [c.reply_to for c in inferred.comments] == ["post", "c1", "c2"]
    assert [c.reply_to for c in flat.comments] == ["post", "post", "post"]
    with pytest.raises(InputError, match="format 'jsonl' takes no replies option"):
        read_threads("jsonl", path, replies="flat")

    out = tmp_path / "flat.jsonl"
    assert main(["convert", "--format", "text", str(path), str(out), "--post", "P", "--replies", "flat"]) == 0
    converted = json.loads(out.read_text(encoding="utf-8"))
    assert [c["reply_to"] for c in converted["comments"]] == ["post", "post", "post"]
    assert converted["meta"]["reply_rule"] == "all-to-post"
    capsys.readouterr()
    assert main(["convert", "--format", "jsonl", str(out), str(tmp_path / "x.jsonl"), "--replies", "flat"]) == 2
    assert "takes no replies option" in capsys.readouterr().err
    # argmine mine passes the option on too (refused here for JSONL before any model loads)
    assert main(["mine", str(out), "--replies", "flat"]) == 2
    assert "takes no replies option" in capsys.readouterr().err
