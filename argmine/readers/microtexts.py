"""Argumentative microtexts (Peldszus & Stede 2015), XML ``arggraph`` → ``Thread``.

Layout read (the release)::

    <path>/corpus/en/micro_b001.xml   the argument graph: <edu>, <joint>, <adu>, <edge>
    <path>/corpus/en/micro_b001.txt   the same text, for reading (checked, not used)
    <path>/corpus/de/...              the German originals, same ids and graphs

``path`` may be the release folder, its ``corpus/`` folder or one language folder. English is read
by default (``language="en"``); German with ``language="de"`` or by pointing ``path`` at
``corpus/de`` (how a data config or ``argmine stats`` picks it, as ``read_threads`` has no
language option).

**Text and offsets.** The XML gives the text only as EDU segments (CDATA, in order); the
text is the EDUs joined by one space, which is exactly the release's ``.txt`` in all 112
texts of both languages (a ``.txt`` beside the XML that differs is a ``CorpusFormatError``).
Each ADU rests on one or more adjacent EDUs (through ``seg`` edges, directly or through a
``joint``); its component spans from its first EDU's start to its last EDU's end.

**Labels and stance.** The central claim is the one ADU that is the source of no argumentative
edge; it is labelled ``Claim`` and carries no stance (it is the target). Every other ADU is a
``Premise`` whose stance is its dialectical role as released, ``Stance("pro")`` (proponent) or
``Stance("opp")`` (opponent): the role is the ADU's stance toward the central claim. The data
configs map ``pro → support``, ``opp → attack``. ``attributes`` keep ``adu``, ``edus`` and ``role``.

**Relations** keep the release's edge types: ``sup`` (support), ``exa`` (support by example),
``reb`` (rebut), ``und`` (undercut) and ``add`` (an additional, linked premise). An edge that
points at another edge (every ``und``, most ``add``) cannot end at an edge in a ``Thread``: it
targets the *source* ADU of that edge, i.e. an undercutter targets the premise whose inference
it attacks, and a linked premise targets its co-premise. The graph as released is kept in
``meta["edges"]`` (``{"id", "source", "target", "type"}`` with the XML ids).

**Views** (the formats of ``read_threads``):

* ``view="text"`` (format ``microtexts``): one thread per text; the post is the whole text,
  its components the ADUs.
* ``view="adu_stance"`` (format ``microtexts_stance``): for stance training. The post is the
  central claim (its text, one ``Claim`` component over all of it) and each other ADU is a
  comment replying to the post, carrying its role as the comment's stance and one
  ``Premise`` component over the whole comment. Component ids and relations are those of
  the text view; each comment's ``meta`` gives its ``start`` / ``end`` in the whole text, which
  is in ``Thread.meta["text"]``.

**Splits.** The release has none. Texts on one topic argue the same question, often with the
same central claim ("Germany should introduce the death penalty"), so the split is by topic:
the ``topic_id`` groups (18 topics, 89 texts) and each text without a topic (the 23 ``d``
texts, each on its own subject) are shuffled with ``seed`` and cut 70/15/15 by group
(``assign_groups``) into train/dev/test; ``meta["split"]`` names the side.

``Thread.meta``: ``corpus``, ``text_id``, ``language``, ``topic_id``, ``topic_stance`` (the
author's stance on the topic question: pro / con / unclear / None), ``central_claim`` (its
component id), ``split``, ``split_group``, ``edges``; the stance view adds ``text``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from argmine.errors import CorpusFormatError, InputError, InvalidThreadError
from argmine.io_utils import read_text
from argmine.readers.splits import assign_groups, check_split
from argmine.thread import Comment, Component, Post, Relation, Stance, Thread, make_component

CORPUS = "microtexts"
LANGUAGES = ("en", "de")
VIEWS = ("text", "adu_stance")
ROLES = ("pro", "opp")
EDGE_TYPES = ("seg", "sup", "exa", "add", "reb", "und")
TOPIC_STANCES = ("pro", "con", "unclear")
CLAIM, PREMISE = "Claim", "Premise"


def parse_xml(path: Path) -> etree._Element:
    """The root element of an XML file, or a ``CorpusFormatError`` with the parser's line and message.

    No entities are resolved, no DTD loaded and nothing fetched: a corpus file is data, not a program.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    if not path.is_file():
        raise CorpusFormatError("no such file", source=path)
    try:
        return etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as error:
        raise CorpusFormatError(f"not well-formed XML: {error.msg}", source=path, line=error.lineno) from None


