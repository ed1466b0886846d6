"""Classifier inputs: which texts go in, and how long ones are reduced."""

from __future__ import annotations

import pytest

from argmine.stance.inputs import (
    LEAD,
    MARKER,
    PARENT_SEPARATOR,
    StanceInput,
    as_input,
    count_words,
    head_within,
    stance_examples,
    to_pair,
    to_window_pairs,
    windows_within,
)
from argmine.thread import Comment, Post, Stance, Thread, make_component

POST = "Title: taxes should be lower. First reason here. Second reason here. Third reason is long and detailed."


def thread() -> Thread:
    reply = "I disagree. Taxes fund schools."
    return Thread(
        id="t",
        post=Post(id="op", author="a", text=POST, stance=Stance("support")),
        comments=[
            Comment(
                id="c1",
                author="b",
                text=reply,
                reply_to="op",
                stance=Stance("attack"),
                components=[make_component(reply, 0, 11, "claim", "k1", stance=Stance("attack"))],
            ),
            Comment(id="c2", author="c", text="You are right about schools.", reply_to="c1", stance=Stance("none")),
            Comment(id="c3", author="d", text="Unlabelled reply.", reply_to="op"),
        ],
    )


def test_head_within_keeps_whole_sentences_and_marks_the_cut() -> None:
    assert head_within(POST, 100) == POST  # fits: unchanged
    reduced = head_within(POST, 9)
    assert reduced == "Title: taxes should be lower. First reason here." + MARKER
    assert count_words(reduced) <= 9
    assert POST.startswith(reduced[: -len(MARKER)])  # a literal prefix of the original


def test_head_within_cuts_at_a_word_when_the_first_sentence_is_too_long() -> None:
    text = "one two three four five six seven eight. nine"
    assert head_within(text, 4) == "one two three" + MARKER
    assert head_within(text, 1) == ""  # not even one word and the marker fit
    assert head_within(text, 0) == ""


def test_head_within_sentence_ends_keep_closing_quotes() -> None:
    text = 'He said "stop." Then he left. And more words follow here.'
    assert head_within(text, 8) == 'He said "stop." Then he left.' + MARKER


def test_head_within_uses_the_given_token_counter() -> None:
    chars = len  # a counter where every character is a token
    reduced = head_within("Short one. A much longer second sentence.", 20, chars)
    assert reduced == "Short one." + MARKER and len(reduced) <= 20


def test_to_pair_direct_reply_fits_and_gives_spare_room_to_the_post() -> None:
    first, second = to_pair(StanceInput(POST, "I disagree."), budget=200, post_reserve=4, parent_reserve=4)
    assert (first, second) == (POST, "I disagree.")


def test_to_pair_shares_the_budget_text_first_then_parent_then_post() -> None:
    item = StanceInput(post=POST, text="a b c d e f g h i j. k l m n o p q r s t.", parent="p1 p2 p3. p4 p5 p6.")
    post_head = "Title: taxes should be lower. First reason here." + MARKER  # 9 words
    # 40 - 3 (separator) = 37; the text may use 37 - 6 - 4 = 27 (all 20 words), the parent 37 - 20 - 6 (all 6),
    # the post the remaining 11: its first two sentences and the marker.
    first, second = to_pair(item, budget=40, post_reserve=6, parent_reserve=4)
    assert second == item.text
    assert first == post_head + PARENT_SEPARATOR + item.parent
    # 30 - 3 = 27: the text may use 27 - 6 - 4 = 17 words, so it keeps its first sentence (10 words + marker);
    # the parent may then use 27 - 11 - 6 = 10 (all 6), the post the remaining 10.
    first, second = to_pair(item, budget=30, post_reserve=6, parent_reserve=4)
    assert second == "a b c d e f g h i j." + MARKER
    assert first == post_head + PARENT_SEPARATOR + item.parent
    assert count_words(first) + count_words(second) <= 30


def test_to_pair_long_text_leaves_the_reserves() -> None:
    long_text = " ".join(f"w{i}." for i in range(100))
    first, second = to_pair(StanceInput(POST, long_text), budget=40, post_reserve=10, parent_reserve=8)
    assert count_words(second) <= 30 and second.endswith(MARKER)
    assert 1 <= count_words(first) <= 10  # the post keeps its reserve (parent absent: its reserve is not held)


