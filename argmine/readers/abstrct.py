"""AbstRCT (Mayer et al. 2020), token-per-line BIO + relation TSV → ``Thread``.

Layout read (the multilingual-abstrct release, English part)::

    <path>/EN/argument_components/original_data/neoplasm_train.tsv   TOKEN TAG per line, blank line between sentences
    <path>/EN/argument_relations/neoplasm_relations_train.tsv       LABEL \\t source text \\t target text

``path`` may be the release folder or its ``EN/`` folder. Tags are ``O``, ``B-Claim``, ``I-Claim``,
``B-Premise``, ``I-Premise``; relation labels ``Support``, ``Attack`` (``Partial-Attack`` too, as in the
original AbstRCT) and ``noRel`` (a pair of components with no relation, not kept).

**Splits** are the release's files: ``train`` = ``neoplasm_train``, ``dev`` = ``neoplasm_dev``, ``test``
= ``neoplasm_test`` (+ ``glaucoma_test``, ``mixed_test``) where present; ``../shared/data`` holds train
and dev only (350 and 50 abstracts; the README's "100 dev" is the test count swapped), and asking
for an absent split is an error. No seed: nothing is shuffled.

**Abstracts.** The BIO file has no abstract boundaries: it is all abstracts' sentences in a row.
The relation file pairs every two components of one abstract (both directions, ``noRel`` when
unrelated), so its pairs form one clique per abstract. Each component is matched to its
relation-file text (whitespace removed; the few that differ in a character, such as ``0.34`` /
``34``, ``TRUE`` / ``true``, are matched by similarity ≥ 0.9, one to one, counted in
``meta["repaired"]``), and consecutive components of one clique make one abstract. A clique
whose components are not consecutive, or a relation text that matches no component, is a
``CorpusFormatError``. The sentences without components between two abstracts cannot be placed
from the data: they open the next abstract (abstracts start with background and methods and
end on their conclusion, a Claim), except a trial-registration sentence ("This trial is
registered ...") right after a conclusion, which closes the abstract before.

**Text.** Tokens are joined by one space, except none before ``, . ; : ) ] %`` and none after ``(
[``; sentences are joined by one space. This is the release's untokenized component text (in the
relation file) for about 90% of components; the others differ only in spacing
(``P < 0.05`` for ``P<0.05``). The token ``";"`` (a semicolon quoted by the export, 902 times) is
read as ``;``. Offsets are exact: each component's text is its slice of the abstract.

**BIO errors.** An ``I-`` tag after ``O`` (or at a sentence start, or continuing another label)
is a ``CorpusFormatError``, with one exception the release needs: a single ``O`` token between two
tokens of one span (train: ``... s.d . ) , and ...`` with ``)`` tagged ``O``) is bridged into the
span, with a warning, and counted in ``meta["repaired"]``.

``Thread.meta``: ``corpus``, ``subset`` (``neoplasm_train`` ...), ``split``, ``abstract`` (1, 2, ...
in file order), ``sentence_spans``, ``bio_lines`` ([first, last] line of the abstract in the
BIO file), ``repaired``.
"""

from __future__ import annotations

import difflib
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argmine.errors import CorpusFormatError, InvalidThreadError
from argmine.io_utils import read_text
from argmine.readers.splits import check_split
from argmine.thread import Post, Relation, Thread, make_component

log = logging.getLogger(__name__)

CORPUS = "abstrct"
COMPONENT_LABELS = ("Claim", "Premise")
RELATION_LABELS = ("Support", "Attack", "Partial-Attack")
NO_RELATION = "noRel"
SUBSETS = {"train": ("neoplasm_train",), "dev": ("neoplasm_dev",),
           "test": ("neoplasm_test", "glaucoma_test", "mixed_test")}
NO_SPACE_BEFORE = frozenset({",", ".", ";", ":", ")", "]", "%"})
NO_SPACE_AFTER = frozenset({"(", "["})
QUOTED_SEMICOLON = '";"'
MIN_SIMILARITY = 0.9
REPAIRED_GAP = "BIO gaps of one O token bridged"
REPAIRED_MATCH = "relation texts matched by similarity"
REPAIRED_SEMICOLON = 'quoted ";" tokens read as ;'
SKIPPED_RELATION = "relations to a text the BIO file tags as no component"


@dataclass
class _Span:
    sentence: int
    start: int  # token indices in the sentence, end exclusive
    end: int
    label: str
    line: int
    key: str = ""


