"""brat standoff folders: read any brat project as threads; write threads to correct them in brat.

Reading (``read_brat``). Each ``X.txt`` (with ``X.ann`` beside it, if any) is
one document and becomes one thread:

* **Plain brat document** (no sidecar): the post is the whole ``.txt``
  (id ``"post"``, no author) and holds every component; the thread id is the
  document's path below the folder without ``.txt`` (``sub/X``). A ``.txt``
  without ``.ann`` is an unannotated document: a thread without components.
  An ``.ann`` without its ``.txt`` is an error.
* ``T`` lines become components (id = the brat id, label = the brat type).
  A discontinuous span ``T1 Claim 0 5;7 9`` becomes one component over the
  covering span ``[0, 9)``; its pieces are kept in
  ``attributes["brat_fragments"]`` (``[[0, 5], [7, 9]]``, holder offsets).
  Pieces separated only by line breaks are one span (brat cuts a span at each
  line break), so they get no ``brat_fragments``.
* ``A``/``M`` lines: ``Stance T3 For`` sets the component's stance; any other
  attribute goes to ``attributes[name]`` (the value, or ``True`` for a binary
  attribute). ``#`` notes on a component go to ``attributes["brat_notes"]``
  (a list), ``N`` normalisations to ``attributes["brat_normalizations"]``;
  notes on anything else, ``*`` equivalences and free ``#`` comment lines go
  to the thread's meta (``brat_notes``, ``brat_equivalences``, ``brat_comments``).
* ``R`` lines (roles ``Arg1``/``Arg2``) become relations. Events (``E``) and
  attributes on relations have no place in the data model and are an error,
  like malformed lines, unknown ids, and a span whose text in ``.ann``
  differs from the ``.txt`` (``CorpusFormatError`` with file and line).

Writing (``write_brat``). Per thread, three files plus one ``annotation.conf``:

* ``X.txt``: each message (post first, then comments) under a one-line
  header, messages separated by a blank line::

      ### post p1 (by Alice)
      <post text>

      ### comment c1 (by Bob, reply to p1)
      <comment text>

  The ``post p1`` / ``comment c1`` part of each header carries an *anchor*
  entity (type ``Post`` / ``Comment``). A post's or comment's stance is an
  ``A Stance`` line on its anchor, and a relation whose target is a post or
  comment is an ``R`` line to its anchor, so both can be seen and corrected
  in brat like any other annotation (this also works for an empty post).
* ``X.ann``: anchors, components (spans that cross a line break are written
  as pieces, as brat itself does), ``Stance`` and other simple attributes,
  notes, relations.
* ``X.argmine.json``, the *sidecar*: the thread skeleton brat cannot hold
  (thread, message and reply ids, authors, meta, where each message and header
  lies in ``X.txt``, the hash of ``X.txt``) and, per brat id, the original
  component id, exact offsets, scores and attributes that brat cannot show.

``read_brat`` recognises the sidecar and rebuilds the full thread:
``write_brat`` then ``read_brat`` gives back an equal ``Thread`` (also equal
``to_dict()``). Annotations edited in brat are read from ``.ann`` as they are
now: a component given another span or label keeps its id and attributes but
loses its model score (and a relation with other ends or label its score),
since the score was for the old annotation; a new component gets its brat id
as id. Every ``T`` must then lie inside one message's text or inside a header
(an anchor); anything else is an error. Without its sidecar such a folder
still reads, as plain brat (anchors then become ``Post``/``Comment``
components of one post).

The folder is written atomically: every file goes into a temporary sibling folder,
which is renamed into place once complete, so an error part-way leaves the target
as it was. A target that already holds files is refused (its old threads would read
back beside the new ones) unless ``replace=True`` (``--force``): then it is replaced
whole, and its old content is deleted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argmine.errors import ArgmineError, CorpusFormatError, InvalidThreadError
from argmine.io_utils import read_text
from argmine.readers.splits import assign_groups, check_split
from argmine.thread import Comment, Component, Post, Relation, Stance, Thread

logger = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".argmine.json"
SIDECAR_FORMAT = "argmine-brat"
SIDECAR_VERSION = 1
STANCE = "Stance"
POST_TYPE = "Post"
COMMENT_TYPE = "Comment"
PLAIN_POST_ID = "post"
HEADER_PREFIX = "### "

# brat type, attribute and value names: no white space and none of the characters annotation.conf uses as syntax.
_NAME = re.compile(r"^[^\s|,:=<>#\[\]]+$")
_LINE_BREAKS = "\r\n"


# =============================================================================
# reading
# =============================================================================


def read_brat(
    path: str | Path,
    *,
    split: str = "all",
    seed: int = 13,
    dev_fraction: float = 0.1,
    test_fraction: float = 0.0,
) -> Iterator[Thread]:
    """Threads from a brat folder (searched recursively), or from one ``.txt``/``.ann`` file.

    ``split`` picks a side of a seeded split over documents (``assign_groups``
    with ``seed``, ``dev_fraction`` and ``test_fraction``); ``"all"`` reads
    every document. Hidden files and folders are skipped.
    """
    check_split(split)
    if split == "dev" and dev_fraction <= 0 or split == "test" and test_fraction <= 0:
        raise ValueError(f"split {split!r} is empty: set {split}_fraction above 0")
    documents = _documents(Path(path))  # checked now, so a bad path fails before the first thread is asked for
    if split != "all":
        sides = assign_groups(
            [doc_id for doc_id, _ in documents], seed=seed, dev_fraction=dev_fraction, test_fraction=test_fraction
        )
        documents = [(doc_id, txt) for doc_id, txt in documents if sides[doc_id] == split]
    return (read_brat_document(txt_path, doc_id=doc_id) for doc_id, txt_path in documents)


def read_brat_document(txt_path: str | Path, *, doc_id: str | None = None) -> Thread:
    """One document: ``X.txt`` with its ``X.ann`` and ``X.argmine.json`` when they exist."""
    txt_path = Path(txt_path)
    text = read_text(txt_path)
    ann_path = txt_path.with_suffix(".ann")
    ann = _parse_ann(read_text(ann_path), text, ann_path) if ann_path.exists() else _Ann()
    if not ann_path.exists():
        logger.debug("%s: no .ann beside it; an unannotated document", txt_path)
    sidecar_path = _sidecar_path(txt_path)
    try:
        if sidecar_path.exists():
            return _sidecar_thread(text, ann, ann_path, sidecar_path)
        return _plain_thread(text, ann, ann_path, doc_id or txt_path.stem)
    except InvalidThreadError as error:
        raise error.located(ann_path) from None


def _documents(path: Path) -> list[tuple[str, Path]]:
    if path.is_file():
        if path.suffix not in (".txt", ".ann"):
            raise CorpusFormatError("expected a brat folder, or a .txt or .ann file", source=path)
        txt = path.with_suffix(".txt")
        if not txt.is_file():
            raise CorpusFormatError(f"annotations without their text file {txt.name}", source=path)
        return [(txt.stem, txt)]
    if not path.is_dir():
        raise CorpusFormatError("no such file or folder", source=path)

    def visible(p: Path) -> bool:
        return not any(part.startswith(".") for part in p.relative_to(path).parts)

    documents = []
    for txt in sorted((p for p in path.rglob("*.txt") if visible(p)), key=lambda p: p.relative_to(path).as_posix()):
        documents.append((txt.relative_to(path).with_suffix("").as_posix(), txt))
    for ann in sorted(p for p in path.rglob("*.ann") if visible(p)):
        if not ann.with_suffix(".txt").is_file():
            raise CorpusFormatError(f"annotations without their text file {ann.with_suffix('.txt').name}", source=ann)
    if not documents:
        raise CorpusFormatError("no brat documents (.txt files) in this folder", source=path)
    return documents


def _sidecar_path(txt_path: Path) -> Path:
    return txt_path.with_name(txt_path.stem + SIDECAR_SUFFIX)


# -- the .ann file ------------------------------------------------------------------


@dataclass
class _Entity:
    id: str
    label: str
    fragments: list[tuple[int, int]]
    line: int

    @property
    def start(self) -> int:
        return self.fragments[0][0]

    @property
    def end(self) -> int:
        return self.fragments[-1][1]


@dataclass
class _Relation:
    id: str
    label: str
    source: str
    target: str
    line: int


@dataclass
class _Attribute:
    id: str
    name: str
    target: str
    value: str | None
    line: int


@dataclass
class _Note:
    id: str
    kind: str
    target: str
    text: str
    line: int


@dataclass
class _Ann:
    entities: dict[str, _Entity] = field(default_factory=dict)
    relations: list[_Relation] = field(default_factory=list)
    attributes: list[_Attribute] = field(default_factory=list)
    notes: list[_Note] = field(default_factory=list)
    normalizations: list[_Note] = field(default_factory=list)
    equivalences: list[list[str]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


def _parse_ann(ann_text: str, text: str, ann_path: Path) -> _Ann:
    """Parse and check every line; ids are resolved once all lines are read."""
    ann = _Ann()
    ids: dict[str, int] = {}

    def fail(message: str, number: int) -> CorpusFormatError:
        return CorpusFormatError(message, source=ann_path, line=number)

    for number, raw in enumerate(ann_text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if "\t" not in line:
            if line.startswith("#"):
                ann.comments.append(line)
                continue
            raise fail(f"expected 'ID<TAB>annotation', got {line[:60]!r}", number)
        ann_id, rest = line.split("\t", 1)
        kind = ann_id[:1]
        if kind == "#" and (ann_id == "#" or len(rest.partition("\t")[0].split()) < 2):
            ann.comments.append(line)  # a free comment line, not a note on an annotation
            continue
        if kind != "*":
            if ann_id in ids:
                raise fail(f"id {ann_id} is already used on line {ids[ann_id]}", number)
            ids[ann_id] = number
        if kind == "T":
            ann.entities[ann_id] = _parse_entity(ann_id, rest, text, number, fail)
        elif kind == "R":
            parts = rest.rstrip().split()
            roles = dict(part.split(":", 1) for part in parts[1:] if ":" in part)
            if len(parts) != 3 or set(roles) != {"Arg1", "Arg2"}:
                raise fail(f"{ann_id}: expected 'LABEL Arg1:ID Arg2:ID', got {rest.strip()!r}", number)
            ann.relations.append(_Relation(ann_id, parts[0], roles["Arg1"], roles["Arg2"], number))
        elif kind in "AM":
            parts = rest.rstrip().split()
            if len(parts) not in (2, 3):
                raise fail(f"{ann_id}: expected 'NAME ID [VALUE]', got {rest.strip()!r}", number)
            ann.attributes.append(_Attribute(ann_id, parts[0], parts[1], parts[2] if len(parts) == 3 else None, number))
        elif kind in "#N":
            head, _, note = rest.partition("\t")
            parts = head.split()
            if len(parts) < 2:
                raise fail(f"{ann_id}: expected 'TYPE ID<TAB>text', got {rest.strip()!r}", number)
            target = parts[1]
            if kind == "N":  # N1<TAB>Reference T1 Wikipedia:534366<TAB>Barack Obama
                if len(parts) != 3:
                    raise fail(f"{ann_id}: expected 'TYPE ID DB:KEY<TAB>text', got {rest.strip()!r}", number)
                ann.normalizations.append(_Note(ann_id, f"{parts[0]} {parts[2]}", target, note, number))
            else:
                ann.notes.append(_Note(ann_id, parts[0], target, note, number))
        elif kind == "*":
            ann.equivalences.append(rest.split())
        elif kind == "E":
            raise fail(f"{ann_id}: brat events are not supported (argmine has components and relations only)", number)
        else:
            raise fail(f"unknown annotation id {ann_id!r} (expected T, R, A, M, N, #, * or E)", number)

    for relation in ann.relations:
        for role, ref in (("Arg1", relation.source), ("Arg2", relation.target)):
            if ref not in ann.entities:
                known = "is not a text-bound (T) annotation" if ref in ids else "is not defined in this file"
                raise fail(f"{relation.id}: {role}:{ref} {known}", relation.line)
    for item in (*ann.attributes, *ann.notes, *ann.normalizations):
        if item.target not in ids:
            raise fail(f"{item.id}: {item.target} is not defined in this file", item.line)
    for item in (*ann.attributes, *ann.normalizations):
        if item.target not in ann.entities:
            what = "attributes" if isinstance(item, _Attribute) else "normalisations"
            raise fail(f"{item.id}: {what} are only supported on text-bound (T) annotations", item.line)
    return ann


def _parse_entity(ann_id: str, rest: str, text: str, number: int, fail: Any) -> _Entity:
    head, tab, written = rest.partition("\t")
    label, _, spans = head.partition(" ")
    if not label or not spans.strip():
        raise fail(f"{ann_id}: expected 'TYPE START END[;START END...]<TAB>text', got {rest[:60]!r}", number)
    fragments = []
    for piece in spans.split(";"):
        bounds = piece.split()
        if len(bounds) != 2 or not all(b.isdigit() for b in bounds):
            raise fail(f"{ann_id}: bad span {piece.strip()!r} (expected 'START END')", number)
        start, end = int(bounds[0]), int(bounds[1])
        if not 0 <= start < end <= len(text):
            raise fail(f"{ann_id}: span {start} {end} is not a non-empty range inside the {len(text)}-character .txt",
                       number)
        fragments.append((start, end))
    fragments.sort()
    for (_, previous_end), (start, _) in zip(fragments, fragments[1:]):
        if start < previous_end:
            raise fail(f"{ann_id}: span pieces overlap", number)
    expected = " ".join(text[s:e] for s, e in fragments)
    if tab and written != expected and written.rstrip("\t") != expected.rstrip("\t"):
        raise fail(f"{ann_id}: text {_clip(written)!r} differs from the .txt at {spans.strip()}: {_clip(expected)!r}",
                   number)
    return _Entity(ann_id, label, fragments, number)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _holder_fragments(entity: _Entity, text: str, offset: int) -> list[list[int]] | None:
    """The pieces relative to the holder, with pieces split only at line breaks joined; None if one piece."""
    merged = [list(entity.fragments[0])]
    for start, end in entity.fragments[1:]:
        gap = text[merged[-1][1]:start]
        if all(ch in _LINE_BREAKS for ch in gap):
            merged[-1][1] = end
        else:
            merged.append([start, end])
    if len(merged) == 1:
        return None
    return [[s - offset, e - offset] for s, e in merged]


def _entity_extras(ann: _Ann, source: str | Path) -> tuple[dict[str, dict[str, Any]], dict[str, Stance]]:
    """Per T id: attributes (A lines, notes, normalisations) and the ``Stance`` attribute."""
    extras: dict[str, dict[str, Any]] = {tid: {} for tid in ann.entities}
    stances: dict[str, Stance] = {}
    for attribute in ann.attributes:
        if attribute.name == STANCE:
            if attribute.value is None:
                raise CorpusFormatError(f"{attribute.id}: {STANCE} needs a value", source=source, line=attribute.line)
            if attribute.target in stances:
                raise CorpusFormatError(f"{attribute.id}: {attribute.target} already has a {STANCE}",
                                        source=source, line=attribute.line)
            stances[attribute.target] = Stance(attribute.value)
            continue
        target = extras[attribute.target]
        if attribute.name in target:
            raise CorpusFormatError(f"{attribute.id}: {attribute.target} already has attribute {attribute.name}",
                                    source=source, line=attribute.line)
        target[attribute.name] = attribute.value if attribute.value is not None else True
    for note in ann.notes:
        if note.target in extras:
            extras[note.target].setdefault("brat_notes", []).append(note.text)
    for norm in ann.normalizations:
        kind, ref = norm.kind.split(" ", 1)
        extras[norm.target].setdefault("brat_normalizations", []).append({"type": kind, "ref": ref, "text": norm.text})
    return extras, stances


def _thread_extras(ann: _Ann, message_targets: set[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    notes = [{"target": n.target, "text": n.text} for n in ann.notes
             if n.target not in ann.entities and n.target not in message_targets]
    if notes:
        meta["brat_notes"] = notes
    if ann.equivalences:
        meta["brat_equivalences"] = ann.equivalences
    if ann.comments:
        meta["brat_comments"] = ann.comments
    return meta


# -- plain brat documents --------------------------------------------------------------


def _plain_thread(text: str, ann: _Ann, ann_path: Path, doc_id: str) -> Thread:
    extras, stances = _entity_extras(ann, ann_path)
    components = []
    for tid, entity in ann.entities.items():
        attributes = extras[tid]
        fragments = _holder_fragments(entity, text, 0)
        if fragments:
            attributes["brat_fragments"] = fragments
        components.append(Component(
            id=tid, start=entity.start, end=entity.end, label=entity.label, text=text[entity.start:entity.end],
            stance=stances.get(tid), attributes=attributes,
        ))
    relations = [Relation(r.source, r.target, r.label) for r in ann.relations]
    meta = {"format": "brat", "source": str(ann_path.with_suffix(".txt")), **_thread_extras(ann, set())}
    return Thread(
        id=doc_id,
        post=Post(id=PLAIN_POST_ID, author=None, text=text, components=components),
        relations=relations,
        meta=meta,
    )


# -- documents written by write_brat -------------------------------------------------------------


@dataclass
class _Message:
    id: str
    author: str | None
    reply_to: str | None  # None for the post
    meta: dict[str, Any]
    header: tuple[int, int]
    start: int
    end: int
    stance: str | None
    stance_score: float | None


def _sidecar_thread(text: str, ann: _Ann, ann_path: Path, sidecar_path: Path) -> Thread:
    data, messages = _load_sidecar(sidecar_path, text)
    known: Mapping[str, Any] = data["entities"]
    known_relations: Mapping[str, Any] = data["relations"]
    extras, stances = _entity_extras(ann, ann_path)

    # Place every T: an anchor (inside a header) or a component (inside a message's text).
    anchors: dict[str, _Message] = {}
    placed: dict[str, tuple[_Message, Component]] = {}
    used_ids = {m.id for m in messages} | {str(v.get("id")) for v in known.values() if isinstance(v, Mapping)}
    for tid, entity in ann.entities.items():
        holder = next((m for m in messages if m.header[0] <= entity.start and entity.end <= m.header[1]), None)
        if holder is not None:
            anchors[tid] = holder
            continue
        holder = next((m for m in messages if m.start <= entity.start and entity.end <= m.end), None)
        if holder is None:
            raise CorpusFormatError(
                f"{tid}: span {entity.start}-{entity.end} is not inside one message's text or header "
                "(it crosses a message boundary)", source=ann_path, line=entity.line,
            )
        record = known.get(tid)
        record = record if isinstance(record, Mapping) else None
        fragments = [list(f) for f in entity.fragments]
        unchanged = record is not None and record.get("label") == entity.label and record.get(
            "fragments") == fragments and record.get("message") == holder.id
        attributes = dict(record.get("attributes") or {}) if record else {}
        if not unchanged:
            attributes.pop("brat_fragments", None)
        attributes.update(extras[tid])
        derived = _holder_fragments(entity, text, holder.start)
        if derived:
            attributes["brat_fragments"] = derived
        if unchanged:
            start, end, score = record["start"], record["end"], record.get("score")
        else:
            start, end, score = entity.start - holder.start, entity.end - holder.start, None
        stance = stances.get(tid)
        if stance is not None and unchanged and record.get("stance") == stance.label:
            stance = Stance(stance.label, record.get("stance_score"))
        component_id = record["id"] if record and isinstance(record.get("id"), str) else _fresh_id(tid, used_ids)
        holder_text = text[holder.start:holder.end]
        placed[tid] = (holder, Component(
            id=component_id, start=start, end=end, label=entity.label, text=holder_text[start:end],
            stance=stance, score=score, attributes=attributes,
        ))

    # Stances, notes and other attributes of messages sit on their anchors.
    message_stance: dict[str, Stance] = {}
    message_notes: dict[str, list[str]] = {}
    message_attributes: dict[str, dict[str, Any]] = {}
    for tid, message in anchors.items():
        if tid in stances:
            if message.id in message_stance:
                raise CorpusFormatError(f"{message.id} has a {STANCE} on two anchors", source=ann_path,
                                        line=ann.entities[tid].line)
            label = stances[tid].label
            score = message.stance_score if message.stance == label else None
            message_stance[message.id] = Stance(label, score)
        notes = extras[tid].pop("brat_notes", None)
        if notes:
            message_notes.setdefault(message.id, []).extend(notes)
        if extras[tid]:
            message_attributes.setdefault(message.id, {}).update(extras[tid])

    relations = []
    for relation in ann.relations:
        if relation.source not in placed:
            raise CorpusFormatError(f"{relation.id}: Arg1 must be a component, not a post or comment anchor",
                                    source=ann_path, line=relation.line)
        target = placed[relation.target][1].id if relation.target in placed else anchors[relation.target].id
        record = known_relations.get(relation.id)
        score = None
        if isinstance(record, Mapping) and (record.get("source"), record.get("target"), record.get("label")) == (
                relation.source, relation.target, relation.label):
            score = record.get("score")
        relations.append(Relation(placed[relation.source][1].id, target, relation.label, score))

    built: list[Post] = []
    for message in messages:
        meta = dict(message.meta)
        if message.id in message_notes:
            meta["brat_notes"] = message_notes[message.id]
        if message.id in message_attributes:
            meta["brat_attributes"] = message_attributes[message.id]
        fields: dict[str, Any] = dict(
            id=message.id, author=message.author, text=text[message.start:message.end],
            components=[c for holder, c in placed.values() if holder is message],
            stance=message_stance.get(message.id), meta=meta,
        )
        built.append(Post(**fields) if message.reply_to is None else Comment(reply_to=message.reply_to, **fields))

    thread_meta = dict(data["thread"].get("meta") or {})
    for key, value in _thread_extras(ann, set(anchors)).items():
        thread_meta[key] = list(thread_meta.get(key, [])) + value if key == "brat_notes" else value
    return Thread(id=data["thread"]["id"], post=built[0], comments=built[1:], relations=relations, meta=thread_meta)


def _fresh_id(tid: str, used: set[str]) -> str:
    candidate, n = tid, 1
    while candidate in used:
        n += 1
        candidate = f"{tid}-{n}"
    used.add(candidate)
    return candidate


def _load_sidecar(path: Path, text: str) -> tuple[dict[str, Any], list[_Message]]:
    def fail(message: str) -> CorpusFormatError:
        return CorpusFormatError(message, source=path)

    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise CorpusFormatError(f"malformed JSON: {error.msg}", source=path, line=error.lineno) from None
    if not isinstance(data, dict) or data.get("format") != SIDECAR_FORMAT:
        raise fail(f"not an argmine brat sidecar (expected \"format\": \"{SIDECAR_FORMAT}\")")
    if data.get("version") != SIDECAR_VERSION:
        raise fail(f"sidecar version {data.get('version')!r} is not supported (expected {SIDECAR_VERSION})")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if data.get("txt_sha256") != digest:
        raise fail("the .txt beside this sidecar has changed since it was written; its offsets no longer apply")
    thread = data.get("thread")
    if not isinstance(thread, dict) or not isinstance(thread.get("id"), str):
        raise fail("'thread' must be an object with a string 'id'")
    for key in ("entities", "relations"):
        if not isinstance(data.setdefault(key, {}), dict):
            raise fail(f"'{key}' must be an object")
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise fail("'messages' must be a non-empty list (the post first)")
    messages = []
    for i, raw in enumerate(raw_messages):
        where = f"messages[{i}]"
        if not isinstance(raw, dict):
            raise fail(f"{where}: expected an object")
        try:
            header = (int(raw["header"][0]), int(raw["header"][1]))
            start, end = int(raw["start"]), int(raw["end"])
            message = _Message(
                id=str(raw["id"]), author=raw.get("author"), reply_to=raw.get("reply_to"),
                meta=dict(raw.get("meta") or {}), header=header, start=start, end=end,
                stance=raw.get("stance"), stance_score=raw.get("stance_score"),
            )
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise fail(f"{where}: missing or malformed field ({error})") from None
        if not 0 <= start <= end <= len(text) or not 0 <= header[0] <= header[1] <= len(text):
            raise fail(f"{where}: offsets lie outside the .txt")
        if (i == 0) != (message.reply_to is None):
            raise fail(f"{where}: the first message must be the post (no reply_to) and every other one a comment")
        messages.append(message)
    return data, messages


# =============================================================================
# writing
# =============================================================================


def write_brat(
    threads: Iterable[Thread],
    folder: str | Path,
    *,
    entity_types: Iterable[str] = (),
    relation_types: Iterable[str] = (),
    stance_labels: Iterable[str] = (),
    replace: bool = False,
) -> list[Path]:
    """Write each thread as ``X.txt``, ``X.ann`` and ``X.argmine.json``, then ``annotation.conf``.

    ``X`` is the thread id made file-safe (and unique). The extra
    ``entity_types``, ``relation_types`` and ``stance_labels`` are added to
    ``annotation.conf`` beside the types present, so that labels not yet used
    can be annotated in brat. The folder appears complete or not at all (see
    the module docstring); one that holds files is an ``ArgmineError`` unless
    ``replace``, which deletes its old content. Returns every path written,
    ``annotation.conf`` last. Raises ``ValueError`` for a label brat cannot
    hold or a repeated thread id.
    """
    shown = Path(folder)
    # Absolute, so that "." has a name and a parent; through a symlink, so the link keeps pointing at it.
    folder = Path(os.path.realpath(shown) if shown.is_symlink() else os.path.abspath(shown))
    if not folder.name:
        raise ArgmineError(f"{shown}: cannot write a brat folder at the root of the file system")
    _check_target(folder, replace, shown)
    types = _Types()
    types.entities.update([POST_TYPE, COMMENT_TYPE])
    for name in entity_types:
        types.entities.add(_check_name(name, "entity type"))
    for name in relation_types:
        types.relations.add(_check_name(name, "relation type"))
    for name in stance_labels:
        types.attributes.setdefault(STANCE, set()).add(_check_name(name, "stance label"))

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.{os.getpid()}.", suffix=".tmp", dir=folder.parent))
    try:
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700 folders; give the usual permissions
        names = _write_threads(threads, staging, types)
        _write_file(staging / "annotation.conf", types.conf())
        names.append("annotation.conf")
        _move_into_place(staging, folder, replace, shown)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [shown / name for name in names]


def _check_target(folder: Path, replace: bool, shown: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise ArgmineError(f"{shown}: is a file; brat output is a folder")
    if replace or not folder.is_dir():
        return
    entries = sorted(os.listdir(folder))
    if entries:
        raise ArgmineError(
            f"{shown}: folder is not empty ({len(entries)} entries, e.g. {entries[0]!r}); its threads would read "
            "back beside the new ones: give a new or empty folder, or --force to replace it whole (deleting them)"
        )


def _write_threads(threads: Iterable[Thread], staging: Path, types: _Types) -> list[str]:
    names: list[str] = []
    stems: set[str] = set()
    thread_ids: set[str] = set()
    for thread in threads:
        if thread.id in thread_ids:
            raise ValueError(f"thread id {thread.id!r} appears twice; brat files need one thread per id")
        thread_ids.add(thread.id)
        stem = _file_stem(thread.id, stems)
        txt, ann, sidecar = _encode(thread, types)
        try:
            sidecar_text = json.dumps(sidecar, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
        except (TypeError, ValueError) as error:
            raise ValueError(f"thread {thread.id!r}: meta or attributes cannot be written as JSON: {error}") from None
        for name, content in ((f"{stem}.txt", txt), (f"{stem}.ann", ann), (f"{stem}{SIDECAR_SUFFIX}", sidecar_text)):
            _write_file(staging / name, content)
            names.append(name)
    return names


def _write_file(path: Path, content: str) -> None:
    with path.open("wb") as handle:
        handle.write(content.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())


def _move_into_place(staging: Path, folder: Path, replace: bool, shown: Path) -> None:
    """Rename the complete ``staging`` folder to ``folder``; an old ``folder`` (``replace``) is set aside, then deleted.

    Between the two renames ``folder`` is briefly absent, never half-written; a crash there leaves the
    old content in ``.NAME.PID.old`` beside it.
    """
    if not folder.exists():
        os.rename(staging, folder)
    elif not os.listdir(folder):
        os.rename(staging, folder)  # rename(2) replaces an empty folder
    else:
        if not replace:  # filled since the check: someone else is writing there
            _check_target(folder, replace, shown)
        old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
        os.rename(folder, old)
        try:
            os.rename(staging, folder)
        except BaseException:
            os.rename(old, folder)
            raise
        shutil.rmtree(old, ignore_errors=True)
    _fsync_folder(folder.parent)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename itself is still atomic
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@dataclass
class _Types:
    entities: set[str] = field(default_factory=set)
    components: set[str] = field(default_factory=set)
    relations: set[str] = field(default_factory=set)
    attributes: dict[str, set[str]] = field(default_factory=dict)  # empty set: a binary attribute

    def conf(self) -> str:
        entities = sorted(self.entities)
        sources = sorted(self.components) or entities
        lines = ["# Written by argmine: the annotation types present in this folder.", "", "[entities]", *entities,
                 "", "[relations]"]
        lines += [f"{name} Arg1:{'|'.join(sources)}, Arg2:{'|'.join(entities)}" for name in sorted(self.relations)]
        lines += ["<OVERLAP> Arg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>", "", "[events]", "", "[attributes]"]
        for name in sorted(self.attributes):
            values = sorted(self.attributes[name])
            lines.append(f"{name} Arg:{'|'.join(entities)}" + (f", Value:{'|'.join(values)}" if values else ""))
        return "\n".join(lines) + "\n"


def _check_name(name: Any, what: str, where: str = "") -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        place = f"{where}: " if where else ""
        raise ValueError(
            f"{place}{what} {name!r} cannot be written to brat (no white space and none of | , : = < > # [ ]); "
            "rename it first"
        )
    return name


def _file_stem(thread_id: str, used: set[str]) -> str:
    base = re.sub(r"[^\w.\-]+", "_", thread_id).lstrip(".") or "thread"
    stem, n = base, 1
    while stem.lower() in used:  # case-insensitive file systems
        n += 1
        stem = f"{base}-{n}"
    used.add(stem.lower())
    return stem


def _one_line(value: str) -> str:
    return " ".join(value.split()) or "_"


def _simple_attribute(name: str, value: Any) -> bool:
    """Can ``name: value`` be an A line (``Name Tn Value``, or ``Name Tn`` for ``True``)?"""
    if name == STANCE or name.startswith("brat_") or not _NAME.match(name):
        return False
    return value is True or isinstance(value, str) and bool(_NAME.match(value))


def _single_line_notes(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, str) and "\n" not in v and "\r" not in v for v in value
    )


def _encode(thread: Thread, types: _Types) -> tuple[str, str, dict[str, Any]]:
    """The ``.txt``, the ``.ann`` and the sidecar of one thread."""
    parts: list[str] = []
    position = 0
    lines: list[str] = []
    counters = {"T": 0, "A": 0, "R": 0, "#": 0}
    brat_id: dict[str, str] = {}  # message or component id -> T id
    messages: list[dict[str, Any]] = []
    entities: dict[str, Any] = {}

    def new(kind: str) -> str:
        counters[kind] += 1
        return f"{kind}{counters[kind]}"

    def add_stance(tid: str, stance: Stance | None, where: str) -> None:
        if stance is not None:
            types.attributes.setdefault(STANCE, set()).add(_check_name(stance.label, "stance label", where))
            lines.append(f"{new('A')}\t{STANCE} {tid} {stance.label}")

    def add_notes(tid: str, notes: list[str]) -> None:
        for note in notes:
            lines.append(f"{new('#')}\tAnnotatorNotes {tid}\t{note}")

    for index, message in enumerate(thread.messages()):
        is_post = index == 0
        where = f"thread {thread.id!r}: " + ("post" if is_post else f"comments[{index - 1}]")
        anchor = f"{'post' if is_post else 'comment'} {_one_line(message.id)}"
        details = [f"by {_one_line(message.author)}"] if message.author is not None else []
        if isinstance(message, Comment):
            details.append(f"reply to {_one_line(message.reply_to)}")
        header = HEADER_PREFIX + anchor + (f" ({', '.join(details)})" if details else "")
        header_start = position
        anchor_start = header_start + len(HEADER_PREFIX)
        start = header_start + len(header) + 1
        parts += [header, "\n", message.text, "\n\n"]
        position = start + len(message.text) + 2

        tid = new("T")
        brat_id[message.id] = tid
        kind = POST_TYPE if is_post else COMMENT_TYPE
        lines.append(f"{tid}\t{kind} {anchor_start} {anchor_start + len(anchor)}\t{anchor}")
        add_stance(tid, message.stance, where)
        meta = dict(message.meta)
        if "brat_notes" in meta and _single_line_notes(meta["brat_notes"]):
            add_notes(tid, meta.pop("brat_notes"))
        record: dict[str, Any] = {
            "id": message.id, "author": message.author, "header": [header_start, header_start + len(header)],
            "start": start, "end": start + len(message.text), "anchor": tid, "meta": meta,
            "stance": message.stance.label if message.stance else None,
            "stance_score": message.stance.score if message.stance else None,
        }
        if isinstance(message, Comment):
            record["reply_to"] = message.reply_to
        messages.append(record)

        for j, component in enumerate(message.components):
            cwhere = f"{where}.components[{j}]"
            types.entities.add(_check_name(component.label, "component label", cwhere))
            types.components.add(component.label)
            fragments = [[s + start, e + start] for s, e in _split_lines(component, message.text, cwhere)]
            ctid = new("T")
            brat_id[component.id] = ctid
            spans = ";".join(f"{s} {e}" for s, e in fragments)
            shown = " ".join(message.text[s - start:e - start] for s, e in fragments)
            lines.append(f"{ctid}\t{component.label} {spans}\t{shown}")
            add_stance(ctid, component.stance, cwhere)
            kept: dict[str, Any] = {}
            for name, value in component.attributes.items():
                if _simple_attribute(name, value):
                    values = types.attributes.setdefault(name, set())
                    if value is True:
                        lines.append(f"{new('A')}\t{name} {ctid}")
                    else:
                        values.add(value)
                        lines.append(f"{new('A')}\t{name} {ctid} {value}")
                elif name == "brat_notes" and _single_line_notes(value):
                    add_notes(ctid, value)
                else:
                    kept[name] = value
            entity: dict[str, Any] = {
                "id": component.id, "message": message.id, "label": component.label, "fragments": fragments,
                "start": component.start, "end": component.end, "score": component.score,
                "stance": component.stance.label if component.stance else None,
                "stance_score": component.stance.score if component.stance else None,
            }
            if kept:
                entity["attributes"] = kept
            entities[ctid] = entity

    relations: dict[str, Any] = {}
    for i, relation in enumerate(thread.relations):
        types.relations.add(_check_name(relation.label, "relation label", f"thread {thread.id!r}: relations[{i}]"))
        rid = new("R")
        source, target = brat_id[relation.source], brat_id[relation.target]
        lines.append(f"{rid}\t{relation.label} Arg1:{source} Arg2:{target}")
        relations[rid] = {"source": source, "target": target, "label": relation.label, "score": relation.score}

    txt = "".join(parts)
    sidecar = {
        "format": SIDECAR_FORMAT,
        "version": SIDECAR_VERSION,
        "txt_sha256": hashlib.sha256(txt.encode("utf-8")).hexdigest(),
        "thread": {"id": thread.id, "meta": dict(thread.meta)},
        "messages": messages,
        "entities": entities,
        "relations": relations,
    }
    return txt, "".join(line + "\n" for line in lines), sidecar


def _split_lines(component: Component, holder: str, where: str) -> list[tuple[int, int]]:
    """The component's pieces (``brat_fragments`` or its span), each cut at line breaks as brat does."""
    pieces: Any = component.attributes.get("brat_fragments")
    if pieces is None:
        pieces = [(component.start, component.end)]
    elif not (
        isinstance(pieces, list | tuple) and pieces
        and all(isinstance(p, list | tuple) and len(p) == 2 and all(type(x) is int for x in p) for p in pieces)
        and pieces[0][0] == component.start and pieces[-1][1] == component.end
        and all(s < e for s, e in pieces) and all(a[1] <= b[0] for a, b in zip(pieces, pieces[1:]))
    ):
        raise ValueError(f"{where}: attributes['brat_fragments'] must be ordered [start, end] pairs "
                         f"covering [{component.start}, {component.end}), got {pieces!r}")
    out: list[tuple[int, int]] = []
    for s, e in pieces:
        run_start = None
        for k in range(s, e + 1):
            breaks = k == e or holder[k] in _LINE_BREAKS
            if breaks and run_start is not None:
                out.append((run_start, k))
                run_start = None
            elif not breaks and run_start is None:
                run_start = k
    if not out:
        raise ValueError(f"{where}: a component made only of line breaks cannot be shown in brat")
    return out
