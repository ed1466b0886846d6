"""Per-word tag probabilities → well-formed components: the segmenter's decoding rules.

    word probabilities (encoding.merge_windows, one row per word)
        │ viterbi: constrained IOB2 (encoding.viterbi_bio), else argmax + encoding.repair_bio
        │ label_by_span: Viterbi over O / B / I with the labels summed (where a span is), label later
        ▼
    spans of words (first word, last word, label)
        │ split_paragraphs: cut at every line break inside a span
        │ split_sentences: cut at every sentence end (. ? ! then a capital) inside a span
        │ snap_words: a boundary inside a word moves out to the word's edge
        │ trim_punctuation: leading / trailing separators and space dropped
        │ trim_connectives: a trailing ", and" / "; but so" (a separator, then only stop words) dropped
        │ min_word_chars, drop_stopword_only: fragments dropped
        │ label_by_span: each span's label, the one its words are most inside on average
        ▼
    Components with exact offsets (``text == message_text[start:end]``), ids c1, c2, ...

Each rule is one field of ``DecodingSettings``, recorded in the checkpoint as
``settings.decoding`` (a JSON object of those fields). All rules off is the
decoding of argmine before them, so old scores stay reproducible; a checkpoint
that has no ``settings.decoding``, or the older string form (``"viterbi"`` /
``"argmax"``), decodes that way (``LEGACY``): it was scored so.

Why each rule, and why in this order (measured in experiments/studies/README.md):

- A line break (any ``\\n``), not only a blank line, ends a span: no gold
  component of AAE2 or CMV v2.0 (train and dev, about 7,300) crosses one, and
  in comments a single line break is a list item, a quoted line or a new
  thought; the pages argmine reads are not hard-wrapped.
- A sentence end (``.``, ``?`` or ``!``, then space and a capital) ends a span
  too: 41 of 2,242 CMV v2.0 training components and 1 of 4,309 AAE2 ones hold
  one, and a model's span that swallows two
  sentences is one of the fragments users see.
- The tokenizer's words split ``don't`` into ``don ' t``, so a predicted span
  can end inside a written word; snapping moves the boundary out (never in),
  so no word the model put inside a span is lost.
- Trimming removes separators the model sometimes puts at a span's edge
  (``, remote teams``). It keeps a final ``.``, ``?`` or ``!`` and closing
  quotes and brackets: AAE2's gold never includes the final full stop, CMV's
  does in about half its components, and each model has learnt its corpus's
  habit, so that choice stays with the model.
- A span that runs past a clause's comma into the next clause's first
  function words (``... of it , and``) ends at that comma: of 2,242 CMV
  v2.0 training components 8 end so.
- Where a span is and what it is are two questions (``label_by_span``). A
  word the model calls 0.35 ``B-Claim``, 0.30 ``B-Premise``, 0.35 ``O`` is
  most likely inside a component (0.65), yet labelled Viterbi may leave it
  out, or end a span where the label wavers. So spans are found with each
  ``B-L`` summed into one B and each ``I-L`` into one I; after the cuts each
  piece takes the label whose ``B-L`` + ``I-L`` is highest on average over
  its words (the same mean the component's ``score`` reports).
- After the cuts, what is left of a span can be a fragment (``But``, ``”``,
  ``I``): spans with fewer than ``min_word_chars`` word characters, or made
  only of stop words and punctuation, are dropped (their words become outside).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from argmine.segmenter.encoding import bio_tags, labels_of_tags, repair_bio, viterbi_bio, word_spans
from argmine.thread import Component, strip_space

# A written word: word characters, joined by inner apostrophes and hyphens ("don't", "self-driving").
WORD = re.compile(r"\w+(?:['’\-]\w+)*")
WORD_CHAR = re.compile(r"\w")
LINE_BREAK = re.compile(r"[\n\r\v\f\x85\u2028\u2029]+")
# A sentence end inside a span: final punctuation (and closing quotes), the space after it (group 1), a capital.
SENTENCE_END = re.compile(r"[.!?]+[\"”’)\]]*(\s+)(?=(?:[\"“(\[]\s?)?[A-Z])")
# Never an argument's own first / last character: separators, and a closing (opening) curly quote or
# bracket at the start (end). Sentence-final . ? ! at the end and straight quotes are kept: gold
# conventions differ between corpora and a straight quote may open or close (see the module docstring).
LEADING_TRIM = frozenset(",;:.!?…)]}”’»›–—-/|·•")
TRAILING_TRIM = frozenset(",;:…([{“‘«‹–—-/|·•")

# Function words (lowercased) that cannot be an argument on their own: articles, pronouns, auxiliaries,
# conjunctions, prepositions, discourse markers. Deliberately short: a span keeps any content word.
STOP_WORDS = frozenset(
    """
    a an the this that these those there here it its it's itself i i'm i've i'd i'll me my mine myself we we're
    we've us our ours you you're you've your yours he he's him his she she's her hers they they're they've them
    their theirs one ones someone something anyone anything everyone everything what which who whom whose
    am is are was were be been being have has had having do does did doing done will would shall should can
    could may might must ought not no nor don't doesn't didn't isn't aren't wasn't weren't won't wouldn't can't
    cannot couldn't shouldn't and or but yet so if then than because since as while when whenever where though
    although unless until whether either neither both also too very just only even still already again
    however therefore thus hence moreover furthermore besides instead otherwise indeed anyway well oh yes yeah
    ok okay of in on at by for with about against between into through during before after above below to from
    up down out off over under within without upon via per like such some any all each every few many much
    more most other another own same other's how why now ever never always often sometimes maybe perhaps
    really quite rather actually basically literally first second third finally lastly overall admittedly
    honestly frankly obviously clearly certainly surely arguably apparently personally namely meanwhile
    nonetheless nevertheless regardless
    """.split()
)


@dataclass(frozen=True)
class DecodingSettings:
    """How tag probabilities become components; every field is a rule, off is the pre-rules behaviour."""

    viterbi: bool = True  # constrained IOB2 decoding; False: per-word argmax, then repair_bio
    split_paragraphs: bool = False  # no span across a line break: cut it there
    split_sentences: bool = False  # no span across a sentence end (. ? ! then a capital): cut it there
    snap_words: bool = False  # a span never starts or ends inside a written word
    trim_punctuation: bool = False  # drop separators (, ; : dashes ...) and space at a span's edges
    trim_connectives: bool = False  # cut a trailing separator followed only by stop words (", and")
    min_word_chars: int = 0  # drop spans with fewer word characters (0: keep all)
    drop_stopword_only: bool = False  # drop spans made only of stop words and punctuation
    label_by_span: bool = False  # spans found label-free (B = any B-L), then each labelled by its words' mean

    def record(self) -> dict[str, Any]:
        """What ``argmine.json`` keeps as ``settings.decoding``."""
        return asdict(self)

    def describe(self) -> str:
        """One line for a model card."""
        names = ("split_paragraphs", "split_sentences", "snap_words", "trim_punctuation", "trim_connectives",
                 "drop_stopword_only", "label_by_span")
        rules = [name for name in names if getattr(self, name)]
        if self.min_word_chars:
            rules.append(f"min_word_chars={self.min_word_chars}")
        return ("viterbi" if self.viterbi else "argmax") + (" + " + ", ".join(rules) if rules else ", no span rules")


# What a checkpoint without the rules was scored with (and still decodes with).
LEGACY = DecodingSettings()
# What new segmenters record, chosen on AAE2 and CMV dev (experiments/studies/README.md, "Decoding rules").
DEFAULT = DecodingSettings(
    viterbi=True, split_paragraphs=True, split_sentences=True, snap_words=True, trim_punctuation=True,
    trim_connectives=True, min_word_chars=3, drop_stopword_only=True, label_by_span=True,
)
TAG_DECODERS = ("viterbi", "argmax")  # the older string form of settings.decoding


def decoding_settings(value: Any) -> DecodingSettings:
    """``settings.decoding`` of a checkpoint as settings; ``ValueError`` naming the bad field.

    ``None`` (the key is absent) is ``LEGACY``; ``"viterbi"`` / ``"argmax"``
    (the form before the rules) is that tag decoder with no span rules; a
    mapping sets fields by name (an absent field keeps its ``LEGACY`` value: Viterbi on, rules
    off), and an unknown name is an error.
    """
    if value is None:
        return LEGACY
    if isinstance(value, DecodingSettings):
        return value
    if isinstance(value, str):
        if value not in TAG_DECODERS:
            raise ValueError(f"settings.decoding must be one of {', '.join(TAG_DECODERS)} or an object, got {value!r}")
        return replace(LEGACY, viterbi=value == "viterbi")
    if not isinstance(value, Mapping):
        raise ValueError(f"settings.decoding must be an object or a string, got {type(value).__name__}")
    known = [f.name for f in fields(DecodingSettings)]
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"settings.decoding has unknown fields {unknown}; known: {', '.join(known)}")
    for name, given in value.items():
        if name == "min_word_chars":
            if not isinstance(given, int) or isinstance(given, bool) or given < 0:
                raise ValueError(f"settings.decoding.min_word_chars must be an integer ≥ 0, got {given!r}")
        elif not isinstance(given, bool):
            raise ValueError(f"settings.decoding.{name} must be true or false, got {given!r}")
    return replace(LEGACY, **value)


# -- the rules, on character spans ---------------------------------------------------------


def split_at(text: str, start: int, end: int, pattern: re.Pattern[str] = LINE_BREAK) -> list[tuple[int, int]]:
    """``[start, end)`` cut at every match of ``pattern`` inside it (its group 1 if it has one: what falls out),
    each piece stripped of surrounding space."""
    pieces, position = [], start
    group = 1 if pattern.groups else 0
    for match in pattern.finditer(text, start, end):
        pieces.append((position, match.start(group)))
        position = match.end(group)
    pieces.append((position, end))
    return [p for p in (strip_space(text, a, b) for a, b in pieces) if p[0] < p[1]]


def split_at_line_breaks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``[start, end)`` cut at every line break inside it, each piece stripped of surrounding space."""
    return split_at(text, start, end, LINE_BREAK)


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` widened so that neither edge falls inside a written word (``WORD``)."""
    for match in WORD.finditer(text, max(0, start - 64), min(len(text), end + 64)):
        a, b = match.span()
        if a < start < b:
            start = a
        if a < end < b:
            end = b
    return start, end


def trim_edges(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` without leading / trailing separators and space (``LEADING_TRIM``, ``TRAILING_TRIM``)."""
    while start < end and (text[start].isspace() or text[start] in LEADING_TRIM):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in TRAILING_TRIM):
        end -= 1
    return start, end


# A separator, then at most three written words to the span's end: a candidate dangling connective.
TRAILING_CLAUSE = re.compile(r"[,;:–—]\s*((?:\w+(?:['’\-]\w+)*\s*){1,3})$")


def trim_trailing_connective(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` cut before a trailing separator that only stop words follow (``..., and`` → ``...``)."""
    match = TRAILING_CLAUSE.search(text, start, end)
    if match is None or not only_stop_words(match.group(1)) or match.start() == start:
        return start, end
    return strip_space(text, start, match.start())


