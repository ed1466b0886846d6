"""brat standoff folders read as threads: any brat project, or one written by ``write_brat``.

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

``read_brat`` recognises the sidecar that ``argmine.readers.brat_writer.write_brat``
writes beside each document (``X.argmine.json``: the thread skeleton brat cannot
hold) and rebuilds the full thread: ``write_brat`` then ``read_brat`` gives back an
equal ``Thread`` (also equal ``to_dict()``). Annotations edited in brat are read from
``.ann`` as they are now: a component given another span or label keeps its id and
attributes but loses its model score (and a relation with other ends or label its
score), since the score was for the old annotation; a new component gets its brat id
as id. Every ``T`` must then lie inside one message's text or inside a header (an
anchor); anything else is an error. Without its sidecar such a folder still reads,
as plain brat (anchors then become ``Post``/``Comment`` components of one post).
The ``.ann`` lines themselves are parsed in ``argmine.readers.brat_standoff``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argmine.errors import CorpusFormatError, InputError, InvalidThreadError
from argmine.io_utils import read_text
from argmine.readers.brat_standoff import (
    SIDECAR_FORMAT,
    SIDECAR_SUFFIX,
    SIDECAR_VERSION,
    STANCE,
    Annotations,
    entity_extras,
    holder_fragments,
    parse_ann,
    thread_extras,
)
from argmine.readers.splits import assign_groups, check_split
from argmine.thread import Comment, Component, Post, Relation, Stance, Thread

logger = logging.getLogger(__name__)

PLAIN_POST_ID = "post"  # the post of a plain brat document: the whole .txt


def read_brat(
    path: str | Path, *, split: str = "all", seed: int = 13, dev_fraction: float = 0.1, test_fraction: float = 0.0
) -> Iterator[Thread]:
    """Threads from a brat folder (searched recursively), or from one ``.txt``/``.ann`` file.

    ``split`` picks a side of a seeded split over documents (``assign_groups``
    with ``seed``, ``dev_fraction`` and ``test_fraction``); ``"all"`` reads
    every document. Hidden files and folders are skipped.
    """
    check_split(split)
    if split == "dev" and dev_fraction <= 0 or split == "test" and test_fraction <= 0:
        raise InputError(f"split {split!r} is empty: set {split}_fraction above 0")
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
    ann = parse_ann(read_text(ann_path), text, ann_path) if ann_path.exists() else Annotations()
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


# -- plain brat documents --------------------------------------------------------------


def _plain_thread(text: str, ann: Annotations, ann_path: Path, doc_id: str) -> Thread:
    extras, stances = entity_extras(ann, ann_path)
    components = []
    for tid, entity in ann.entities.items():
        attributes = extras[tid]
        fragments = holder_fragments(entity, text, 0)
        if fragments:
            attributes["brat_fragments"] = fragments
        components.append(Component(
            id=tid, start=entity.start, end=entity.end, label=entity.label, text=text[entity.start:entity.end],
            stance=stances.get(tid), attributes=attributes,
        ))
    relations = [Relation(r.source, r.target, r.label) for r in ann.relations]
    meta = {"format": "brat", "source": str(ann_path.with_suffix(".txt")), **thread_extras(ann, set())}
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


def _sidecar_thread(text: str, ann: Annotations, ann_path: Path, sidecar_path: Path) -> Thread:
    data, messages = _load_sidecar(sidecar_path, text)
    known: Mapping[str, Any] = data["entities"]
    known_relations: Mapping[str, Any] = data["relations"]
    extras, stances = entity_extras(ann, ann_path)

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
        derived = holder_fragments(entity, text, holder.start)
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
    for key, value in thread_extras(ann, set(anchors)).items():
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
