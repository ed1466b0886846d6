"""Argumentation in user-generated web discourse (Habernal & Gurevych 2017), UIMA XMI → ``Thread``.

Layout read: the 340 documents of the Toulmin study (annotation study 2), ``gold.data.toulmin/*.xmi``;
``path`` may be that folder or any folder above it in the release (``web-discourse/``). The
990 documents of ``gold.data.persuasive`` (study 1) carry no argument components and are not read.

**XMI.** Parsed with lxml; elements are matched on their namespace URI, never on the prefix (the
release binds ``types``, ``type2``, ``type4`` ... differently from file to file). One ``cas:Sofa``
holds the text (``sofaString``); ``begin`` / ``end`` are character offsets into it. Annotations of
the argumentation type system (``http:///de/tudarmstadt/ukp/dkpro/argumentation/types.ecore``) are
read; an unknown type there is an error. DKPro's linguistic layers (tokens, sentences, POS ...)
are not argument structure and are skipped; ``Paragraph`` spans are kept in
``meta["paragraph_spans"]``.

**Components** keep the corpus labels ``Claim``, ``Premise``, ``Backing``, ``Rebuttal``,
``Refutation`` with exact offsets (``attributes``: ``xmi_id``, ``view`` = ``originalView``,
``rephrased`` = ``rephrasedContent`` where given). The data config maps them for a Claim/Premise
segmenter. Not components, kept in ``meta`` and counted in ``meta["skipped"]`` (shown by
``argmine stats``):

* implicit claims (``implicit=true``, an empty span at 0: 170 of the 365 claims): the claim is
  not in the text; ``meta["implicit_claims"]`` keeps id and rephrased content, and each
  relation that ends at one is in ``meta["implicit_relations"]`` (``{"source", "target", "label"}``);
* appeals to emotion (``ArgumentComponent`` with ``appealToEmotion=true``, the pathos layer,
  98 spans that overlap the Toulmin components): ``meta["appeals_to_emotion"]`` as
  ``{"start", "end", "text"}``.

**Relations.** An ``ArgumentRelation`` has a source and a target and no type of its own: its
meaning is the source's Toulmin role, so its label is that role in lower case (``premise``,
``backing``, ``rebuttal``, ``refutation``, ``claim``).

**Stance.** The Toulmin study annotates no stance (neither toward the topic nor between
components); the few free-text ``notes`` that mention one are kept in ``meta["notes"]``.

**Message.** Each document is one thread with one message, the post: ``author`` from the
metadata; ``post.meta`` and ``Thread.meta`` carry ``genre`` (``docType``: artcomment, forumpost,
blogpost, article), ``topic``, ``title`` (the page's title, not part of the text), ``url``,
``date``, ``thumbs_up``, ``thumbs_down``, ``notes``.

**Splits.** The release has none (the paper cross-validates). Six topics, one of them 134 of the
340 documents, cannot be cut 70/15/15 by topic, and documents on one topic are different
people's texts; what could leak is text itself: a document that quotes another. So documents
that share a run of 10 words are grouped (3 groups of 2-3 documents in the release), then the
groups of each topic are shuffled with ``seed`` and cut 70/15/15 (``assign_groups``), so every
topic is on every side. ``meta["split"]`` names the side, ``meta["split_group"]`` the group.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argmine.errors import CorpusFormatError, InvalidThreadError
from argmine.readers.microtexts import parse_xml
from argmine.readers.splits import assign_groups, check_split
from argmine.thread import Post, Relation, Thread, make_component

log = logging.getLogger(__name__)

CORPUS = "webdiscourse"
TOULMIN_FOLDER = "gold.data.toulmin"
XMI = "http://www.omg.org/XMI"
CAS = "http:///uima/cas.ecore"
ARG = "http:///de/tudarmstadt/ukp/dkpro/argumentation/types.ecore"
SEGMENTATION = "http:///de/tudarmstadt/ukp/dkpro/core/api/segmentation/type.ecore"
COMPONENT_LABELS = ("Claim", "Premise", "Backing", "Rebuttal", "Refutation")
PATHOS = "ArgumentComponent"
SHARED_RUN = 10  # words: documents sharing a run this long are kept on one side of the split
SKIPPED_IMPLICIT = "implicit claims"
SKIPPED_IMPLICIT_RELATIONS = "relations to implicit claims"
SKIPPED_PATHOS = "appeals to emotion"


@dataclass
class _Document:
    id: str
    path: Path
    text: str
    metadata: dict[str, Any]
    components: list[Any] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    implicit: list[dict[str, Any]] = field(default_factory=list)
    implicit_relations: list[dict[str, str]] = field(default_factory=list)
    pathos: list[dict[str, Any]] = field(default_factory=list)
    paragraphs: list[list[int]] = field(default_factory=list)


def read_webdiscourse(
    path: str | Path, *, split: str = "all", seed: int = 13, dev_fraction: float = 0.15, test_fraction: float = 0.15
) -> Iterator[Thread]:
    """Threads of the Toulmin documents at ``path``, one per document, in file-name order.

    Every document is read and checked now (the split groups need all texts); threads are built
    while iterating.
    """
    check_split(split)
    folder = _locate(Path(path))
    documents = [_read_document(p) for p in sorted(folder.glob("*.xmi"), key=_number_first)]
    groups = _shared_text_groups(documents)
    sides: dict[str, str] = {}
    for topic in sorted({d.metadata.get("topic") or "" for d in documents}):
        topic_groups = [groups[d.id] for d in documents if (d.metadata.get("topic") or "") == topic]
        sides.update(assign_groups(topic_groups, seed=seed, dev_fraction=dev_fraction, test_fraction=test_fraction))
    selected = [d for d in documents if split == "all" or sides[groups[d.id]] == split]
    return (_thread(d, sides[groups[d.id]], groups[d.id]) for d in selected)


def _number_first(path: Path) -> tuple[int, str]:
    return (int(path.stem), "") if path.stem.isdigit() else (1 << 62, path.stem)


def _locate(path: Path) -> Path:
    if not path.is_dir():
        raise CorpusFormatError("no such folder" if not path.exists() else "expected a folder, got a file", source=path)
    if any(path.glob("*.xmi")):
        return path
    found = sorted(p for p in path.rglob(TOULMIN_FOLDER) if p.is_dir())
    if len(found) != 1:
        where = "none" if not found else ", ".join(str(p) for p in found)
        raise CorpusFormatError(f"expected one {TOULMIN_FOLDER}/ folder with .xmi files below, found {where}",
                                source=path)
    if not any(found[0].glob("*.xmi")):
        raise CorpusFormatError("no .xmi files here", source=found[0])
    return found[0]


# -- one document ------------------------------------------------------------------------------------


def _local(tag: Any) -> tuple[str, str]:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return "", str(tag)
    uri, _, name = tag[1:].partition("}")
    return uri, name


def java_properties(text: str) -> dict[str, str]:
    """The ``key=value`` pairs of a Java ``.properties`` text (how the release stores annotation features).

    Comment lines (``#``, ``!``) are skipped; ``\\n``, ``\\t``, ``\\uXXXX`` and escaped
    separators are decoded; a line ending in an odd number of backslashes continues on the next.
    """
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.lstrip() if pending else raw.lstrip()
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2:
            pending = line[:-1]
            continue
        pending = ""
        if line and line[0] not in "#!":
            logical.append(line)
    if pending:
        logical.append(pending)
    out = {}
    for line in logical:
        i = 0
        while i < len(line) and not (line[i] in "=:" or line[i].isspace()):
            i += 2 if line[i] == "\\" else 1
        key = line[:i]
        while i < len(line) and line[i] in " \t\f":
            i += 1
        if i < len(line) and line[i] in "=:":
            i += 1
        while i < len(line) and line[i] in " \t\f":
            i += 1
        out[_unescape(key)] = _unescape(line[i:])
    return out


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char != "\\" or i + 1 == len(text):
            out.append(char)
            i += 1
            continue
        following = text[i + 1]
        if following == "u" and len(text[i + 2 : i + 6]) == 4:
            try:
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            except ValueError:
                pass
        out.append({"n": "\n", "t": "\t", "r": "\r", "f": "\f"}.get(following, following))
        i += 2
    return "".join(out)


def _read_document(path: Path) -> _Document:
    root = parse_xml(path)
    if _local(root.tag) != (XMI, "XMI"):
        raise CorpusFormatError(f"the root element is {root.tag!r}, expected xmi:XMI", source=path,
                                line=root.sourceline)

    def fail(message: str, element: Any) -> CorpusFormatError:
        return CorpusFormatError(message, source=path, line=element.sourceline)

    xmi_id = f"{{{XMI}}}id"
    sofas = [e for e in root if _local(e.tag) == (CAS, "Sofa")]
    if len(sofas) != 1:
        raise fail(f"expected one cas:Sofa (the text), found {len(sofas)}", sofas[1] if sofas else root)
    text = sofas[0].get("sofaString")
    if text is None:
        raise fail("cas:Sofa has no sofaString (the document's text)", sofas[0])
    sofa_id = sofas[0].get(xmi_id)
    document = _Document(path.stem, path, text, {})

    def span(element: Any, name: str) -> tuple[int, int]:
        where = f"{name} xmi:id={element.get(xmi_id)}"
        if element.get("sofa") != sofa_id:
            raise fail(f"{where}: sofa {element.get('sofa')!r} is not the document's text ({sofa_id})", element)
        try:
            begin, end = int(element.get("begin")), int(element.get("end"))
        except (TypeError, ValueError):
            raise fail(f"{where}: begin/end must be integers, got {element.get('begin')!r}/{element.get('end')!r}",
                       element) from None
        if not 0 <= begin <= end <= len(text):
            raise fail(f"{where}: end: span [{begin}, {end}) leaves the text ({len(text)} characters)", element)
        return begin, end

    labels: dict[str, str] = {}
    relations: list[Any] = []
    for element in root:
        uri, name = _local(element.tag)
        if uri == SEGMENTATION and name == "Paragraph":
            document.paragraphs.append(list(span(element, "Paragraph")))
        if uri != ARG:
            continue
        if name == "WebArgumentMetadata":
            document.metadata = dict(element.attrib)
        elif name == "ArgumentRelation":
            relations.append(element)
        elif name in COMPONENT_LABELS or name == PATHOS:
            identifier = element.get(xmi_id)
            begin, end = span(element, name)
            properties = java_properties(element.get("properties") or "")
            if name == PATHOS:
                if properties.get("appealToEmotion") != "true":
                    raise fail(f"{name} xmi:id={identifier}: a bare ArgumentComponent that is no appeal to "
                               "emotion (appealToEmotion=true): unknown label", element)
                document.pathos.append({"start": begin, "end": end, "text": text[begin:end]})
                continue
            labels[identifier] = name
            if properties.get("implicit") == "true" and begin == end:
                document.implicit.append({"id": f"{document.id}/{identifier}",
                                          "rephrased": properties.get("rephrasedContent")})
                continue
            if begin == end:
                raise fail(f"{name} xmi:id={identifier}: empty span [{begin}, {end}) that is not marked implicit",
                           element)
            attributes = {"xmi_id": identifier, "view": properties.get("originalView")}
            if "rephrasedContent" in properties:
                attributes["rephrased"] = properties["rephrasedContent"]
            document.components.append(
                make_component(text, begin, end, name, f"{document.id}/{identifier}", attributes=attributes)
            )
        else:
            raise fail(f"unknown annotation type {name!r} (label) in the argumentation type system", element)
    if not document.metadata:
        raise fail("no WebArgumentMetadata (genre, topic) in this document", root)
    implicit_ids = {c["id"] for c in document.implicit}
    for element in relations:
        ends = [element.get("source"), element.get("target")]
        for attribute, end in zip(("source", "target"), ends):
            if end not in labels:
                raise fail(f"ArgumentRelation xmi:id={element.get(xmi_id)}: {attribute} {end!r} is no argument "
                           "component of this document", element)
        source, target = (f"{document.id}/{end}" for end in ends)
        relation = Relation(source, target, labels[ends[0]].lower())
        if source in implicit_ids or target in implicit_ids:
            document.implicit_relations.append({"source": source, "target": target, "label": relation.label})
        else:
            document.relations.append(relation)
    document.components.sort(key=lambda c: (c.start, c.end))
    return document


# -- split groups and threads ------------------------------------------------------------------------------


def _shared_text_groups(documents: list[_Document]) -> dict[str, str]:
    """Document id → its group: documents that share a run of ``SHARED_RUN`` words are joined."""
    parent = {d.id: d.id for d in documents}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first_seen: dict[tuple[str, ...], str] = {}
    for document in documents:
        words = document.text.split()
        for i in range(len(words) - SHARED_RUN + 1):
            other = first_seen.setdefault(tuple(words[i : i + SHARED_RUN]), document.id)
            if other != document.id:
                a, b = find(other), find(document.id)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = {}
    for document in documents:
        members.setdefault(find(document.id), []).append(document.id)
    joined = [m for m in members.values() if len(m) > 1]
    if joined:
        log.info("web discourse: %d groups of documents that share text kept on one side each: %s",
                 len(joined), joined)
    return {d: "+".join(sorted(m, key=_number_key)) for m in members.values() for d in m}


def _number_key(identifier: str) -> tuple[int, str]:
    return (int(identifier), "") if identifier.isdigit() else (1 << 62, identifier)


def _thread(document: _Document, side: str, group: str) -> Thread:
    md = document.metadata

    def number(key: str) -> int | None:
        value = md.get(key)
        return int(value) if value is not None and value.lstrip("-").isdigit() else None

    about = {
        "genre": md.get("docType"),
        "topic": md.get("topic"),
        "title": md.get("title"),
        "url": md.get("origUrl"),
        "date": md.get("date"),
        "thumbs_up": number("thumbsUp"),
        "thumbs_down": number("thumbsDown"),
        "notes": md.get("notes") or None,
    }
    skipped = Counter({
        SKIPPED_IMPLICIT: len(document.implicit),
        SKIPPED_IMPLICIT_RELATIONS: len(document.implicit_relations),
        SKIPPED_PATHOS: len(document.pathos),
    })
    post = Post(id=document.id, author=md.get("author") or None, text=document.text,
                components=document.components, meta=about)
    meta = {
        "corpus": CORPUS,
        "document_id": document.id,
        **about,
        "split": side,
        "split_group": group,
        "paragraph_spans": sorted(document.paragraphs),
        "implicit_claims": document.implicit,
        "implicit_relations": document.implicit_relations,
        "appeals_to_emotion": document.pathos,
        "skipped": {k: v for k, v in skipped.items() if v},
    }
    try:
        return Thread(id=document.id, post=post, relations=document.relations, meta=meta)
    except InvalidThreadError as error:
        raise error.located(document.path) from None
