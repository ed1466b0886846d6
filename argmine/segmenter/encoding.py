"""Text + components ⇄ token windows with BIO labels: the segmenter's pure encode/decode.

    text ──tokenize──► TokenizedText (subword ids, character offsets, word of each subword)
         │                       │
    gold components ──word_tags──► one BIO tag per word (a word is the tokenizer's pre-token)
                                 │
                    make_windows ▼  overlapping windows of at most max_length tokens,
                                    label on each word's first subword, -100 elsewhere
    model ─► per-window tag probabilities ─merge_windows─► one row per word
                                 │
           viterbi_bio (or argmax + repair_bio) ─► valid BIO tags per word
                                 │
                   tags_to_components ─► Components with exact character offsets

Labels sit on words, not subwords: a span runs from the first character of its
first word to the last character of its last word, read from the fast
tokenizer's offset mapping, so the offsets are exact in the original text
whatever the whitespace, accents, casing or quotes (the tokenizer's normaliser
never changes them). A gold span that starts or ends inside a word is widened
to whole words by ``word_tags``; ``word_aligned`` tells whether it was.

Only ``tokenize`` touches the tokenizer; everything else works on plain tuples
and arrays and is unit-tested on hand-written cases.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from argmine.thread import Component

IGNORE = -100  # the label id that torch's cross-entropy skips
OUTSIDE = "O"


def bio_tags(labels: Sequence[str]) -> tuple[str, ...]:
    """``("O", "B-L1", "I-L1", "B-L2", "I-L2", ...)`` for the entity labels, in their order."""
    if not labels:
        raise ValueError("at least one component label is needed")
    if len(set(labels)) != len(labels):
        raise ValueError(f"component labels must be distinct, got {list(labels)}")
    for label in labels:
        if not isinstance(label, str) or not label or label == OUTSIDE or label.startswith(("B-", "I-")):
            raise ValueError(f"invalid component label {label!r}")
    tags = [OUTSIDE]
    for label in labels:
        tags += [f"B-{label}", f"I-{label}"]
    return tuple(tags)


def labels_of_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """The entity labels of a tag list made by ``bio_tags`` (checked to be one)."""
    labels = tuple(tag[2:] for tag in tags[1::2])
    if tuple(tags) != bio_tags(labels):
        raise ValueError(f"not a tag list made by bio_tags: {list(tags)}")
    return labels


# -- tokenization ---------------------------------------------------------------


@dataclass(frozen=True)
class TokenizedText:
    """A text's subword tokens, without special tokens, and the words they form."""

    text: str
    input_ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]  # character span of each token in ``text``
    word_of_token: tuple[int, ...]  # index of the word each token belongs to
    words: tuple[tuple[int, int], ...]  # character span of each word: first token's start, last token's end
    #                                     (and any combining marks right after it)
    word_first_token: tuple[int, ...]  # index of each word's first token

    @classmethod
    def from_tokens(
        cls, text: str, input_ids: Sequence[int], offsets: Sequence[tuple[int, int]], word_ids: Sequence[int | None]
    ) -> TokenizedText:
        """Build from a fast tokenizer's output; checks the offsets lie inside the text."""
        if not len(input_ids) == len(offsets) == len(word_ids):
            raise ValueError("input_ids, offsets and word_ids must have the same length")
        word_of_token: list[int] = []
        words: list[tuple[int, int]] = []
        firsts: list[int] = []
        previous: int | None = None
        for index, ((start, end), word) in enumerate(zip(offsets, word_ids)):
            if word is None:
                raise ValueError(f"token {index} has no word: tokenize without special tokens")
            if not 0 <= start <= end <= len(text):
                raise ValueError(f"token {index} has offsets ({start}, {end}) outside a text of {len(text)} characters")
            if word != previous:  # a new word starts
                words.append((start, end))
                firsts.append(index)
                previous = word
            else:
                words[-1] = (words[-1][0], max(words[-1][1], end))
            word_of_token.append(len(words) - 1)
        for w, (start, end) in enumerate(words):
            # A normaliser that strips accents gives a decomposed text's final combining mark to no
            # token ("déjà" as d e ◌́ j a ◌̀ ends at "a"); the mark belongs to the letter before it.
            limit = words[w + 1][0] if w + 1 < len(words) else len(text)
            while end < limit and unicodedata.category(text[end]).startswith("M"):
                end += 1
            words[w] = (start, end)
        return cls(
            text=text,
            input_ids=tuple(int(i) for i in input_ids),
            offsets=tuple((int(a), int(b)) for a, b in offsets),
            word_of_token=tuple(word_of_token),
            words=tuple(words),
            word_first_token=tuple(firsts),
        )


