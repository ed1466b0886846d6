"""Argument Annotated Essays 2.0 (Stab & Gurevych 2017), brat release → ``Thread``.

Layout read (the folder the release unpacks to)::

    <path>/brat-project-final/essayNNN.txt   the essay; its first line is the title
    <path>/brat-project-final/essayNNN.ann   T (MajorClaim/Claim/Premise), A (Stance), R (supports/attacks)
    <path>/train-test-split.csv              "ID";"SET" rows, SET = TRAIN or TEST (needed for splits)
    <path>/prompts.csv                       optional: ESSAY;PROMPT (Mac Roman, CR line ends, as released)

``path`` may also be the ``brat-project-final`` folder itself; the two CSV
files are then looked for beside it.

Units:

* ``unit="essay"``: one thread per essay; the post is the whole ``.txt``
  (title line included), offsets are the brat ones.
* ``unit="paragraph"`` (the standard setting in the literature): one thread per
  body paragraph, id ``essayNNN/pK`` with K = 1, 2, ... counting the non-blank
  lines after the title; offsets are relative to the paragraph, which starts
  at ``meta["essay_offset"]`` in the essay. The title is not a unit (it is
  kept in ``meta["title"]``) unless it holds an annotated component: then it
  becomes unit ``essayNNN/p0`` (with a warning), so no span is ever dropped.
  A component that crosses a line break (or sits on a blank line) cannot be
  placed in one paragraph and is a ``CorpusFormatError``.

A relation whose two ends fall in different paragraphs cannot be a
``Relation`` of one paragraph thread. It is kept, with a warning, in the
source paragraph's ``meta["cross_unit_relations"]`` as
``{"source", "target", "label", "target_unit"}`` (always present, usually
empty: the 322 released TRAIN essays have none).

Component ids are ``essayNNN/Tn`` in both units (the brat id is kept in
``attributes["brat_id"]``); labels MajorClaim / Claim / Premise; each Claim
carries its brat ``Stance`` as ``Stance("For")`` or ``Stance("Against")``;
relations keep the brat labels ``supports`` / ``attacks``.

Splits: ``test`` = essays whose SET is TEST; ``train`` / ``dev`` = a seeded
split of the TRAIN essays by essay (``assign_groups``), so the paragraphs of
one essay never straddle train and dev; ``all`` = every essay present.

``Thread.meta``: ``corpus``, ``essay_id``, ``title``, ``prompt`` (None without
prompts.csv), ``set`` (TRAIN/TEST as listed), ``split`` (train/dev/test under
this seed; None for an essay the split file does not list); essay units add
``paragraph_spans`` ([start, end) of each body paragraph); paragraph units add
``paragraph``, ``n_paragraphs``, ``essay_offset`` and ``cross_unit_relations``.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argmine.errors import CorpusFormatError, InputError, InvalidThreadError
from argmine.io_utils import read_text
from argmine.readers.splits import assign_groups, check_split
from argmine.thread import Component, Post, Relation, Stance, Thread, make_component

log = logging.getLogger(__name__)

BRAT_FOLDER = "brat-project-final"
SPLIT_FILE = "train-test-split.csv"
PROMPT_FILE = "prompts.csv"
COMPONENT_LABELS = ("MajorClaim", "Claim", "Premise")
RELATION_LABELS = ("supports", "attacks")
STANCE_VALUES = ("For", "Against")
UNITS = ("essay", "paragraph")
CORPUS = "aae2"


@dataclass(frozen=True)
class _Span:
    brat_id: str
    label: str
    start: int
    end: int
    line: int


@dataclass(frozen=True)
class _Link:
    source: str
    target: str
    label: str
    line: int


@dataclass(frozen=True)
class _Essay:
    """One essay's text and annotations, checked against each other."""

    id: str
    text: str
    spans: tuple[_Span, ...]
    stances: dict[str, str]
    links: tuple[_Link, ...]
    ann_path: Path