@dataclass(frozen=True)
class _Edge:
    id: str
    source: str
    target: str
    type: str
    line: int | None


@dataclass(frozen=True)
class _Graph:
    """One ``arggraph``, checked: every reference resolves, every ADU rests on adjacent EDUs."""

    id: str
    topic_id: str | None
    topic_stance: str | None
    text: str
    edu_spans: dict[str, tuple[int, int]]
    roles: dict[str, str]  # ADU id → pro / opp, in document order
    adu_edus: dict[str, list[str]]
    edges: tuple[_Edge, ...]
    central: str
    path: Path


def read_microtexts(
    path: str | Path,
    *,
    language: str | None = None,
    view: str = "text",
    split: str = "all",
    seed: int = 13,
    dev_fraction: float = 0.15,
    test_fraction: float = 0.15,
) -> Iterator[Thread]:
    """Threads of the microtexts at ``path``, one per text, in id order (see the module docstring).

    Arguments and the split are checked now; each graph is read and checked while iterating.
    """
    if view not in VIEWS:
        raise InputError(f"unknown view {view!r}; expected one of {', '.join(VIEWS)}")
    check_split(split)
    folder, language = _locate(Path(path), language)
    files = sorted(folder.glob("*.xml"))
    if not files:
        raise CorpusFormatError("no arggraph .xml files here", source=folder)
    groups = {f.stem: _split_group(f) for f in files}
    sides = assign_groups(groups.values(), seed=seed, dev_fraction=dev_fraction, test_fraction=test_fraction)
    selected = [f for f in files if split == "all" or sides[groups[f.stem]] == split]
    return _threads(selected, language, view, {f.stem: (groups[f.stem], sides[groups[f.stem]]) for f in files})


def _threads(files: list[Path], language: str, view: str, sides: dict[str, tuple[str, str]]) -> Iterator[Thread]:
    for file in files:
        graph = _read_graph(file)
        group, side = sides[file.stem]
        meta = {
            "corpus": CORPUS,
            "text_id": graph.id,
            "language": language,
            "topic_id": graph.topic_id,
            "topic_stance": graph.topic_stance,
            "central_claim": f"{graph.id}/{graph.central}",
            "split": side,
            "split_group": group,
            "edges": [{"id": e.id, "source": e.source, "target": e.target, "type": e.type} for e in graph.edges],
        }
        try:
            yield _text_thread(graph, meta) if view == "text" else _stance_thread(graph, meta)
        except InvalidThreadError as error:
            raise error.located(file) from None


def _locate(path: Path, language: str | None) -> tuple[Path, str]:
    if language is not None and language not in LANGUAGES:
        raise InputError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    if not path.is_dir():
        raise CorpusFormatError("no such folder" if not path.exists() else "expected a folder, got a file", source=path)
    if path.name in LANGUAGES and any(path.glob("*.xml")):
        if language is not None and language != path.name:
            raise InputError(f"{path} holds the {path.name!r} texts, but language {language!r} was asked for")
        return path, path.name
    language = language or "en"
    for folder in (path / "corpus" / language, path / language):
        if folder.is_dir():
            return folder, language
    raise CorpusFormatError(f"neither corpus/{language}/ nor {language}/ is here: not the microtexts release",
                            source=path)


def _split_group(file: Path) -> str:
    """The text's topic, or the text itself when it has none."""
    topic = parse_xml(file).get("topic_id")
    return f"topic:{topic}" if topic else f"text:{file.stem}"


# -- one graph ---------------------------------------------------------------------------------