@dataclass
class _Sentence:
    tokens: list[str]
    lines: list[int]


@dataclass
class _Row:
    label: str
    source: str
    target: str
    line: int


@dataclass
class _Abstract:
    sentences: list[int]
    spans: list[_Span]
    repaired: Counter[str] = field(default_factory=Counter)


def read_abstrct(path: str | Path, *, split: str = "all") -> Iterator[Thread]:
    """Threads of AbstRCT at ``path``, one per abstract, file by file (train, dev, test), in file order."""
    check_split(split)
    components_dir, relations_dir = _locate(Path(path))
    wanted = [name for side in ("train", "dev", "test") if split in ("all", side) for name in SUBSETS[side]]
    present = [name for name in wanted if (components_dir / f"{name}.tsv").is_file()]
    if not present:
        names = ", ".join(f"{n}.tsv" for n in wanted)
        raise CorpusFormatError(f"split {split!r} needs {names}, which this copy does not have", source=components_dir)
    return _threads(components_dir, relations_dir, present)


def _locate(path: Path) -> tuple[Path, Path]:
    if not path.is_dir():
        raise CorpusFormatError("no such folder" if not path.exists() else "expected a folder, got a file", source=path)
    for base in (path / "EN", path):
        components, relations = base / "argument_components" / "original_data", base / "argument_relations"
        if components.is_dir():
            return components, relations
    raise CorpusFormatError("no EN/argument_components/original_data/ here: not the AbstRCT release", source=path)


def _relation_file(relations_dir: Path, subset: str) -> Path:
    disease, _, part = subset.rpartition("_")
    return relations_dir / f"{disease}_relations_{part}.tsv"


def _threads(components_dir: Path, relations_dir: Path, subsets: list[str]) -> Iterator[Thread]:
    for subset in subsets:
        bio_path, relation_path = components_dir / f"{subset}.tsv", _relation_file(relations_dir, subset)
        if not relation_path.is_file():
            raise CorpusFormatError(f"the relation file for {bio_path.name} is missing", source=relation_path)
        sentences, spans, repaired = _read_bio(bio_path)
        rows = _read_relations(relation_path)
        abstracts = _abstracts(sentences, spans, rows, bio_path, relation_path)
        by_text: dict[str, list[_Row]] = {}  # each row under both of its texts
        for row in rows:
            by_text.setdefault(row.source, []).append(row)
            by_text.setdefault(row.target, []).append(row)
        side = next(s for s, names in SUBSETS.items() if subset in names)
        for number, abstract in enumerate(abstracts, start=1):
            if number == 1:
                abstract.repaired.update(repaired)  # file-level repairs, counted once
            try:
                yield _thread(subset, side, number, abstract, sentences, by_text, relation_path)
            except InvalidThreadError as error:
                raise error.located(bio_path, abstract.spans[0].line if abstract.spans else None) from None


# -- the BIO file -------------------------------------------------------------------------------------------