def read_aae(
    path: str | Path, *, unit: str = "paragraph", split: str = "all", seed: int = 13, dev_fraction: float = 0.1
) -> Iterator[Thread]:
    """Threads of the AAE corpus at ``path``, one per essay or per paragraph, in essay order.

    Arguments are checked now; files are read lazily while iterating. Raises
    ``CorpusFormatError`` (file and line) on anything the format does not allow.
    """
    if unit not in UNITS:
        raise InputError(f"unknown unit {unit!r}; expected one of {', '.join(UNITS)}")
    check_split(split)
    if not 0.0 <= dev_fraction < 1.0:
        raise InputError(f"dev_fraction must be in [0, 1), got {dev_fraction!r}")
    path = Path(path)
    brat_dir, split_file, prompt_file = _locate(path)
    essay_ids = _essay_ids(brat_dir)
    sets = _read_split_file(split_file) if split_file is not None else None
    if split != "all" and sets is None:
        raise CorpusFormatError(f"split {split!r} needs {SPLIT_FILE}, which is missing", source=path)
    sides = _assign_sides(essay_ids, sets, split_file, seed=seed, dev_fraction=dev_fraction, strict=split != "all")
    if split == "test" and not any(side == "test" for side in sides.values()):
        log.warning(
            "AAE at %s: none of its %d essays is a TEST essay in %s (the official test essays are not in "
            "this copy), so split 'test' is empty",
            brat_dir,
            len(essay_ids),
            SPLIT_FILE,
        )
    selected = [e for e in essay_ids if split == "all" or sides.get(e) == split]
    prompts = _read_prompts(prompt_file) if prompt_file is not None else {}
    return _threads(brat_dir, selected, unit, sets or {}, sides, prompts)


def _threads(
    brat_dir: Path,
    essay_ids: list[str],
    unit: str,
    sets: dict[str, str],
    sides: dict[str, str],
    prompts: dict[str, str],
) -> Iterator[Thread]:
    for essay_id in essay_ids:
        essay = _read_essay(brat_dir, essay_id)
        meta = {
            "corpus": CORPUS,
            "essay_id": essay_id,
            "title": essay.text.split("\n", 1)[0].rstrip("\r"),
            "prompt": prompts.get(essay_id),
            "set": sets.get(essay_id),
            "split": sides.get(essay_id),
        }
        try:
            if unit == "essay":
                yield _essay_thread(essay, meta)
            else:
                yield from _paragraph_threads(essay, meta)
        except InvalidThreadError as error:
            raise error.located(essay.ann_path) from None


# -- locating and listing -----------------------------------------------------------


def _locate(path: Path) -> tuple[Path, Path | None, Path | None]:
    if not path.exists():
        raise CorpusFormatError("no such folder", source=path)
    if not path.is_dir():
        raise CorpusFormatError(f"expected the AAE folder (holding {BRAT_FOLDER}/), got a file", source=path)
    brat_dir = path / BRAT_FOLDER if (path / BRAT_FOLDER).is_dir() else path
    if not any(brat_dir.glob("*.ann")):
        raise CorpusFormatError(f"no .ann files here nor in {BRAT_FOLDER}/: not an AAE brat folder", source=path)
    # Given the brat folder itself, the CSV files sit beside it, as in the release.
    homes = (path, path.parent) if brat_dir == path else (path,)
    split_file = next((home / SPLIT_FILE for home in homes if (home / SPLIT_FILE).is_file()), None)
    prompt_file = next((home / PROMPT_FILE for home in homes if (home / PROMPT_FILE).is_file()), None)
    return brat_dir, split_file, prompt_file


def _essay_ids(brat_dir: Path) -> list[str]:
    anns = {p.stem for p in brat_dir.glob("*.ann")}
    txts = {p.stem for p in brat_dir.glob("*.txt")}
    for stem in sorted(anns ^ txts):
        have, lack = (".ann", ".txt") if stem in anns else (".txt", ".ann")
        raise CorpusFormatError(f"{stem}{have} has no matching {stem}{lack}", source=brat_dir / f"{stem}{have}")
    return sorted(anns)


# -- splits and prompts -------------------------------------------------------------


def _read_split_file(path: Path) -> dict[str, str]:
    """``{essay id: "TRAIN" | "TEST"}`` from the semicolon-separated, quoted CSV."""
    rows = list(csv.reader(io.StringIO(read_text(path), newline=""), delimiter=";"))
    if not rows or [c.strip() for c in rows[0]] != ["ID", "SET"]:
        raise CorpusFormatError('expected the header "ID";"SET"', source=path, line=1)
    sets: dict[str, str] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != 2 or row[1].strip() not in ("TRAIN", "TEST"):
            raise CorpusFormatError(
                f'expected "essayNNN";"TRAIN|TEST", got {";".join(row)!r}', source=path, line=number
            )
        essay_id = row[0].strip()
        if essay_id in sets:
            raise CorpusFormatError(f"essay {essay_id!r} is listed twice", source=path, line=number)
        sets[essay_id] = row[1].strip()
    return sets


def _assign_sides(
    essay_ids: list[str],
    sets: dict[str, str] | None,
    split_file: Path | None,
    *,
    seed: int,
    dev_fraction: float,
    strict: bool,
) -> dict[str, str]:
    """Each present essay's side (train/dev/test); essays the split file does not list have none."""
    if sets is None:
        return {}
    unlisted = [e for e in essay_ids if e not in sets]
    if unlisted and strict:
        raise CorpusFormatError(
            f"{len(unlisted)} essays present are not listed here (first: {unlisted[0]}), so their split is unknown",
            source=split_file,
        )
    train = [e for e in essay_ids if sets.get(e) == "TRAIN"]
    sides = assign_groups(train, seed=seed, dev_fraction=dev_fraction)
    sides.update({e: "test" for e in essay_ids if sets.get(e) == "TEST"})
    return sides