def word_chars(text: str) -> int:
    """How many word characters (letters, digits, underscore) ``text`` holds."""
    return len(WORD_CHAR.findall(text))


def only_stop_words(text: str) -> bool:
    """Whether every written word of ``text`` is a stop word (true for punctuation alone)."""
    return all(word.lower().replace("’", "'") in STOP_WORDS for word in WORD.findall(text))


def crosses_line_break(text: str) -> bool:
    """Whether ``text`` holds a line break (what ``split_paragraphs`` forbids inside a component)."""
    return LINE_BREAK.search(text) is not None


def well_formed_spans(
    text: str, spans: Sequence[tuple[int, int, str]], settings: DecodingSettings
) -> list[tuple[int, int, str]]:
    """Character spans ``(start, end, label)`` after the span rules of ``settings``, in text order, disjoint."""
    pieces: list[tuple[int, int, str]] = []
    for start, end, label in spans:
        parts = split_at_line_breaks(text, start, end) if settings.split_paragraphs else [(start, end)]
        if settings.split_sentences:
            parts = [piece for a, b in parts for piece in split_at(text, a, b, SENTENCE_END)]
        pieces += [(a, b, label) for a, b in parts]
    out: list[tuple[int, int, str]] = []
    for start, end, label in sorted(pieces):
        if settings.snap_words:
            start, end = snap_to_words(text, start, end)
        if out and start < out[-1][1]:  # snapping reached into the previous span: that word stays there
            start = out[-1][1]
        if settings.trim_punctuation:
            start, end = trim_edges(text, start, end)
        if settings.trim_connectives:
            start, end = trim_trailing_connective(text, start, end)
        start, end = strip_space(text, start, end)
        if start >= end:
            continue
        piece = text[start:end]
        if word_chars(piece) < settings.min_word_chars:
            continue
        if settings.drop_stopword_only and only_stop_words(piece):
            continue
        out.append((start, end, label))
    return out


