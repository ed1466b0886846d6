"""Threads written as a brat folder, to be read, checked and corrected in brat.

``write_brat`` writes, per thread, three files, and one ``annotation.conf`` for the folder:

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

``argmine.readers.brat.read_brat`` reads the folder back: the sidecar makes it an equal
``Thread``, with what was corrected in brat taken from ``.ann`` (see there).

The folder is written atomically: every file goes into a temporary sibling folder,
which is renamed into place once complete, so an error part-way leaves the target
as it was. A target that already holds files is refused (its old threads would read
back beside the new ones) unless ``replace=True`` (``--force``): then it is replaced
whole, and its old content is deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argmine.errors import ArgmineError, InputError
from argmine.io_utils import umask
from argmine.readers.brat_standoff import LINE_BREAKS, SIDECAR_FORMAT, SIDECAR_SUFFIX, SIDECAR_VERSION, STANCE
from argmine.thread import Comment, Component, Stance, Thread

POST_TYPE = "Post"
COMMENT_TYPE = "Comment"
HEADER_PREFIX = "### "
# brat type, attribute and value names: no white space and none of the characters annotation.conf uses as syntax.
_NAME = re.compile(r"^[^\s|,:=<>#\[\]]+$")


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
    ``annotation.conf`` last. Raises ``InputError`` for a label brat cannot
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
        os.chmod(staging, 0o777 & ~umask())  # mkdtemp makes 0700 folders; give the usual permissions
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
            raise InputError(f"thread id {thread.id!r} appears twice; brat files need one thread per id")
        thread_ids.add(thread.id)
        stem = _file_stem(thread.id, stems)
        txt, ann, sidecar = _encode(thread, types)
        try:
            sidecar_text = json.dumps(sidecar, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
        except (TypeError, ValueError) as error:
            raise InputError(f"thread {thread.id!r}: meta or attributes cannot be written as JSON: {error}") from None
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
        raise InputError(
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
        raise InputError(f"{where}: attributes['brat_fragments'] must be ordered [start, end] pairs "
                         f"covering [{component.start}, {component.end}), got {pieces!r}")
    out: list[tuple[int, int]] = []
    for s, e in pieces:
        run_start = None
        for k in range(s, e + 1):
            breaks = k == e or holder[k] in LINE_BREAKS
            if breaks and run_start is not None:
                out.append((run_start, k))
                run_start = None
            elif not breaks and run_start is None:
                run_start = k
    if not out:
        raise InputError(f"{where}: a component made only of line breaks cannot be shown in brat")
    return out