def _read_prompts(path: Path) -> dict[str, str]:
    """``{essay id: prompt}``. The release's file is Mac Roman with CR line ends; UTF-8 copies work too."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if b"\n" in data or b"\r" not in data:
            # Only the classic-Mac form of the release is known; anything else we would have to guess.
            raise CorpusFormatError(
                "neither UTF-8 nor the released Mac Roman file (CR line ends); convert it to UTF-8", source=path
            ) from None
        text = data.decode("mac_roman")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    if not rows or [c.strip() for c in rows[0][:2]] != ["ESSAY", "PROMPT"]:
        raise CorpusFormatError("expected the header ESSAY;PROMPT", source=path, line=1)
    prompts: dict[str, str] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise CorpusFormatError(f"expected ESSAY;PROMPT, got {';'.join(row)!r}", source=path, line=number)
        name = row[0].strip()
        prompts[name.removesuffix(".txt")] = ";".join(row[1:]).strip()
    return prompts


# -- one essay ----------------------------------------------------------------------


class _BadLine(Exception):
    """What is wrong with one ``.ann`` line; turned into a ``CorpusFormatError`` with file and line."""


def _read_essay(brat_dir: Path, essay_id: str) -> _Essay:
    text = read_text(brat_dir / f"{essay_id}.txt")
    ann_path = brat_dir / f"{essay_id}.ann"
    spans: dict[str, _Span] = {}
    stances: dict[str, str] = {}
    stance_lines: dict[str, int] = {}
    links: list[_Link] = []
    seen: set[str] = set()
    for number, raw in enumerate(read_text(ann_path).split("\n"), start=1):
        # The release ends some lines with a tab (all R lines); it carries nothing.
        line = raw.rstrip("\r").rstrip("\t")
        if not line.strip():
            continue
        ann_id = line.split("\t", 1)[0]
        try:
            if ann_id in seen:
                raise _BadLine("id used twice")
            seen.add(ann_id)
            if ann_id.startswith("T"):
                spans[ann_id] = _parse_span(line, text, number)
            elif ann_id.startswith("A"):
                target, value = _parse_stance(line)
                if target in stance_lines:
                    raise _BadLine(f"second stance for {target}")
                stances[target], stance_lines[target] = value, number
            elif ann_id.startswith("R"):
                links.append(_parse_link(line, number))
            else:
                raise _BadLine(f"unsupported annotation line (AAE has only T, A and R lines): {line!r}")
        except _BadLine as error:
            raise CorpusFormatError(f"{ann_id}: {error}", source=ann_path, line=number) from None
    for target, number in stance_lines.items():
        if target not in spans:
            raise CorpusFormatError(f"stance on unknown component {target}", source=ann_path, line=number)
        if spans[target].label != "Claim":
            raise CorpusFormatError(
                f"stance on {target}, a {spans[target].label} (only Claims carry one)", source=ann_path, line=number
            )
    for link in links:
        for end in (link.source, link.target):
            if end not in spans:
                raise CorpusFormatError(f"relation refers to unknown component {end}", source=ann_path, line=link.line)
    return _Essay(essay_id, text, tuple(spans.values()), stances, tuple(links), ann_path)


def _parse_span(line: str, text: str, number: int) -> _Span:
    fields = line.split("\t", 2)
    if len(fields) != 3:
        raise _BadLine(f"expected 3 tab-separated fields (id, 'LABEL START END', text), got {len(fields)}")
    if ";" in fields[1]:
        raise _BadLine("discontinuous spans are not part of AAE")
    head = fields[1].split()
    if len(head) != 3 or not head[1].isdigit() or not head[2].isdigit():
        raise _BadLine(f"expected 'LABEL START END', got {fields[1]!r}")
    label, start, end = head[0], int(head[1]), int(head[2])
    if label not in COMPONENT_LABELS:
        raise _BadLine(f"label {label!r} is not one of {', '.join(COMPONENT_LABELS)}")
    if not 0 <= start < end <= len(text):
        raise _BadLine(f"span [{start}, {end}) lies outside the essay ({len(text)} characters)")
    if text[start:end] != fields[2]:
        raise _BadLine(
            f"span text {fields[2]!r} does not match the essay text at [{start}, {end}): {text[start:end]!r}"
        )
    return _Span(fields[0], label, start, end, number)


def _parse_stance(line: str) -> tuple[str, str]:
    fields = line.split("\t")
    parts = fields[1].split() if len(fields) == 2 else []
    if len(parts) != 3 or parts[0] != "Stance" or parts[2] not in STANCE_VALUES:
        raise _BadLine(f"expected 'A<n>\\tStance T<n> For|Against', got {line!r}")
    return parts[1], parts[2]


def _parse_link(line: str, number: int) -> _Link:
    fields = line.split("\t")
    parts = fields[1].split() if len(fields) == 2 else []
    if len(parts) != 3 or not parts[1].startswith("Arg1:") or not parts[2].startswith("Arg2:"):
        raise _BadLine(f"expected 'R<n>\\tLABEL Arg1:T<n> Arg2:T<n>', got {line!r}")
    if parts[0] not in RELATION_LABELS:
        raise _BadLine(f"relation label {parts[0]!r} is not one of {', '.join(RELATION_LABELS)}")
    return _Link(parts[1][5:], parts[2][5:], parts[0], number)


# -- threads --------------------------------------------------------------------------


def _component(essay: _Essay, span: _Span, holder: str, offset: int) -> Component:
    stance = essay.stances.get(span.brat_id)
    return make_component(
        holder,
        span.start - offset,
        span.end - offset,
        span.label,
        f"{essay.id}/{span.brat_id}",
        stance=Stance(stance) if stance else None,
        attributes={"brat_id": span.brat_id},
    )


def _relation(essay: _Essay, link: _Link) -> Relation:
    return Relation(f"{essay.id}/{link.source}", f"{essay.id}/{link.target}", link.label)


def _paragraph_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line: index 0 is the title, then the non-blank body lines."""
    bounds, position = [], 0
    for index, line in enumerate(text.split("\n")):
        content = line.rstrip("\r")
        if index == 0 or content.strip():
            bounds.append((position, position + len(content)))
        position += len(line) + 1
    return bounds