def tokenize(texts: Sequence[str], tokenizer: Any) -> list[TokenizedText]:
    """Tokenize whole texts (no truncation, no special tokens) with a fast Hugging Face tokenizer."""
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("the segmenter needs a fast (tokenizers-backed) tokenizer for character offsets")
    if not texts:
        return []
    encoded = tokenizer(
        list(texts),
        add_special_tokens=False,
        return_offsets_mapping=True,
        truncation=False,
        padding=False,
        verbose=False,
    )
    return [
        TokenizedText.from_tokens(text, encoded["input_ids"][i], encoded["offset_mapping"][i], encoded.word_ids(i))
        for i, text in enumerate(texts)
    ]


def special_tokens(tokenizer: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The special token ids the tokenizer puts before and after a single text (BERT: [CLS] / [SEP])."""
    probe = "probe"
    bare = list(tokenizer(probe, add_special_tokens=False)["input_ids"])
    full = list(tokenizer(probe, add_special_tokens=True)["input_ids"])
    for start in range(len(full) - len(bare) + 1):
        if full[start : start + len(bare)] == bare:
            return tuple(full[:start]), tuple(full[start + len(bare) :])
    raise ValueError("cannot locate the text between the tokenizer's special tokens")


# -- gold components → word tags ---------------------------------------------------


def word_tags(tokenized: TokenizedText, components: Sequence[Component], tags: Sequence[str]) -> list[int]:
    """One tag id per word: ``B-L`` on the first word a component touches, ``I-L`` on the rest.

    A word belongs to a component when their character ranges overlap. Raises
    ``ValueError`` for a label that is not in ``tags``, a component that covers
    no word (only whitespace or characters the tokenizer drops), and two
    components sharing a word (BIO tags cannot hold overlapping components).
    """
    index = {tag: i for i, tag in enumerate(tags)}
    out = [index[OUTSIDE]] * len(tokenized.words)
    owner: list[Component | None] = [None] * len(tokenized.words)
    starts = np.array([w[0] for w in tokenized.words], dtype=np.int64)
    ends = np.array([w[1] for w in tokenized.words], dtype=np.int64)
    for component in sorted(components, key=lambda c: (c.start, c.end)):
        if f"B-{component.label}" not in index:
            known = ", ".join(t[2:] for t in tags[1::2])
            raise ValueError(f"component {component.id!r} has label {component.label!r}, not one of: {known}")
        inside = np.flatnonzero((starts < component.end) & (ends > component.start))
        if len(inside) == 0:
            raise ValueError(
                f"component {component.id!r} [{component.start}, {component.end}) {component.text!r} "
                "covers no token of the text"
            )
        for position, word in enumerate(inside):
            other = owner[word]
            if other is not None:
                a, b = tokenized.words[word]
                raise ValueError(
                    f"components {other.id!r} and {component.id!r} share the word {tokenized.text[a:b]!r} "
                    f"at [{a}, {b}): BIO tags cannot encode overlapping components"
                )
            owner[word] = component
            out[word] = index[("B-" if position == 0 else "I-") + component.label]
    return out


def word_aligned(tokenized: TokenizedText, component: Component) -> bool:
    """Whether the component starts at a word's start and ends at a word's end (so decoding can reproduce it)."""
    return any(s == component.start for s, _ in tokenized.words) and any(e == component.end for _, e in tokenized.words)


# -- windows -----------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """One model input: tokens ``[token_start, token_end)`` of a text, between special tokens."""

    input_ids: tuple[int, ...]  # with the special tokens
    labels: tuple[int, ...] | None  # one per input id: a tag id on each word's first subword, IGNORE elsewhere
    token_start: int
    token_end: int
    prefix_length: int  # special tokens before the text's tokens

    def __len__(self) -> int:
        return len(self.input_ids)


def window_bounds(tokenized: TokenizedText, capacity: int, stride: int) -> list[tuple[int, int]]:
    """Token ranges of the windows covering a text; consecutive windows share about ``stride`` tokens.

    A window holds at most ``capacity`` tokens and ends at a word boundary when
    it can (a single word longer than a window is cut); the next one starts at
    the first word start at or after ``end - stride``, so the overlap is at most
    ``stride`` tokens. The first window starts at token 0, the last ends at the
    last token.
    """
    if capacity < 1:
        raise ValueError(f"a window must hold at least one text token, capacity is {capacity}")
    if not 0 <= stride < capacity:
        raise ValueError(f"stride (overlap) must be in [0, {capacity}), got {stride}")
    n = len(tokenized.input_ids)
    word_start = [True] * (n + 1)  # position n: the end of the text is a boundary
    for i in range(1, n):
        word_start[i] = tokenized.word_of_token[i] != tokenized.word_of_token[i - 1]
    bounds: list[tuple[int, int]] = []
    start = 0
    while start < n:
        end = min(start + capacity, n)
        boundary = end
        while boundary > start and not word_start[boundary]:
            boundary -= 1
        if boundary > start:
            end = boundary
        bounds.append((start, end))
        if end >= n:
            break
        start = max(end - stride, start + 1)
        while start < end and not word_start[start]:
            start += 1
    return bounds


def make_windows(
    tokenized: TokenizedText,
    word_labels: Sequence[int] | None,
    *,
    max_length: int,
    stride: int,
    prefix: Sequence[int],
    suffix: Sequence[int],
) -> list[Window]:
    """The model inputs of one text: overlapping windows of at most ``max_length`` tokens (none for an empty text).

    ``word_labels`` (from ``word_tags``) puts each word's tag on its first
    subword; later subwords and special tokens get ``IGNORE``. Without labels
    (prediction) ``Window.labels`` is ``None``.
    """
    if word_labels is not None and len(word_labels) != len(tokenized.words):
        raise ValueError(f"{len(word_labels)} word labels for {len(tokenized.words)} words")
    capacity = max_length - len(prefix) - len(suffix)
    if capacity < 1:  # say which setting: window_bounds alone only knows the capacity
        raise ValueError(
            f"max_length {max_length} leaves no room for text in a window ({len(prefix)} tokens before it, "
            f"{len(suffix)} after: special tokens and context): the model's settings.max_length must be at least "
            f"{len(prefix) + len(suffix) + 1}"
        )
    firsts = set(tokenized.word_first_token)
    windows = []
    for start, end in window_bounds(tokenized, capacity, stride):
        ids = (*prefix, *tokenized.input_ids[start:end], *suffix)
        labels = None
        if word_labels is not None:
            body = [word_labels[tokenized.word_of_token[i]] if i in firsts else IGNORE for i in range(start, end)]
            labels = (IGNORE,) * len(prefix) + tuple(body) + (IGNORE,) * len(suffix)
        windows.append(Window(ids, labels, start, end, len(prefix)))
    return windows


def merge_windows(
    tokenized: TokenizedText, windows: Sequence[Window], probabilities: Sequence[np.ndarray]
) -> np.ndarray:
    """One probability row per word, from the window that sees the word with most context.

    ``probabilities[k]`` has one row per input id of ``windows[k]`` (special
    tokens included). A word is read at its first subword, in the window where
    that subword is farthest from a window edge that is not also the text's
    edge (ties: the earlier window). Edge tokens lack context on one side, so
    this beats averaging.
    """
    if len(windows) != len(probabilities):
        raise ValueError(f"{len(windows)} windows but {len(probabilities)} probability arrays")
    n_words, n_tokens = len(tokenized.words), len(tokenized.input_ids)
    if n_words == 0:
        return np.zeros((0, probabilities[0].shape[1] if probabilities else 0), dtype=np.float32)
    width = probabilities[0].shape[1]
    out = np.zeros((n_words, width), dtype=np.float32)
    best = np.full(n_words, -1.0)
    for window, probs in zip(windows, probabilities):
        if probs.shape != (len(window.input_ids), width):
            raise ValueError(f"probabilities of shape {probs.shape} for a window of {len(window.input_ids)} tokens")
        for word, token in enumerate(tokenized.word_first_token):
            if not window.token_start <= token < window.token_end:
                continue
            left = token - window.token_start if window.token_start > 0 else np.inf
            right = window.token_end - 1 - token if window.token_end < n_tokens else np.inf
            context = min(left, right)
            if context > best[word]:
                best[word] = context
                out[word] = probs[window.prefix_length + token - window.token_start]
    missing = np.flatnonzero(best < 0)
    if len(missing):
        raise ValueError(f"windows do not cover word {int(missing[0])} of the text")
    return out


# -- decoding ------------------------------------------------------------------------


def allowed_transitions(tags: Sequence[str]) -> np.ndarray:
    """``allowed[i, j]``: tag ``j`` may follow tag ``i`` in IOB2 (``I-L`` only after ``B-L`` or ``I-L``)."""
    n = len(tags)
    allowed = np.ones((n, n), dtype=bool)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            label = tag[2:]
            allowed[:, j] = [t in (f"B-{label}", f"I-{label}") for t in tags]
    return allowed


def viterbi_bio(probabilities: np.ndarray, tags: Sequence[str]) -> list[int]:
    """The most probable tag sequence that is valid IOB2 (no ``I-L`` at the start or after another tag).

    Maximises the sum of log-probabilities per word, subject to the
    transitions of ``allowed_transitions``: constrained decoding, so there is
    nothing to repair afterwards.
    """
    n, width = probabilities.shape if probabilities.size else (0, len(tags))
    if width != len(tags):
        raise ValueError(f"{width} probability columns for {len(tags)} tags")
    if n == 0:
        return []
    logp = np.log(np.clip(probabilities.astype(np.float64), 1e-12, 1.0))
    allowed = allowed_transitions(tags)
    penalty = np.where(allowed, 0.0, -np.inf)
    start_ok = np.array([not t.startswith("I-") for t in tags])
    score = np.where(start_ok, logp[0], -np.inf)
    back = np.zeros((n, width), dtype=np.int64)
    for i in range(1, n):
        candidates = score[:, None] + penalty  # previous tag × next tag
        back[i] = candidates.argmax(axis=0)
        score = candidates.max(axis=0) + logp[i]
    path = [int(score.argmax())]
    for i in range(n - 1, 0, -1):
        path.append(int(back[i, path[-1]]))
    return path[::-1]


def repair_bio(tag_ids: Sequence[int], tags: Sequence[str]) -> list[int]:
    """Make a tag sequence valid IOB2 by one rule: an ``I-L`` that does not continue an ``L`` span becomes ``B-L``.

    So ``O I-Claim`` → ``O B-Claim`` (a span starts where the model saw one
    going on), and a label switch ``B-Claim I-Claim I-Premise`` → ``B-Claim
    I-Claim B-Premise`` (two adjacent spans, each keeping the label its words
    were given). Used after per-word argmax; ``viterbi_bio`` needs no repair.
    """
    out: list[int] = []
    current: str | None = None  # the label of the span being continued
    for tag_id in tag_ids:
        tag = tags[tag_id]
        if tag.startswith("I-") and current != tag[2:]:
            tag_id, tag = tags.index("B-" + tag[2:]), "B-" + tag[2:]
        current = tag[2:] if tag != OUTSIDE else None
        out.append(tag_id)
    return out


def word_spans(tag_ids: Sequence[int], tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """``(first word, last word, label)`` of each span of a valid IOB2 sequence."""
    spans: list[tuple[int, int, str]] = []
    for word, tag_id in enumerate(tag_ids):
        tag = tags[tag_id]
        if tag.startswith("B-"):
            spans.append((word, word, tag[2:]))
        elif tag.startswith("I-"):
            if not spans or spans[-1][1] != word - 1 or spans[-1][2] != tag[2:]:
                raise ValueError(f"invalid IOB2 at word {word}: {tag} does not continue a {tag[2:]} span")
            spans[-1] = (spans[-1][0], word, spans[-1][2])
    return spans


def tags_to_components(
    tokenized: TokenizedText,
    tag_ids: Sequence[int],
    tags: Sequence[str],
    probabilities: np.ndarray | None = None,
    *,
    id_prefix: str = "c",
) -> list[Component]:
    """Spans of a valid IOB2 word tag sequence, as Components ``{id_prefix}1, {id_prefix}2, ...``.

    A span runs from its first word's first character to its last word's last
    character. ``score`` is the mean, over the span's words, of the
    probability that the word is inside a component of the span's label
    (``B-L`` + ``I-L``); None without probabilities.
    """
    if len(tag_ids) != len(tokenized.words):
        raise ValueError(f"{len(tag_ids)} tags for {len(tokenized.words)} words")
    components = []
    for k, (first, last, label) in enumerate(word_spans(tag_ids, tags), start=1):
        start, end = tokenized.words[first][0], tokenized.words[last][1]
        score = None
        if probabilities is not None:
            columns = [tags.index(f"B-{label}"), tags.index(f"I-{label}")]
            score = float(probabilities[first : last + 1][:, columns].sum(axis=1).mean())
        components.append(
            Component(
                id=f"{id_prefix}{k}", start=start, end=end, label=label, text=tokenized.text[start:end], score=score
            )
        )
    return components


def decode(
    tokenized: TokenizedText,
    windows: Sequence[Window],
    probabilities: Sequence[np.ndarray],
    tags: Sequence[str],
    *,
    method: str = "viterbi",
    id_prefix: str = "c",
) -> list[Component]:
    """Per-window tag probabilities → the text's components.

    ``method="viterbi"``: constrained decoding (``viterbi_bio``);
    ``"argmax"``: the most probable tag per word, then ``repair_bio``.
    """
    if not tokenized.words:
        return []
    merged = merge_windows(tokenized, windows, probabilities)
    if method == "viterbi":
        tag_ids = viterbi_bio(merged, tags)
    elif method == "argmax":
        tag_ids = repair_bio([int(i) for i in merged.argmax(axis=1)], tags)
    else:
        raise ValueError(f"unknown decoding method {method!r}; expected 'viterbi' or 'argmax'")
    return tags_to_components(tokenized, tag_ids, tags, merged, id_prefix=id_prefix)
