"""What a stance classifier reads: pure functions from threads to text pairs.

    Thread ──stance_examples──► StanceExample(input=StanceInput(post, text, parent), label)
                                      │
           classifier ──to_pair(input, budget, count_tokens)──► (first, second) ──► encoder

A ``StanceInput`` keeps the three texts apart; each classifier turns it into
the pair it reads with its own token counter and length budget:

    first  = post                                   (a direct reply, or the post itself)
    first  = post + " | replying to: " + parent     (a reply to a reply)
    second = the comment or component text

Long texts are reduced by one rule, ``head_within``: the longest prefix that
ends at a sentence end and fits the budget together with a trailing " …"
marker. Only if even the first sentence is too long is the prefix cut at the
last word boundary that fits (still marked " …"). The kept part is always a
literal prefix of the original text, so a CMV post keeps its title (its first
line) and first sentences. The budget is shared in this order, each text
reduced by that rule:

1. the comment/component text gets what is left after reserving
   ``min(len(post), post_reserve)`` and ``min(len(parent), parent_reserve)``;
2. the parent gets what is left after the text and the post's reserve;
3. the post gets the rest.

So short replies leave the room to the post, and the reserves guarantee some
context for long ones. Nothing is cut later by the tokenizer: the pair fits.

A classifier may instead read a long text in full: ``windows_within`` cuts it
into consecutive windows (each a ``head_within`` of what is left, marked
"… " before and " …" after), ``to_window_pairs`` pairs each with the post (and
parent) as above, and the classifier pools the windows' probabilities.

A source post (RumourEval labels those too) is paired with itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace

from argmine.errors import InputError
from argmine.thread import Comment, Thread

LEVELS = ("comment", "component", "both")
# How a classifier reads a text longer than its pair (a transformer's ``settings.long_text``; without it,
# "head"): "head", its first sentences (``head_within``); the others read every window of it
# (``to_window_pairs``) and pool the windows' probabilities (experiments/studies/long_comments.py).
LONG_TEXT_READINGS = ("head", "windows_mean", "windows_sided_max")
MARKER = " …"  # appended to a text that was reduced
LEAD = "… "  # put before a window that does not start the text (``windows_within``)
PARENT_SEPARATOR = " | replying to: "

TokenCounter = Callable[[str], int]
TextPair = tuple[str, str]

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|\n+")
_WORD_END = re.compile(r"\s+")


def count_words(text: str) -> int:
    """A tokenizer-free token count: whitespace-separated words."""
    return len(text.split())


@dataclass(frozen=True)
class StanceInput:
    """The texts a stance is read from: the original post, the item, and its parent if not the post."""

    post: str
    text: str
    parent: str | None = None


@dataclass(frozen=True)
class StanceExample:
    """One item to classify: ``level`` is ``post``, ``comment`` or ``component``; ``label`` is None when unlabelled."""

    thread_id: str
    item_id: str
    level: str
    input: StanceInput
    label: str | None
    corpus: str = ""  # which corpus it comes from, when a run mixes several (argmine.stance.pair_train)


# -- reduction ----------------------------------------------------------------


def _boundaries(pattern: re.Pattern[str], text: str) -> list[int]:
    """End offsets (exclusive, trailing space excluded) of the prefixes ending at a ``pattern`` match."""
    ends = []
    for match in pattern.finditer(text):
        end = match.start() + len(match.group(0).rstrip())  # closing quotes/brackets stay with their sentence
        if end > 0:
            ends.append(end)
    return ends


def _longest_fitting(text: str, ends: list[int], budget: int, count_tokens: TokenCounter) -> str | None:
    """The longest ``text[:end] + MARKER`` (``end`` in ``ends``) within ``budget``; a binary search."""
    lo, hi, best = 0, len(ends) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = text[: ends[mid]].rstrip() + MARKER
        if count_tokens(candidate) <= budget:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best


def head_within(text: str, budget: int, count_tokens: TokenCounter = count_words) -> str:
    """``text`` itself if it fits ``budget`` tokens, else its longest fitting head (see the module docstring).

    Returns ``""`` when not even one word and the marker fit.
    """
    if count_tokens(text) <= budget:
        return text
    if budget <= 0:
        return ""
    text = text.rstrip()
    reduced = _longest_fitting(text, _boundaries(_SENTENCE_END, text), budget, count_tokens)
    if reduced is None:
        reduced = _longest_fitting(text, _boundaries(_WORD_END, text), budget, count_tokens)
    return reduced or ""


def windows_within(text: str, budget: int, count_tokens: TokenCounter = count_words) -> list[str]:
    """``text`` as consecutive windows of at most ``budget`` tokens that together cover all of it.

    Each window is ``head_within`` of what the windows before it left, so it ends at a sentence end
    where one fits; a window after the first starts with ``LEAD`` ("… "), one that is not the last
    ends with ``MARKER``. A text that fits is one window, itself. Every word of ``text`` is in
    exactly one window (the windows' literal parts, in order, are the text split at whitespace; a
    single word longer than a window is cut inside it).
    """
    if count_tokens(text) <= budget:
        return [text]
    room = budget - count_tokens(LEAD) - 1  # a joined text may count a token more than its parts
    windows: list[str] = []
    rest = text.strip()
    while rest:
        lead = LEAD if windows else ""
        if count_tokens(lead + rest) <= budget:
            windows.append(lead + rest)
            break
        # a "word" longer than the window (a URL, a run of emoji) is cut between characters
        head = head_within(rest, room, count_tokens) or _longest_fitting(
            rest, list(range(1, len(rest))), room, count_tokens
        )
        if not head:
            raise InputError(f"a stance window of {budget} tokens cannot hold one character of the text")
        kept = head[: -len(MARKER)]
        windows.append(lead + head)
        rest = rest[len(kept) :].lstrip()
    return windows


def to_pair(
    item: StanceInput,
    *,
    budget: int,
    count_tokens: TokenCounter = count_words,
    post_reserve: int = 64,
    parent_reserve: int = 48,
) -> TextPair:
    """The (first, second) text pair of ``item`` within ``budget`` tokens in all (special tokens excluded)."""
    if post_reserve < 0 or parent_reserve < 0:
        raise InputError(f"reserves must be non-negative, got post {post_reserve}, parent {parent_reserve}")
    separator = count_tokens(PARENT_SEPARATOR) if item.parent is not None else 0
    room = budget - separator
    if room < post_reserve + (parent_reserve if item.parent is not None else 0) + 8:
        raise InputError(
            f"a budget of {budget} tokens cannot hold the post ({post_reserve}) and parent ({parent_reserve}) "
            "reserves and a text; raise max_length or lower the reserves"
        )
    post_keep = min(count_tokens(item.post), post_reserve)
    parent_keep = min(count_tokens(item.parent), parent_reserve) if item.parent is not None else 0
    for _ in range(4):  # tokenizers may count a joined text a token or two off the sum of its parts
        text = head_within(item.text, room - post_keep - parent_keep, count_tokens)
        used = count_tokens(text)
        parent = None
        if item.parent is not None:
            parent = head_within(item.parent, room - used - post_keep, count_tokens)
            used += count_tokens(parent)
        post = head_within(item.post, room - used, count_tokens)
        first = post if parent is None else post + PARENT_SEPARATOR + parent
        over = count_tokens(first) + count_tokens(text) - budget
        if over <= 0:
            return first, text
        room -= over
    raise ValueError(f"could not fit a stance input into {budget} tokens with this token counter")


def text_budget(
    item: StanceInput, *, budget: int, count_tokens: TokenCounter, post_reserve: int, parent_reserve: int
) -> int:
    """The tokens ``to_pair`` leaves a long text of ``item`` (after the post's and parent's reserves)."""
    separator = count_tokens(PARENT_SEPARATOR) if item.parent is not None else 0
    post_keep = min(count_tokens(item.post), post_reserve)
    parent_keep = min(count_tokens(item.parent), parent_reserve) if item.parent is not None else 0
    return budget - separator - post_keep - parent_keep


def to_window_pairs(
    item: StanceInput,
    *,
    budget: int,
    count_tokens: TokenCounter = count_words,
    post_reserve: int = 64,
    parent_reserve: int = 48,
) -> list[TextPair]:
    """One ``to_pair`` per window of ``item``'s text (``windows_within``): a long text read in full.

    A text that fits gives the same single pair as ``to_pair``.
    """
    reserves = {"post_reserve": post_reserve, "parent_reserve": parent_reserve}
    room = text_budget(item, budget=budget, count_tokens=count_tokens, **reserves)
    windows = windows_within(item.text, room - 1, count_tokens) if count_tokens(item.text) > room else [item.text]
    return [to_pair(replace(item, text=w), budget=budget, count_tokens=count_tokens, **reserves) for w in windows]


# -- from threads ---------------------------------------------------------------


def _parent_text(thread: Thread, comment: Comment) -> str | None:
    if comment.reply_to == thread.post.id:
        return None
    return thread.message(comment.reply_to).text


def post_input(thread: Thread) -> StanceInput:
    """The source post's own stance: the post paired with itself."""
    return StanceInput(post=thread.post.text, text=thread.post.text)


