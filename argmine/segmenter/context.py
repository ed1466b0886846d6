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

With ``context: none`` (the default) every context is empty and the input is
the message alone, as before this option existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from argmine.thread import Thread

CONTEXTS = ("none", "position")


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
    return out
