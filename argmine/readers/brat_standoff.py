"""The brat standoff format (``.ann``) as reading and writing both need it.

``parse_ann`` reads and checks every line of an ``.ann`` file against its ``.txt``
(``T`` spans, ``R`` relations, ``A``/``M`` attributes, ``#`` notes, ``N``
normalisations, ``*`` equivalences, free ``#`` comments) into ``Annotations``;
ids are resolved once all lines are read, and any fault is a ``CorpusFormatError``
with file and line. ``entity_extras`` and ``thread_extras`` turn the lines that are
not spans into component attributes, stances and thread meta. What each becomes
in a thread is told in ``argmine.readers.brat``; the names here (the sidecar's
format, the ``Stance`` attribute, line breaks) are the contract between
``argmine.readers.brat`` (reading) and ``argmine.readers.brat_writer`` (writing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argmine.errors import CorpusFormatError
from argmine.thread import Stance

SIDECAR_SUFFIX = ".argmine.json"
SIDECAR_FORMAT = "argmine-brat"
SIDECAR_VERSION = 1
STANCE = "Stance"
LINE_BREAKS = "\r\n"  # brat cuts a span at each of them


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
class Annotations:
    entities: dict[str, _Entity] = field(default_factory=dict)
    relations: list[_Relation] = field(default_factory=list)
    attributes: list[_Attribute] = field(default_factory=list)
    notes: list[_Note] = field(default_factory=list)
    normalizations: list[_Note] = field(default_factory=list)
    equivalences: list[list[str]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


def parse_ann(ann_text: str, text: str, ann_path: Path) -> Annotations:
    """Parse and check every line; ids are resolved once all lines are read."""
    ann = Annotations()
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


def holder_fragments(entity: _Entity, text: str, offset: int) -> list[list[int]] | None:
    """The pieces relative to the holder, with pieces split only at line breaks joined; None if one piece."""
    merged = [list(entity.fragments[0])]
    for start, end in entity.fragments[1:]:
        gap = text[merged[-1][1]:start]
        if all(ch in LINE_BREAKS for ch in gap):
            merged[-1][1] = end
        else:
            merged.append([start, end])
    if len(merged) == 1:
        return None
    return [[s - offset, e - offset] for s, e in merged]


def entity_extras(ann: Annotations, source: str | Path) -> tuple[dict[str, dict[str, Any]], dict[str, Stance]]:
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


def thread_extras(ann: Annotations, message_targets: set[str]) -> dict[str, Any]:
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