def comment_input(thread: Thread, comment: Comment) -> StanceInput:
    """A comment, with its parent when it replies to another comment."""
    return StanceInput(post=thread.post.text, text=comment.text, parent=_parent_text(thread, comment))


def component_input(thread: Thread, holder: Comment, component_text: str) -> StanceInput:
    """A component of ``holder``, with the holder's parent when the holder replies to another comment."""
    return StanceInput(post=thread.post.text, text=component_text, parent=_parent_text(thread, holder))


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise InputError(f"unknown stance level {level!r}; expected one of {', '.join(LEVELS)}")
    return level


def stance_examples(
    threads: Iterable[Thread],
    level: str,
    *,
    include_posts: bool = False,
    labelled_only: bool = True,
    component_labels: Collection[str] | None = None,
) -> list[StanceExample]:
    """The items of ``threads`` to classify, in thread order: post (if asked), then each comment and/or its components.

    ``level`` is ``comment``, ``component`` or ``both``. The post's own
    components are never included (they have no stance toward themselves).
    With ``labelled_only`` items without a gold stance are skipped; without it
    they come with ``label=None`` (for prediction). ``component_labels`` keeps only the components
    with those labels (the pipeline judges claims, not premises); None keeps every one.
    """
    check_level(level)
    examples: list[StanceExample] = []

    def add(thread: Thread, item_id: str, kind: str, item: StanceInput, stance: object) -> None:
        label = getattr(stance, "label", None)
        if label is None and labelled_only:
            return
        examples.append(StanceExample(thread.id, item_id, kind, item, label))

    for thread in threads:
        if include_posts:
            add(thread, thread.post.id, "post", post_input(thread), thread.post.stance)
        for comment in thread.comments:
            if level in ("comment", "both"):
                add(thread, comment.id, "comment", comment_input(thread, comment), comment.stance)
            if level in ("component", "both"):
                for component in comment.components:
                    if component_labels is not None and component.label not in component_labels:
                        continue
                    item = component_input(thread, comment, component.text)
                    add(thread, component.id, "component", item, component.stance)
    return examples


def as_input(item: StanceInput | TextPair) -> StanceInput:
    """A ``StanceInput`` as is; a plain ``(post, text)`` pair read as a direct reply to the post."""
    if isinstance(item, StanceInput):
        return item
    if isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item):
        return StanceInput(post=item[0], text=item[1])
    raise ValueError(f"expected a StanceInput or a (post, text) pair of strings, got {type(item).__name__}")
