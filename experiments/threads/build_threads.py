"""Build own-threads.jsonl from own-threads.src.yaml (the readable, editable source).

    own-threads.src.yaml ──offsets by str.find──► Thread objects ──label checks──► own-threads.jsonl
    market-comments.txt + market-post.txt ──read_text_page──► the market thread's texts

Why a build step: offsets typed by hand drift as soon as a text is edited. Here
each component names its text and the offsets are found in its message, so they
are always exact; a text that is missing, or that occurs more than once without
``occurrence: N``, is an error. The label rules of GUIDE.md (stance toward the
original post, the same precedence as ``argmine.stance.gold``) are checked
before anything is written.

Run from the repository root::

    python experiments/threads/build_threads.py          # (re)write own-threads.jsonl
    python experiments/threads/build_threads.py --check  # fail if the JSONL is out of date
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from argmine.io_utils import read_text
from argmine.readers.jsonl import write_jsonl
from argmine.readers.text import read_text_page
from argmine.stance.gold import derive_cmv_stances
from argmine.thread import Comment, Component, Post, Relation, Stance, Thread, make_component

log = logging.getLogger("build_threads")

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "own-threads.src.yaml"
TARGET = HERE / "own-threads.jsonl"

LABELS = ("Claim", "Premise")
STANCES = ("support", "attack", "none")
RELATION_LABELS = ("support", "attack")
# Our relation labels are their own polarity; derive_cmv_stances with this map must give back our labels.
POLARITY = {"support": "support", "attack": "attack"}
MESSAGE_KEYS = {"id", "author", "reply_to", "text", "lang", "stance", "components"}
COMPONENT_KEYS = {"id", "label", "text", "occurrence", "stance", "to"}


class SourceError(ValueError):
    """A problem in the source file, named by thread and field."""


def find_span(holder: str, piece: str, occurrence: int, where: str) -> tuple[int, int]:
    """Offsets of the ``occurrence``-th (1-based) match of ``piece`` in ``holder``; ambiguity is an error."""
    starts, at = [], holder.find(piece)
    while at != -1 and piece:
        starts.append(at)
        at = holder.find(piece, at + 1)
    if not starts:
        raise SourceError(f"{where}: text {piece!r} does not occur in its message")
    if occurrence == 0 and len(starts) > 1:
        raise SourceError(f"{where}: text {piece!r} occurs {len(starts)} times; add occurrence: N")
    index = max(occurrence, 1) - 1
    if index >= len(starts):
        raise SourceError(f"{where}: occurrence {occurrence} asked, text occurs {len(starts)} times")
    return starts[index], starts[index] + len(piece)


def _components(
    holder: str, items: Sequence[Mapping[str, Any]], where: str, *, reply: bool
) -> tuple[list[Component], list[Relation]]:
    components, relations = [], []
    for j, item in enumerate(items or []):
        cw = f"{where}.components[{j}]"
        unknown = set(item) - COMPONENT_KEYS
        if unknown:
            raise SourceError(f"{cw}: unknown keys {sorted(unknown)}")
        if item.get("label") not in LABELS:
            raise SourceError(f"{cw}: label {item.get('label')!r} is not one of {LABELS}")
        stance = item.get("stance")
        if reply and stance not in STANCES:
            raise SourceError(f"{cw}: a comment's component needs a stance in {STANCES}, got {stance!r}")
        if not reply and stance is not None:
            raise SourceError(f"{cw}: the post's components carry no stance (GUIDE.md, section 5)")
        start, end = find_span(holder, str(item.get("text", "")), int(item.get("occurrence", 0)), cw)
        components.append(
            make_component(holder, start, end, item["label"], item["id"], stance=Stance(stance) if stance else None)
        )
        for target, label in (item.get("to") or {}).items():
            if label not in RELATION_LABELS:
                raise SourceError(f"{cw}.to.{target}: relation label {label!r} is not one of {RELATION_LABELS}")
            relations.append(Relation(source=item["id"], target=target, label=label))
    components.sort(key=lambda c: c.start)
    return components, relations


def build_thread(spec: Mapping[str, Any], base: Path = HERE) -> Thread:
    """One thread from its source entry (texts from a copied page where ``page`` is given)."""
    thread_id = spec["id"]
    page: dict[str, Comment] = {}
    post_text = spec.get("post", {}).get("text")
    meta: dict[str, Any] = {"source": "argmine hand-labelled", "guide": "experiments/threads/GUIDE.md"}
    if "page" in spec:
        post_text = read_text(base / spec["post_file"])
        read = read_text_page(base / spec["page"], post=post_text)
        post_text = read.post.text
        page = {c.id: c for c in read.comments}
        meta["text_source"] = f"experiments/threads/{spec['page']} with {spec['post_file']}"
    meta.update(spec.get("meta") or {})
    if not post_text:
        raise SourceError(f"{thread_id}: the post has no text")

    post_spec = spec["post"]
    post_components, relations = _components(post_text, post_spec.get("components"), f"{thread_id}: post", reply=False)
    post = Post(id="post", author=post_spec.get("author"), text=post_text, components=post_components)

    comments = []
    for i, item in enumerate(spec["comments"]):
        where = f"{thread_id}: comments[{i}]"
        unknown = set(item) - MESSAGE_KEYS
        if unknown:
            raise SourceError(f"{where}: unknown keys {sorted(unknown)}")
        if page:
            if item["id"] not in page or "text" in item:
                raise SourceError(f"{where}: {item['id']!r} must be a comment of the page, without a text of its own")
            text, author = page[item["id"]].text, page[item["id"]].author
        else:
            text, author = item.get("text"), item.get("author")
        if not text:
            raise SourceError(f"{where}: comment has no text")
        if item.get("stance") not in STANCES:
            raise SourceError(f"{where}: stance {item.get('stance')!r} is not one of {STANCES}")
        components, rels = _components(text, item.get("components"), where, reply=True)
        relations += rels
        comments.append(
            Comment(
                id=item["id"],
                author=author,
                reply_to=item["reply_to"],
                text=text,
                components=components,
                stance=Stance(item["stance"]),
                meta={"lang": item["lang"]} if item.get("lang") else {},
            )
        )
    if page and [c.id for c in comments] != list(page):
        raise SourceError(f"{thread_id}: label every comment of the page, in page order: {list(page)}")
    return Thread(id=thread_id, post=post, comments=comments, relations=relations, meta=meta)


def label_problems(thread: Thread) -> list[str]:
    """Where the labels break GUIDE.md section 5 (stances must follow from the direct relations to the post)."""
    problems = []
    derived = derive_cmv_stances(thread, POLARITY)
    for given, expected in zip(thread.comments, derived.comments):
        for component, target in zip(given.components, expected.components):
            if component.stance != target.stance:
                problems.append(
                    f"{thread.id}: {component.id} has stance {component.stance.label!r} but its relations "
                    f"to the post give {target.stance.label!r}"
                )
        if given.stance != expected.stance:
            problems.append(
                f"{thread.id}: {given.id} has stance {given.stance.label!r}, its components give {expected.stance.label!r}"
            )
    return problems


def build(source: Path = SOURCE) -> list[Thread]:
    """Every thread of the source file, checked."""
    specs = yaml.safe_load(read_text(source))
    threads = [build_thread(spec, source.parent) for spec in specs]
    ids = [t.id for t in threads]
    if len(set(ids)) != len(ids):
        raise SourceError(f"{source}: thread ids repeat: {ids}")
    problems = [p for t in threads for p in label_problems(t)]
    if problems:
        raise SourceError("labels break GUIDE.md section 5:\n  " + "\n  ".join(problems))
    return threads


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail if the JSONL is out of date")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        threads = build()
    except SourceError as error:
        log.error("%s", error)
        return 1
    if args.check:
        expected = [json.dumps(t.to_dict(), ensure_ascii=False) for t in threads]
        actual = TARGET.read_text(encoding="utf-8").splitlines() if TARGET.exists() else []
        if expected != actual:
            log.error("%s is out of date: run python experiments/threads/build_threads.py", TARGET)
            return 1
        log.info("%s is up to date (%d threads)", TARGET, len(threads))
        return 0
    count = write_jsonl(threads, TARGET)
    log.info("wrote %d threads to %s", count, TARGET)
    return 0


if __name__ == "__main__":
    sys.exit(main())