def _read_graph(path: Path) -> _Graph:
    root = parse_xml(path)

    def fail(message: str, element: Any = None) -> CorpusFormatError:
        line = element.sourceline if element is not None else None
        return CorpusFormatError(message, source=path, line=line)

    if root.tag != "arggraph":
        raise fail(f"the root element is <{root.tag}>, expected <arggraph>", root)
    graph_id = root.get("id")
    if not graph_id:
        raise fail("<arggraph>: the id attribute is missing", root)
    topic_stance = root.get("stance")
    if topic_stance is not None and topic_stance not in TOPIC_STANCES:
        raise fail(f"<arggraph>: stance {topic_stance!r} is not one of {', '.join(TOPIC_STANCES)}", root)

    seen: dict[str, str] = {}
    edus: list[tuple[str, str]] = []
    joints: set[str] = set()
    roles: dict[str, str] = {}
    edges: list[_Edge] = []
    for element in root:
        if not isinstance(element.tag, str):  # comments, processing instructions
            continue
        identifier = element.get("id")
        if not identifier:
            raise fail(f"<{element.tag}>: the id attribute is missing", element)
        if identifier in seen:
            raise fail(f"<{element.tag} id={identifier!r}>: id already used by a <{seen[identifier]}>", element)
        seen[identifier] = element.tag
        if element.tag == "edu":
            text = element.text or ""
            if not text.strip():
                raise fail(f"<edu id={identifier!r}>: the text is empty", element)
            edus.append((identifier, text))
        elif element.tag == "joint":
            joints.add(identifier)
        elif element.tag == "adu":
            role = element.get("type")
            if role not in ROLES:
                raise fail(f"<adu id={identifier!r}>: type {role!r} is not one of {', '.join(ROLES)}", element)
            roles[identifier] = role
        elif element.tag == "edge":
            edges.append(_edge(element, identifier, fail))
        else:
            raise fail(f"unknown element <{element.tag}> (an arggraph has edu, joint, adu and edge)", element)
    if not edus or not roles:
        raise fail("an arggraph needs at least one <edu> and one <adu>", root)

    # The text: the EDUs joined by one space (what the release's .txt holds).
    spans: dict[str, tuple[int, int]] = {}
    position = 0
    for identifier, text in edus:
        spans[identifier] = (position, position + len(text))
        position += len(text) + 1
    full_text = " ".join(text for _, text in edus)
    txt = path.with_suffix(".txt")
    if txt.is_file() and read_text(txt) != full_text:
        raise CorpusFormatError(f"differs from the EDUs of {path.name} joined by spaces", source=txt)

    edge_ids = {e.id: e for e in edges}
    joint_edus: dict[str, list[str]] = {j: [] for j in joints}
    adu_edus: dict[str, list[str]] = {a: [] for a in roles}
    for edge in edges:
        if edge.type != "seg":
            continue
        if edge.source in spans and edge.target in joints:
            joint_edus[edge.target].append(edge.source)
        elif (edge.source in spans or edge.source in joint_edus) and edge.target in roles:
            pass  # resolved below, once every joint knows its EDUs
        else:
            raise CorpusFormatError(
                f"<edge id={edge.id!r}>: a seg edge runs from an edu or joint to a joint or adu, "
                f"not {edge.source!r} → {edge.target!r}",
                source=path,
                line=edge.line,
            )
    for edge in edges:
        if edge.type == "seg" and edge.target in roles:
            adu_edus[edge.target] += joint_edus.get(edge.source, [edge.source])
    order = {identifier: index for index, (identifier, _) in enumerate(edus)}
    for adu, grounded in adu_edus.items():
        if not grounded:
            raise fail(f"<adu id={adu!r}>: no seg edge grounds it in the text")
        indices = sorted(order[e] for e in grounded)
        if indices != list(range(indices[0], indices[0] + len(indices))):
            raise fail(f"<adu id={adu!r}>: rests on EDUs {', '.join(sorted(grounded, key=order.get))}, which are not "
                       "adjacent: one component cannot span them")
        adu_edus[adu] = sorted(grounded, key=order.get)

    sources = set()
    for edge in edges:
        if edge.type == "seg":
            continue
        if edge.source not in roles:
            raise CorpusFormatError(
                f"<edge id={edge.id!r}>: a {edge.type} edge starts at an adu, not at {edge.source!r}",
                source=path,
                line=edge.line,
            )
        target = edge_ids.get(edge.target)
        if edge.target not in roles and (target is None or target.type == "seg"):
            raise CorpusFormatError(
                f"<edge id={edge.id!r}>: target {edge.target!r} is neither an adu nor an argumentative edge",
                source=path,
                line=edge.line,
            )
        sources.add(edge.source)
    central = [a for a in roles if a not in sources]
    if len(central) != 1:
        raise fail(f"expected one central claim (an adu that is the source of no edge), found {len(central)}: "
                   f"{', '.join(central) or 'none'}", root)
    if roles[central[0]] != "pro":
        raise fail(f"<adu id={central[0]!r}>: the central claim must be a proponent (pro) adu", root)
    ordered_roles = dict(sorted(roles.items(), key=lambda item: order[adu_edus[item[0]][0]]))
    return _Graph(graph_id, root.get("topic_id"), topic_stance, full_text, spans, ordered_roles, adu_edus,
                  tuple(edges), central[0], path)


