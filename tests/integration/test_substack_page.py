"""The copied Substack page beside the corpora, read as a user would read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from argmine.readers.text import read_text_page

pytestmark = pytest.mark.integration

AUTHORS = [
    "American Nobody",
    "Giorgio Taverniti",
    "Madame Publius",
    "rakyat kecil",
    "Madame Publius",
    "Prisoner of parasite existence",
    "Dara",
    "Summa Neutra",
    "yuri zhivago",
    "Kevin Maher",
    "Robin Kayt Kayt",
]
CHROME = ("Expand full comment", "'s avatar", "’s avatar", "2dEdited", "11 Comments")


def test_eleven_comments_by_the_right_authors(substack_page: Path) -> None:
    thread = read_text_page(substack_page)
    assert len(thread.comments) == 11
    assert [c.author for c in thread.comments] == AUTHORS
    assert thread.meta["declared_comment_count"] == 11
    assert thread.meta["post_provided"] is False and thread.post.text == ""
    assert "unparsed" not in thread.meta


def test_no_chrome_in_any_body_and_bodies_are_page_text(substack_page: Path) -> None:
    thread = read_text_page(substack_page)
    page = substack_page.read_text(encoding="utf-8")
    for comment in thread.comments:
        assert comment.text and comment.text == comment.text.strip()
        assert not any(chrome in comment.text for chrome in CHROME), comment.author
        offset = comment.meta["offset"]
        assert page[offset: offset + len(comment.text)] == comment.text
    assert thread.comments[6].meta["age"] == "2d" and thread.comments[6].meta["edited"] is True
    multi = [c for c in thread.comments if "\n\n" in c.text]
    assert len(multi) == 4  # the comments of several paragraphs keep their paragraph breaks


def test_portuguese_comment_is_intact(substack_page: Path) -> None:
    last = read_text_page(substack_page).comments[-1]
    assert last.author == "Robin Kayt Kayt"
    assert "sensível" in last.text and "humilhação" in last.text and "não" in last.text
    assert last.text.endswith("Global.")


def test_the_exchange_is_linked_and_the_rest_answer_the_post(substack_page: Path) -> None:
    thread = read_text_page(substack_page)
    replies = {c.id: c.reply_to for c in thread.comments}
    assert replies["c4"] == "c3" and replies["c5"] == "c4"  # rakyat kecil ↔ Madame Publius
    assert all(replies[c] == "post" for c in replies if c not in ("c4", "c5"))