# -- probabilities → components --------------------------------------------------------------


def tag_sequence(probabilities: np.ndarray, tags: Sequence[str], settings: DecodingSettings) -> list[int]:
    """One valid IOB2 tag id per word: Viterbi, or argmax then ``repair_bio``."""
    if settings.viterbi:
        return viterbi_bio(probabilities, tags)
    return repair_bio([int(i) for i in probabilities.argmax(axis=1)], tags)


ANY_LABEL = bio_tags(("any",))  # the tags of label-free decoding (``label_by_span``)


def word_spans_of(
    probabilities: np.ndarray, tags: Sequence[str], settings: DecodingSettings
) -> list[tuple[int, int, str]]:
    """``(first word, last word, label)`` of each decoded span; under ``label_by_span`` the label is ``"any"``.

    Label-free decoding reads ``tags`` as ``bio_tags`` lays them out (O, then B-L, I-L per label).
    """
    if not settings.label_by_span:
        return word_spans(tag_sequence(probabilities, tags, settings), tags)
    b, i = probabilities[:, 1::2].sum(axis=1), probabilities[:, 2::2].sum(axis=1)
    return word_spans(tag_sequence(np.stack([probabilities[:, 0], b, i], axis=1), ANY_LABEL, settings), ANY_LABEL)