def _edge(element: Any, identifier: str, fail: Any) -> _Edge:
    for name in ("src", "trg", "type"):
        if not element.get(name):
            raise fail(f"<edge id={identifier!r}>: the {name} attribute is missing", element)
    if element.get("type") not in EDGE_TYPES:
        raise fail(f"<edge id={identifier!r}>: type {element.get('type')!r} is not one of {', '.join(EDGE_TYPES)}",
                   element)
    return _Edge(identifier, element.get("src"), element.get("trg"), element.get("type"), element.sourceline)


# -- threads -----------------------------------------------------------------------------------------


def _span(graph: _Graph, adu: str) -> tuple[int, int]:
    grounded = graph.adu_edus[adu]
    return graph.edu_spans[grounded[0]][0], graph.edu_spans[grounded[-1]][1]


def _component(graph: _Graph, adu: str, holder: str, start: int, end: int) -> Component:
    role = graph.roles[adu]
    is_central = adu == graph.central
    return make_component(
        holder,
        start,
        end,
        CLAIM if is_central else PREMISE,
        f"{graph.id}/{adu}",
        stance=None if is_central else Stance(role),
        attributes={"adu": adu, "edus": list(graph.adu_edus[adu]), "role": role},
    )


def _relations(graph: _Graph) -> list[Relation]:
    """Argumentative edges between components; an edge aimed at an edge targets that edge's source ADU."""
    by_id = {e.id: e for e in graph.edges}
    out = []
    for edge in graph.edges:
        if edge.type == "seg":
            continue
        target = edge.target if edge.target in graph.roles else by_id[edge.target].source
        out.append(Relation(f"{graph.id}/{edge.source}", f"{graph.id}/{target}", edge.type))
    return out


def _text_thread(graph: _Graph, meta: dict[str, Any]) -> Thread:
    components = [_component(graph, adu, graph.text, *_span(graph, adu)) for adu in graph.roles]
    post = Post(id=graph.id, author=None, text=graph.text, components=components)
    return Thread(id=graph.id, post=post, relations=_relations(graph), meta=meta)


def _stance_thread(graph: _Graph, meta: dict[str, Any]) -> Thread:
    start, end = _span(graph, graph.central)
    claim = graph.text[start:end]
    post = Post(
        id=graph.id,
        author=None,
        text=claim,
        components=[_component(graph, graph.central, claim, 0, len(claim))],
        meta={"start": start, "end": end},
    )
    comments = []
    for adu, role in graph.roles.items():
        if adu == graph.central:
            continue
        start, end = _span(graph, adu)
        text = graph.text[start:end]
        comments.append(
            Comment(
                id=f"{graph.id}/comment-{adu}",
                author=None,
                reply_to=post.id,
                text=text,
                components=[_component(graph, adu, text, 0, len(text))],
                stance=Stance(role),
                meta={"start": start, "end": end},
            )
        )
    return Thread(id=graph.id, post=post, comments=comments, relations=_relations(graph),
                  meta={**meta, "text": graph.text})