def _read_bio(path: Path) -> tuple[list[_Sentence], list[_Span], Counter[str]]:
    sentences: list[_Sentence] = []
    tags: list[list[str]] = []
    repaired: Counter[str] = Counter()
    current: _Sentence | None = None
    valid = {"O", *(f"{p}-{label}" for p in "BI" for label in COMPONENT_LABELS)}
    for number, raw in enumerate(read_text(path).split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            current = None
            continue
        fields = line.split()
        if len(fields) != 2:
            raise CorpusFormatError(f"expected 'TOKEN TAG', got {line!r}", source=path, line=number)
        token, tag = fields
        if tag not in valid:
            raise CorpusFormatError(f"tag {tag!r} is not one of {', '.join(sorted(valid))}", source=path, line=number)
        if token == QUOTED_SEMICOLON:
            token = ";"
            repaired[REPAIRED_SEMICOLON] += 1
        if current is None:
            current = _Sentence([], [])
            sentences.append(current)
            tags.append([])
        current.tokens.append(token)
        current.lines.append(number)
        tags[-1].append(tag)
    spans: list[_Span] = []
    for index, (sentence, sentence_tags) in enumerate(zip(sentences, tags)):
        spans += _sentence_spans(index, sentence, sentence_tags, path, repaired)
    for span in spans:
        span.key = "".join(sentences[span.sentence].tokens[span.start : span.end])
    return sentences, spans, repaired


def _sentence_spans(
    index: int, sentence: _Sentence, tags: list[str], path: Path, repaired: Counter[str]
) -> list[_Span]:
    spans: list[_Span] = []
    open_span: _Span | None = None
    for i, tag in enumerate(tags):
        if tag.startswith("B-"):
            open_span = _Span(index, i, i + 1, tag[2:], sentence.lines[i])
            spans.append(open_span)
        elif tag.startswith("I-"):
            label = tag[2:]
            previous = tags[i - 1] if i else None
            bridge = (previous == "O" and i >= 2 and tags[i - 2][2:] == label and tags[i - 2] != "O"
                      and spans and spans[-1].end == i - 1)
            if bridge:
                log.warning("%s:%d: one O token inside a %s span; bridged", path, sentence.lines[i - 1], label)
                repaired[REPAIRED_GAP] += 1
                open_span = spans[-1]
            elif open_span is None or open_span.label != label:
                after = "at the start of a sentence" if previous is None else f"after {previous}"
                raise CorpusFormatError(f"tag {tag} {after}: a span must begin with B-{label}", source=path,
                                        line=sentence.lines[i])
            open_span.end = i + 1
        else:
            open_span = None
    return spans


# -- the relation file ------------------------------------------------------------------------------------------


def _read_relations(path: Path) -> list[_Row]:
    rows = []
    for number, raw in enumerate(read_text(path).split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise CorpusFormatError(f"expected 3 tab-separated fields (label, source, target), got {len(fields)}",
                                    source=path, line=number)
        label = fields[0].removeprefix("__label__")
        if label not in (*RELATION_LABELS, NO_RELATION):
            raise CorpusFormatError(f"relation label {fields[0]!r} is not one of "
                                    f"{', '.join('__label__' + x for x in (*RELATION_LABELS, NO_RELATION))}",
                                    source=path, line=number)
        if not fields[1].strip() or not fields[2].strip():
            raise CorpusFormatError("empty source or target text", source=path, line=number)
        rows.append(_Row(label, _key(fields[1]), _key(fields[2]), number))
    return rows


def _key(text: str) -> str:
    return "".join(text.split())


# -- abstracts --------------------------------------------------------------------------------------------------


def _abstracts(sentences: list[_Sentence], spans: list[_Span], rows: list[_Row], bio: Path,
               relation_path: Path) -> list[_Abstract]:
    if not spans:
        raise CorpusFormatError("no components in this file", source=bio)
    # Cliques of the relation file: union-find over the texts of each pair.
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first_line: dict[str, int] = {}
    for row in rows:
        for text in (row.source, row.target):
            first_line.setdefault(text, row.line)
        a, b = find(row.source), find(row.target)
        if a != b:
            parent[max(a, b)] = min(a, b)

    matched: dict[int, str] = {}
    approximate: set[int] = set()
    exact = {text for text in first_line}
    for i, span in enumerate(spans):
        if span.key in exact:
            matched[i] = span.key
    left_texts = sorted(exact - set(matched.values()))
    left_spans = [i for i in range(len(spans)) if i not in matched]
    candidates = sorted(
        ((difflib.SequenceMatcher(None, spans[i].key, t, autojunk=False).ratio(), i, t)
         for i in left_spans for t in left_texts),
        reverse=True,
    )
    for ratio, i, text in candidates:
        if ratio < MIN_SIMILARITY:
            break
        if i in matched or text in matched.values():
            continue
        matched[i], spans[i].key = text, text
        approximate.add(i)
    unmatched = sorted(set(left_texts) - set(matched.values()), key=first_line.get)
    if len(unmatched) * 2 > len(first_line):  # not a few annotation slips: the wrong pair of files
        raise CorpusFormatError(f"{len(unmatched)} of its {len(first_line)} texts match no component of {bio.name}: "
                                "is it that file's relation file?", source=relation_path)
    for text in unmatched:
        log.warning("%s:%d: a text of this row is no component in %s: its relations are skipped (meta.skipped)",
                    relation_path, first_line[text], bio.name)

    # Consecutive components of one clique are one abstract; an unpaired component is one alone.
    runs: list[list[int]] = []
    cliques: list[str | None] = []
    for i in range(len(spans)):
        clique = find(matched[i]) if i in matched else None
        if runs and clique is not None and cliques[-1] == clique:
            runs[-1].append(i)
        else:
            runs.append([i])
            cliques.append(clique)
    seen: dict[str, int] = {}
    for run, clique in zip(runs, cliques):
        if clique is None:
            continue
        if clique in seen:
            raise CorpusFormatError("this component belongs to the abstract of line "
                                    f"{seen[clique]}, but other abstracts' components lie between them",
                                    source=bio, line=spans[run[0]].line)
        seen[clique] = spans[run[0]].line
    for before, after in zip(runs, runs[1:]):
        if spans[before[-1]].sentence == spans[after[0]].sentence:
            raise CorpusFormatError("two abstracts' components share a sentence", source=bio,
                                    line=spans[after[0]].line)

    abstracts: list[_Abstract] = []
    start = 0
    for k, run in enumerate(runs):
        last = spans[run[-1]].sentence
        if k + 1 < len(runs):
            gap = range(last + 1, spans[runs[k + 1][0]].sentence)
            registrations = [s for s in gap if _is_registration(sentences[s])]
            end = registrations[-1] + 1 if registrations else last + 1
        else:
            end = len(sentences)
        abstract = _Abstract(list(range(start, end)), [spans[i] for i in run])
        abstract.repaired[REPAIRED_MATCH] += sum(i in approximate for i in run)
        abstracts.append(abstract)
        start = end
    return abstracts


def _is_registration(sentence: _Sentence) -> bool:
    words = [t.lower() for t in sentence.tokens[:6]]
    return bool(words) and words[0] == "this" and "registered" in words


# -- threads ----------------------------------------------------------------------------------------------------


def _join(tokens: list[str]) -> tuple[str, list[int]]:
    """The sentence's text and each token's start offset in it."""
    parts: list[str] = []
    starts: list[int] = []
    position = 0
    for i, token in enumerate(tokens):
        if i and token not in NO_SPACE_BEFORE and tokens[i - 1] not in NO_SPACE_AFTER:
            parts.append(" ")
            position += 1
        starts.append(position)
        parts.append(token)
        position += len(token)
    return "".join(parts), starts


def _thread(subset: str, side: str, number: int, abstract: _Abstract, sentences: list[_Sentence],
            by_text: dict[str, list[_Row]], relation_path: Path) -> Thread:
    thread_id = f"{subset}_{number:03d}"
    pieces: list[str] = []
    sentence_spans: list[list[int]] = []
    token_starts: dict[int, list[int]] = {}
    position = 0
    for s in abstract.sentences:
        text, starts = _join(sentences[s].tokens)
        if pieces:
            pieces.append(" ")
            position += 1
        token_starts[s] = [position + x for x in starts]
        sentence_spans.append([position, position + len(text)])
        pieces.append(text)
        position += len(text)
    full = "".join(pieces)
    components = []
    by_key: dict[str, list[str]] = {}
    for j, span in enumerate(abstract.spans, start=1):
        tokens, starts = sentences[span.sentence].tokens, token_starts[span.sentence]
        start, end = starts[span.start], starts[span.end - 1] + len(tokens[span.end - 1])
        component_id = f"{thread_id}/c{j}"
        components.append(make_component(full, start, end, span.label, component_id,
                                         attributes={"bio_line": span.line}))
        by_key.setdefault(span.key, []).append(component_id)
    relations = []
    rows = {row.line: row for key in by_key for row in by_text.get(key, [])}
    skipped: Counter[str] = Counter()
    for _, row in sorted(rows.items()):
        if row.label == NO_RELATION:
            continue
        if row.source not in by_key or row.target not in by_key:
            skipped[SKIPPED_RELATION] += 1
            continue
        sources, targets = by_key[row.source], by_key.get(row.target, [])
        if len(sources) != 1 or len(targets) != 1:
            raise CorpusFormatError(f"a {row.label} relation between texts that occur more than once in one "
                                    "abstract: which component is meant is unknown",
                                    source=relation_path, line=row.line)
        relations.append(Relation(sources[0], targets[0], row.label))
    relations = list(dict.fromkeys(relations))  # a pair the file lists twice is one relation
    lines = [line for s in abstract.sentences for line in sentences[s].lines]
    post = Post(id=thread_id, author=None, text=full, components=components)
    meta: dict[str, Any] = {
        "corpus": CORPUS,
        "subset": subset,
        "split": side,
        "abstract": number,
        "sentence_spans": sentence_spans,
        "bio_lines": [lines[0], lines[-1]] if lines else None,
        "repaired": {k: v for k, v in abstract.repaired.items() if v},
        "skipped": dict(skipped),
    }
    return Thread(id=thread_id, post=post, relations=relations, meta=meta)
