"""Reader for Change My View modes v2.0 (Hidey et al. 2017): brat files → ``Thread``.

The corpus folder holds ``positive/`` and ``negative/``; each ``N.ann`` comes with
``N.txt`` (the whole discussion branch as one text) and ``N.metadata``::

    Title 0 58                       the OP title (annotated as main_claim); 3 files have a second
                                     Title line for an OP sentence that is also a main_claim
    Source http://www.reddit.com/... the reddit URL
    Content abc12x some_op 57 640    one line per message: reddit id, author, [start, end)
    Content def34y someone 640 990   the first Content line is the OP body
    Linked Premise 410 520 530 600   optional: spans (raw .ann offsets) that form one linked argument
    Delta Yes

``N.xml`` repeats the annotation and is not always well-formed, so it is not read.

What the data showed, and what this reader does about it:

* **Message boundaries** in ``.metadata`` are UTF-8 *byte* offsets (in every file with
  non-ASCII text the last ``Content`` ends at the byte length minus one, and only the byte
  reading puts every boundary on whitespace). They are converted to characters. Title and
  OP body may overlap by one character and neighbouring ``Content`` ranges touch; the post
  is ``txt[0 : start of the first reply]`` (title + OP body, as in the ``.txt``) and each
  reply runs to the start of the next one. A gap or overlap between neighbouring ranges is
  accepted only when it is whitespace. Every message text is stripped of surrounding
  whitespace (the separating blank lines); component offsets are relative to that text.
* **Span offsets** in ``.ann`` are character offsets for most spans but UTF-8 byte offsets
  for some (about 1 in 15), and 7 span texts carry a stray leading space (the offsets then
  cover the span plus one neighbouring whitespace character). The ``.ann`` text is the
  ground truth: see ``locate_span``. A span whose final offsets differ from the ``.ann``
  ones counts as repaired (``Thread.meta["offsets_repaired"]``).
* **reply_to**: a file is one branch, and in every file the messages alternate between the
  OP and a single challenger (no file has two non-OP authors or two consecutive messages
  by one author). The corpus carries no parent ids (neither ``.metadata`` nor ``.xml``), so
  each comment replies to the message before it; the first comment replies to the post.
* **Delta**: every ``.metadata`` says ``Delta Yes`` (the OP awarded a delta somewhere in the
  discussion), also in ``negative/``. Whether *this branch* earned the delta is the folder:
  ``meta["delta"]`` is ``True`` for ``positive/``; the raw line is kept as
  ``meta["metadata_delta"]``.
* A component that does not lie inside one message (crosses a boundary, or sits in the
  whitespace between messages) raises ``CorpusFormatError``: clipping would silently change
  the annotated text, and the released data has no such span.

``Thread.meta`` holds ``file`` (e.g. ``positive/0.ann``, relative to the corpus folder),
``source_url``, ``delta``, ``metadata_delta``, ``op_id`` (the OP's reddit id: the split
group), ``offsets_repaired`` and ``linked_premises`` (each ``Linked Premise`` line as a list
of component ids, matched on the raw ``.ann`` offsets).

Labels are kept as released: ``main_claim`` / ``claim`` / ``premise`` for components and
every relation label (``support``, ``agreement``, ``rebuttal``, ``undercutter``, ...).
Attribute lines (``A7 Type2 T7 evaluation_rational``) become ``Component.attributes``
(``{"Type2": "evaluation_rational"}``). Component ids are the brat ``T`` ids; reddit ids are
lower-case base-36, so they cannot collide, and a collision would raise anyway.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argmine.errors import CorpusFormatError, InvalidThreadError
from argmine.io_utils import read_text
from argmine.readers.splits import assign_groups, check_split_options
from argmine.thread import Comment, Component, Post, Relation, Thread, make_component, strip_space

logger = logging.getLogger(__name__)

FOLDERS = ("positive", "negative")
# The folder tells whether the branch earned a delta (see the module docstring).
_DELTA_BY_FOLDER = {"positive": True, "negative": False}

_T_LINE = re.compile(r"^(T\d+)\t(\S+) (\d+) (\d+)\t(.*)$", re.DOTALL)
_A_LINE = re.compile(r"^(A\d+)\t(\S+) (T\d+)(?: (\S+))?\s*$")
_R_LINE = re.compile(r"^(R\d+)\t(\S+) Arg1:(T\d+) Arg2:(T\d+)\s*$")


# -- public API ---------------------------------------------------------------


def read_cmv(
    path: str | Path, *, split: str = "all", seed: int = 13, dev_fraction: float = 0.15, test_fraction: float = 0.15
) -> Iterator[Thread]:
    """Threads of the CMV modes corpus at ``path``, one per ``.ann`` file (id ``positive/0``).

    ``split`` picks ``train``/``dev``/``test`` (or ``all``) by OP: every file of one original
    post lands on the same side (``argmine.readers.splits.assign_groups`` over OP ids with
    ``seed`` and the fractions). Arguments and the folder layout are checked before the
    first thread is read; a broken file raises ``CorpusFormatError`` naming file and line.
    """
    check_split_options(split, dev_fraction, test_fraction)
    root = Path(path)
    files = _list_files(root)
    metadata = {ann: _read_metadata(ann.with_suffix(".metadata")) for ann in files}
    sides = assign_groups(
        (m.op_id for m in metadata.values()), seed=seed, dev_fraction=dev_fraction, test_fraction=test_fraction
    )
    return _threads(root, files, metadata, sides, split)


def locate_span(
    text: str, start: int, end: int, span_text: str, *, char_of_byte: Mapping[int, int] | None = None
) -> tuple[int, int, str]:
    """Character offsets of ``span_text`` in ``text``, given brat offsets that may be off.

    Tried in order, first hit wins (the returned tag says which):

    1. ``exact``: ``text[start:end] == span_text``.
    2. ``bytes``: the same with ``start``/``end`` read as UTF-8 byte offsets.
    3. ``whitespace``: ``span_text`` stripped of surrounding whitespace, found where its
       leading whitespace would put it, or at ``start``, or ending at ``end``.
    4. ``bytes+whitespace``: step 3 around the byte-converted offsets.
    5. ``search``: the stripped text's occurrence nearest to ``start`` (or to the
       byte-converted start), no farther than the possible byte/char drift plus 50
       characters; two equally near occurrences are ambiguous.

    ``char_of_byte`` (from ``_char_of_byte(text)``) saves rebuilding the byte map per span.
    Raises ``CorpusFormatError`` when the text cannot be located (the caller adds file and line).
    """
    core = span_text.strip()
    if not core:
        raise CorpusFormatError(f"span text {span_text!r} is empty or only whitespace")
    if 0 <= start < end <= len(text) and text[start:end] == span_text:
        return start, end, "exact"
    if char_of_byte is None:
        char_of_byte = _char_of_byte(text)
    byte_start, byte_end = char_of_byte.get(start), char_of_byte.get(end)
    as_bytes = byte_start is not None and byte_end is not None and (byte_start, byte_end) != (start, end)
    if as_bytes and text[byte_start:byte_end] == span_text:
        return byte_start, byte_end, "bytes"
    found = _near(text, start, end, span_text, core)
    if found is not None:
        return found[0], found[1], "whitespace"
    if as_bytes:
        found = _near(text, byte_start, byte_end, span_text, core)
        if found is not None:
            return found[0], found[1], "bytes+whitespace"
    drift = max(char_of_byte) - len(text) + 50  # bytes beyond characters, plus slack
    anchors = [start] + ([byte_start] if byte_start is not None else [])
    hits = [m.start() for m in re.finditer(re.escape(core), text)]
    scored = sorted((min(abs(h - a) for a in anchors), h) for h in hits)
    scored = [(distance, h) for distance, h in scored if distance <= drift]
    if not scored:
        raise CorpusFormatError(f"text {_clip(core)!r} is not within {drift} characters of offset {start}")
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        first, second = scored[0][1], scored[1][1]
        raise CorpusFormatError(f"text {_clip(core)!r} occurs at {first} and {second}, equally near offset {start}")
    hit = scored[0][1]
    return hit, hit + len(core), "search"


# -- files --------------------------------------------------------------------


@dataclass(frozen=True)
class _Metadata:
    path: Path
    op_id: str
    source_url: str
    delta: bool
    titles: tuple[tuple[int, int], ...]
    # (reddit id, author, start byte, end byte, line number)
    contents: tuple[tuple[str, str, int, int, int], ...]
    # each group: raw .ann (start, end) pairs, with the metadata line number
    linked: tuple[tuple[tuple[tuple[int, int], ...], int], ...] = field(default=())


def _list_files(root: Path) -> list[Path]:
    if not root.is_dir():
        raise CorpusFormatError("CMV corpus folder not found" if not root.exists() else "not a folder", source=root)
    files: list[Path] = []
    for folder in FOLDERS:
        sub = root / folder
        if not sub.is_dir():
            raise CorpusFormatError(f"missing the {folder!r} sub-folder of the CMV corpus", source=sub)
        anns = sorted(sub.glob("*.ann"), key=_natural_key)
        annotated = {p.stem for p in anns}
        for metadata in sub.glob("*.metadata"):
            if metadata.stem not in annotated:
                raise CorpusFormatError("has no .ann file beside it", source=metadata)
        for ann in anns:
            for suffix in (".txt", ".metadata"):
                if not ann.with_suffix(suffix).is_file():
                    raise CorpusFormatError(f"has no {suffix} file beside it", source=ann)
        files += anns
    if not files:
        raise CorpusFormatError(f"no .ann files under {' or '.join(FOLDERS)}", source=root)
    return files


def _natural_key(path: Path) -> tuple[int, str]:
    return (int(path.stem), "") if path.stem.isdigit() else (1 << 60, path.stem)


def _read_metadata(path: Path) -> _Metadata:
    titles: list[tuple[int, int]] = []
    contents: list[tuple[str, str, int, int, int]] = []
    linked: list[tuple[tuple[tuple[int, int], ...], int]] = []
    source: str | None = None
    delta: bool | None = None
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        key = fields[0]
        if key == "Title" and len(fields) == 3:
            titles.append(_offsets(fields[1:], path, number))
        elif key == "Source" and len(fields) == 2 and source is None:
            source = fields[1]
        elif key == "Content" and len(fields) == 5:
            start, end = _offsets(fields[3:], path, number)
            contents.append((fields[1], fields[2], start, end, number))
        elif key == "Linked" and fields[1:2] == ["Premise"] and len(fields) >= 4 and len(fields) % 2 == 0:
            numbers = fields[2:]
            pairs = tuple(_offsets(numbers[i : i + 2], path, number) for i in range(0, len(numbers), 2))
            linked.append((pairs, number))
        elif key == "Delta" and len(fields) == 2 and fields[1] in ("Yes", "No") and delta is None:
            delta = fields[1] == "Yes"
        else:
            raise CorpusFormatError(f"unexpected metadata line {_clip(line)!r}", source=path, line=number)
    missing = {"Title": not titles, "Source": source is None, "Content": not contents, "Delta": delta is None}
    for what, absent in missing.items():
        if absent:
            raise CorpusFormatError(f"no {what} line", source=path)
    ids = [c[0] for c in contents]
    if len(set(ids)) != len(ids):
        raise CorpusFormatError(f"a Content id appears twice: {ids}", source=path)
    assert source is not None and delta is not None
    return _Metadata(path, contents[0][0], source, delta, tuple(titles), tuple(contents), tuple(linked))


def _offsets(fields: list[str], path: Path, line: int) -> tuple[int, int]:
    try:
        start, end = int(fields[0]), int(fields[1])
    except ValueError:
        raise CorpusFormatError(f"offsets must be integers, got {' '.join(fields)!r}", source=path, line=line) from None
    if not 0 <= start <= end:
        raise CorpusFormatError(f"bad offsets [{start}, {end})", source=path, line=line)
    return start, end


# -- one thread ----------------------------------------------------------------


@dataclass
class _Span:
    id: str
    label: str
    start: int  # as written in .ann
    end: int
    text: str
    line: int
    attributes: dict[str, Any] = field(default_factory=dict)


def _threads(
    root: Path, files: list[Path], metadata: dict[Path, _Metadata], sides: dict[str, str], split: str
) -> Iterator[Thread]:
    count = repaired = 0
    for ann in files:
        meta = metadata[ann]
        if split != "all" and sides[meta.op_id] != split:
            continue
        thread = _read_thread(root, ann, meta)
        count += 1
        repaired += thread.meta["offsets_repaired"]
        yield thread
    logger.info("read %d CMV threads (split %s) from %s; %d span offsets repaired", count, split, root, repaired)


def _read_thread(root: Path, ann: Path, meta: _Metadata) -> Thread:
    text = read_text(ann.with_suffix(".txt"))
    char_of_byte = _char_of_byte(text)
    spans, relations = _read_ann(ann)
    messages = _message_ranges(text, char_of_byte, meta)

    raw_offsets: dict[str, tuple[int, int]] = {}
    by_message: list[list[Component]] = [[] for _ in messages]
    repaired = 0
    starts = [start for start, _ in messages]
    for span in spans:
        try:
            start, end, how = locate_span(text, span.start, span.end, span.text, char_of_byte=char_of_byte)
        except CorpusFormatError as error:
            raise CorpusFormatError(f"{span.id}: cannot locate the span: {error.message}", source=ann, line=span.line) from None
        if (start, end) != (span.start, span.end):
            repaired += 1
            logger.debug(
                "%s:%d %s offsets [%d, %d) -> [%d, %d) (%s)",
                *(ann, span.line, span.id, span.start, span.end, start, end, how),
            )
        index = bisect.bisect_right(starts, start) - 1
        holder_start, holder_end = messages[index] if index >= 0 else (0, -1)
        if index < 0 or end > holder_end:
            raise CorpusFormatError(
                f"{span.id}: span [{start}, {end}) {_clip(text[start:end])!r} does not lie inside one message",
                source=ann,
                line=span.line,
            )
        raw_offsets[span.id] = (span.start, span.end)
        by_message[index].append(
            make_component(
                text[holder_start:holder_end],
                start - holder_start,
                end - holder_start,
                span.label,
                span.id,
                attributes=span.attributes,
            )
        )

    for components in by_message:
        components.sort(key=lambda c: (c.start, c.end, c.id))
    message_ids = {content[0] for content in meta.contents}
    clash = message_ids & set(raw_offsets)
    if clash:
        raise CorpusFormatError(f"component ids {sorted(clash)} are also message ids in {meta.path}", source=ann)

    (op_id, op_author, *_), replies = meta.contents[0], meta.contents[1:]
    post_start, post_end = messages[0]
    post = Post(id=op_id, author=op_author, text=text[post_start:post_end], components=by_message[0])
    comments = []
    previous = op_id
    for (comment_id, author, *_), (start, end), components in zip(replies, messages[1:], by_message[1:], strict=True):
        comments.append(
            Comment(id=comment_id, author=author, text=text[start:end], reply_to=previous, components=components)
        )
        previous = comment_id

    relative = ann.relative_to(root)
    thread_meta = {
        "file": relative.as_posix(),
        "source_url": meta.source_url,
        "delta": _DELTA_BY_FOLDER[relative.parts[0]],
        "metadata_delta": meta.delta,
        "op_id": op_id,
        "offsets_repaired": repaired,
        "linked_premises": _linked_groups(meta, raw_offsets),
    }
    try:
        return Thread(
            id=relative.with_suffix("").as_posix(), post=post, comments=comments, relations=relations, meta=thread_meta
        )
    except InvalidThreadError as error:
        raise error.located(ann) from None


def _read_ann(path: Path) -> tuple[list[_Span], list[Relation]]:
    spans: dict[str, _Span] = {}
    attributes: list[tuple[str, str, Any, int]] = []
    raw_relations: list[tuple[str, str, str, int]] = []
    seen: set[str] = set()
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        identifier = line.split("\t", 1)[0]
        if identifier in seen:
            raise CorpusFormatError(f"id {identifier} is used twice", source=path, line=number)
        seen.add(identifier)
        if match := _T_LINE.match(line):
            tid, label, start, end, span_text = match.groups()
            spans[tid] = _Span(tid, label, int(start), int(end), span_text, number)
        elif match := _A_LINE.match(line):
            _, name, tid, value = match.groups()
            attributes.append((tid, name, True if value is None else value, number))
        elif match := _R_LINE.match(line):
            _, label, source, target = match.groups()
            raw_relations.append((source, target, label, number))
        else:
            parts = line.split("\t")
            kind = "discontinuous span" if line.startswith("T") and len(parts) > 1 and ";" in parts[1] else "line"
            raise CorpusFormatError(f"unsupported brat {kind}: {_clip(line)!r}", source=path, line=number)
    for tid, name, value, number in attributes:
        if tid not in spans:
            raise CorpusFormatError(f"attribute {name} refers to unknown span {tid}", source=path, line=number)
        if name in spans[tid].attributes:
            raise CorpusFormatError(f"{tid} has attribute {name} twice", source=path, line=number)
        spans[tid].attributes[name] = value
    relations = []
    for source, target, label, number in raw_relations:
        for end_id in (source, target):
            if end_id not in spans:
                raise CorpusFormatError(f"relation {label} refers to unknown span {end_id}", source=path, line=number)
        relations.append(Relation(source=source, target=target, label=label))
    return list(spans.values()), relations


def _message_ranges(text: str, char_of_byte: Mapping[int, int], meta: _Metadata) -> list[tuple[int, int]]:
    """Character ranges of the post and each reply, stripped of surrounding whitespace."""

    def chars(offset: int, line: int) -> int:
        if offset not in char_of_byte:
            raise CorpusFormatError(
                f"offset {offset} is not a character boundary of the {max(char_of_byte)}-byte .txt",
                source=meta.path,
                line=line,
            )
        return char_of_byte[offset]

    for start, end in meta.titles:
        if end > meta.contents[0][3]:
            raise CorpusFormatError(f"title [{start}, {end}) ends after the OP body", source=meta.path)
    bounds: list[tuple[int, int]] = []
    previous_end: int | None = None
    for index, (_, _, start, end, line) in enumerate(meta.contents):
        start, end = chars(start, line), chars(end, line)
        if index == 0:
            start = 0  # the post begins with the title
        else:
            assert previous_end is not None
            between = text[min(start, previous_end) : max(start, previous_end)]
            if between.strip():
                raise CorpusFormatError(
                    f"Content range starts at {start} but the previous one ends at {previous_end}, "
                    f"across text {_clip(between)!r}",
                    source=meta.path,
                    line=line,
                )
            bounds[-1] = (bounds[-1][0], start)
        if start > end:
            raise CorpusFormatError(f"Content range [{start}, {end}) is reversed", source=meta.path, line=line)
        bounds.append((start, end))
        previous_end = end
    assert previous_end is not None
    if text[previous_end:].strip():
        raise CorpusFormatError(
            f"text after the last Content range (from character {previous_end}) is not whitespace: "
            f"{_clip(text[previous_end:].strip())!r}",
            source=meta.path,
        )
    return [strip_space(text, start, end) for start, end in bounds]


def _linked_groups(meta: _Metadata, raw_offsets: dict[str, tuple[int, int]]) -> list[list[str]]:
    """``Linked Premise`` groups as component ids (matched on the raw ``.ann`` offsets)."""
    by_offsets: dict[tuple[int, int], list[str]] = {}
    for tid, offsets in raw_offsets.items():
        by_offsets.setdefault(offsets, []).append(tid)
    groups = []
    for pairs, line in meta.linked:
        group = []
        for pair in pairs:
            ids = by_offsets.get(pair, [])
            if len(ids) != 1:
                problem = "no span" if not ids else f"several spans ({', '.join(ids)})"
                raise CorpusFormatError(
                    f"Linked Premise offsets {pair[0]} {pair[1]} match {problem} in the .ann",
                    source=meta.path,
                    line=line,
                )
            group.append(ids[0])
        groups.append(group)
    return groups


# -- helpers --------------------------------------------------------------------


def _near(text: str, start: int, end: int, span_text: str, core: str) -> tuple[int, int] | None:
    lead = len(span_text) - len(span_text.lstrip())
    for candidate in (start + lead, start, end - len(core)):
        if 0 <= candidate and text[candidate : candidate + len(core)] == core:
            return candidate, candidate + len(core)
    return None


def _char_of_byte(text: str) -> dict[int, int]:
    """UTF-8 byte offset → character offset, for every character boundary (and the end)."""
    mapping, offset = {}, 0
    for index, character in enumerate(text):
        mapping[offset] = index
        offset += len(character.encode("utf-8"))
    mapping[offset] = len(text)
    return mapping


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