def test_to_pair_rejects_a_budget_smaller_than_the_reserves() -> None:
    with pytest.raises(ValueError, match="budget of 20"):
        to_pair(StanceInput(POST, "x", "parent"), budget=20, post_reserve=10, parent_reserve=10)
    with pytest.raises(ValueError, match="budget of 15"):
        to_pair(StanceInput(POST, "x"), budget=15, post_reserve=10, parent_reserve=0)
    assert to_pair(StanceInput(POST, "x"), budget=20, post_reserve=10, parent_reserve=10)[1] == "x"  # no parent


def test_stance_examples_levels_parents_and_posts() -> None:
    comments = stance_examples([thread()], "comment")
    assert [(e.item_id, e.level, e.label) for e in comments] == [("c1", "comment", "attack"), ("c2", "comment", "none")]
    assert comments[0].input == StanceInput(POST, "I disagree. Taxes fund schools.", None)
    assert comments[1].input.parent == "I disagree. Taxes fund schools."  # a reply to a reply
    both = stance_examples([thread()], "both", include_posts=True)
    assert [(e.item_id, e.level) for e in both] == [
        ("op", "post"),
        ("c1", "comment"),
        ("k1", "component"),
        ("c2", "comment"),
    ]
    assert both[0].input == StanceInput(POST, POST)  # a source post is paired with itself
    assert both[2].input.text == "I disagree."
    everything = stance_examples([thread()], "comment", labelled_only=False)
    assert [(e.item_id, e.label) for e in everything] == [("c1", "attack"), ("c2", "none"), ("c3", None)]


def test_stance_examples_unknown_level() -> None:
    with pytest.raises(ValueError, match="unknown stance level 'comments'"):
        stance_examples([thread()], "comments")


def test_as_input_accepts_pairs_only() -> None:
    assert as_input(("post", "text")) == StanceInput("post", "text")
    with pytest.raises(ValueError, match="StanceInput"):
        as_input(("only one",))  # type: ignore[arg-type]


def literal(window: str) -> str:
    """A window without its markers."""
    return window.removeprefix(LEAD).removesuffix(MARKER)


def test_windows_within_cover_the_text_in_order_at_sentence_ends() -> None:
    text = "One two three. Four five six seven. Eight nine. Ten eleven twelve thirteen fourteen fifteen sixteen."
    assert windows_within(text, 100) == [text]  # fits: itself, no markers
    windows = windows_within(text, 8)
    assert len(windows) > 1 and all(count_words(w) <= 8 for w in windows)
    assert windows[0] == "One two three." + MARKER and windows[1].startswith(LEAD)
    assert not windows[-1].endswith(MARKER) and windows[-1].endswith("sixteen.")
    assert " ".join(literal(w) for w in windows).split() == text.split()  # every word once, in order


def test_windows_within_cut_a_sentence_or_a_word_longer_than_a_window() -> None:
    long_sentence = " ".join(f"w{i}" for i in range(20)) + "."
    windows = windows_within(long_sentence, 6)
    assert all(count_words(w) <= 6 for w in windows)
    assert " ".join(literal(w) for w in windows).split() == long_sentence.split()
    chars = len  # one token per character: a 30-character "word" needs several windows
    word = "x" * 30
    windows = windows_within(word, 12, chars)
    assert all(len(w) <= 12 for w in windows) and "".join(literal(w) for w in windows) == word


def test_to_window_pairs_reads_a_long_comment_in_full_beside_the_same_post() -> None:
    short = StanceInput(POST, "I disagree.")
    assert to_window_pairs(short, budget=40, post_reserve=6, parent_reserve=4) == [
        to_pair(short, budget=40, post_reserve=6, parent_reserve=4)
    ]
    comment = " ".join(f"Background sentence number {i}." for i in range(12)) + " So I disagree."
    pairs = to_window_pairs(StanceInput(POST, comment, parent="A parent."), budget=30, post_reserve=6, parent_reserve=4)
    assert len(pairs) > 2
    assert all(count_words(a) + count_words(b) <= 30 for a, b in pairs)
    assert all(a.startswith("Title: taxes should be lower.") and a.endswith(PARENT_SEPARATOR + "A parent.") for a, _ in pairs)
    assert pairs[-1][1].endswith("So I disagree.")  # the last sentence is read, not cut away
    assert " ".join(literal(b) for _, b in pairs).split() == comment.split()