def _essay_thread(essay: _Essay, meta: dict[str, Any]) -> Thread:
    bounds = _paragraph_bounds(essay.text)
    post = Post(
        id=essay.id,
        author=None,
        text=essay.text,
        components=[_component(essay, s, essay.text, 0) for s in sorted(essay.spans, key=lambda s: s.start)],
    )
    relations = [_relation(essay, link) for link in essay.links]
    return Thread(
        id=essay.id, post=post, relations=relations, meta={**meta, "paragraph_spans": [list(b) for b in bounds[1:]]}
    )


def _paragraph_threads(essay: _Essay, meta: dict[str, Any]) -> Iterator[Thread]:
    bounds = _paragraph_bounds(essay.text)
    where: dict[str, int] = {}
    for span in essay.spans:
        index = next((i for i, (a, b) in enumerate(bounds) if a <= span.start and span.end <= b), None)
        if index is None:
            raise CorpusFormatError(
                f"{span.brat_id} [{span.start}, {span.end}) fits in no paragraph "
                "(it crosses a line break or lies on a blank line)",
                source=essay.ann_path,
                line=span.line,
            )
        where[span.brat_id] = index
    if 0 in where.values():
        log.warning("%s: the title holds annotated components, so it is kept as unit %s/p0", essay.ann_path, essay.id)
    units = [i for i in range(len(bounds)) if i > 0 or 0 in where.values()]
    unit_id = {i: f"{essay.id}/p{i}" for i in units}

    inside: dict[int, list[Relation]] = {i: [] for i in units}
    across: dict[int, list[dict[str, str]]] = {i: [] for i in units}
    for link in essay.links:
        source_unit, target_unit = where[link.source], where[link.target]
        relation = _relation(essay, link)
        if source_unit == target_unit:
            inside[source_unit].append(relation)
        else:
            log.warning(
                "%s:%d: relation %s → %s joins paragraphs %d and %d; kept in meta['cross_unit_relations'] of %s",
                essay.ann_path,
                link.line,
                link.source,
                link.target,
                source_unit,
                target_unit,
                unit_id[source_unit],
            )
            across[source_unit].append(
                {
                    "source": relation.source,
                    "target": relation.target,
                    "label": relation.label,
                    "target_unit": unit_id[target_unit],
                }
            )

    for index in units:
        start, end = bounds[index]
        text = essay.text[start:end]
        spans = sorted((s for s in essay.spans if where[s.brat_id] == index), key=lambda s: s.start)
        post = Post(
            id=unit_id[index], author=None, text=text, components=[_component(essay, s, text, start) for s in spans]
        )
        yield Thread(
            id=unit_id[index],
            post=post,
            relations=inside[index],
            meta={
                **meta,
                "paragraph": index,
                "n_paragraphs": len(bounds) - 1,
                "essay_offset": start,
                "cross_unit_relations": across[index],
            },
        )