def decode_words(
    text: str,
    words: Sequence[tuple[int, int]],
    probabilities: np.ndarray,
    tags: Sequence[str],
    settings: DecodingSettings = LEGACY,
    *,
    id_prefix: str = "c",
) -> list[Component]:
    """The components of ``text`` from one probability row per word (``words``: character spans).

    ``score`` is the mean, over the words a component overlaps, of the
    probability that the word is inside a component of its label (``B-L`` + ``I-L``);
    under ``label_by_span`` the label is the one with the highest such mean.
    """
    if len(words) != len(probabilities):
        raise ValueError(f"{len(probabilities)} probability rows for {len(words)} words")
    if not words:
        return []
    found = word_spans_of(probabilities, tags, settings)
    spans = [(words[first][0], words[last][1], label) for first, last, label in found]
    spans = well_formed_spans(text, spans, settings)
    starts = np.array([w[0] for w in words])
    ends = np.array([w[1] for w in words])
    candidates = labels_of_tags(tags) if settings.label_by_span else None  # None: the span keeps its label
    components = []
    for k, (start, end, label) in enumerate(spans, start=1):
        inside = np.flatnonzero((starts < end) & (ends > start))
        means = {
            name: float(probabilities[inside][:, [tags.index(f"B-{name}"), tags.index(f"I-{name}")]].sum(axis=1).mean())
            for name in (candidates or [label])
        }
        label = max(means, key=means.__getitem__)  # the first label wins a tie (bio_tags order)
        components.append(
            Component(id=f"{id_prefix}{k}", start=start, end=end, label=label, text=text[start:end], score=means[label])
        )
    return components
