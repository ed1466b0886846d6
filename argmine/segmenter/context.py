"""Where a message sits, in a few words the segmenter reads before the message (``context: position``).

Whether a sentence is a major claim, a claim or a premise depends on where it
stands: in a persuasive essay the major claim sits in the introduction or the
conclusion. Stab & Gurevych (2017, Computational Linguistics 43(3)) count the
position of the covering paragraph among their structural features for this
reason. A segmenter trained with ``context: position`` reads each message as
the pair ``[CLS] <where> [SEP] <message> [SEP]``; its labels stay on the
message's words, so offsets and decoding do not change.

    AAE paragraph unit (thread meta: paragraph k of n) → "first paragraph", "middle paragraph",
                                                          "last paragraph" ("only paragraph" when n = 1,
                                                          "essay title" for k = 0)
    any other thread's post                            → "original post"
    a comment that answers the post                    → "comment"
    a reply to a comment                               → "reply"

``context: genre`` puts the kind of text before those words, so one segmenter
can learn from corpora whose annotators drew components differently (a
multi-corpus model that knows each message's genre), and read a user's thread
as the discussions it was trained on:

    web discourse (Habernal & Gurevych 2017) → "comment on an article", "forum post", "blog post", "article"
    AAE2 essays / microtexts / AbstRCT       → "essay", "short argumentative text", "medical abstract"
    anything else (CMV, a scraped thread)    → "discussion"

    e.g. "discussion: reply", "essay: first paragraph", "forum post"

With ``context: none`` (the default) every context is empty and the input is
the message alone, as before this option existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from argmine.thread import Thread

CONTEXTS = ("none", "position", "genre")

DISCUSSION = "discussion"  # the genre of every thread no reader below names: CMV, RumourEval, a user's thread
# Single-document corpora by thread.meta["corpus"]; web discourse by its document type (post meta "genre").
CORPUS_GENRES = {"aae2": "essay", "microtexts": "short argumentative text", "abstrct": "medical abstract"}
WEB_DISCOURSE_GENRES = {
    "artcomment": "comment on an article",
    "forumpost": "forum post",
    "blogpost": "blog post",
    "article": "article",
}


def check_context(context: str) -> str:
    if context not in CONTEXTS:
        raise ValueError(f"context must be one of {', '.join(CONTEXTS)}, got {context!r}")
    return context


def paragraph_position(meta: Mapping[str, Any]) -> str | None:
    """The words for an AAE paragraph unit, or None when the thread is not one."""
    index, total = meta.get("paragraph"), meta.get("n_paragraphs")
    if not isinstance(index, int) or not isinstance(total, int):
        return None
    if index == 0:
        return "essay title"
    if total == 1:
        return "only paragraph"
    if index == 1:
        return "first paragraph"
    return "last paragraph" if index == total else "middle paragraph"


def genre(thread: Thread) -> str:
    """The words for the kind of text ``thread`` is (``DISCUSSION`` unless its reader names another)."""
    corpus = thread.meta.get("corpus")
    if corpus == "webdiscourse":
        return WEB_DISCOURSE_GENRES.get(str(thread.post.meta.get("genre")), "web post")
    return CORPUS_GENRES.get(str(corpus), DISCUSSION)


def message_contexts(thread: Thread, context: str) -> list[str]:
    """One context string per message of ``thread`` (``thread.messages()`` order); all empty for ``none``."""
    check_context(context)
    n_messages = 1 + len(thread.comments)
    if context == "none":
        return [""] * n_messages
    paragraph = paragraph_position(thread.meta)
    out = [paragraph if paragraph is not None else "original post"]
    for comment in thread.comments:
        out.append("comment" if comment.reply_to == thread.post.id else "reply")
    if context == "position":
        return out
    kind = genre(thread)
    if kind != DISCUSSION and paragraph is None:  # a single document: its genre says all
        return [kind] * n_messages
    return [f"{kind}: {where}" for where in out]
