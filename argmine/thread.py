"""The argument structure of one comment thread, as frozen dataclasses.

    Thread
    ├── post: Post                 the original post (may be empty text)
    ├── comments: (Comment, ...)   each with ``reply_to`` = the post's id or another comment's id
    │     └── components: (Component, ...)   claims / premises, character offsets into that text
    └── relations: (Relation, ...) component → component, comment or post

A stance (``Stance``) toward the original post can sit on a comment, on a
component, and on the post itself (RumourEval labels source posts too).

Every ``Thread`` is validated when it is built, so a thread that exists is a
valid one: ids are unique across post, comments and components; ``reply_to``
links resolve and form a tree; offsets lie inside their holder's text and each
component's ``text`` equals that slice; relation ends exist. A violation raises
``InvalidThreadError`` naming the field, e.g. ``comments[2].components[0].end``.
No text holds a lone surrogate (it could be neither tokenized nor written as UTF-8).
Validation is linear in the size of the thread (a 50,000-deep reply chain included).

Unknown fields are kept, never dropped: a JSON key the data model does not know,
on a thread, post, comment, component, relation or stance, lands in that object's
``extra`` mapping, and ``to_dict`` puts it back in place, so reading and writing
a file loses nothing a user added.

The field-level rules (surrogates, nesting, finite scores, typed JSON fields)
are in ``argmine.json_fields``; this module holds the dataclasses, their JSON
form and the structural rules. It imports nothing heavy (no torch): readers,
metrics and the CLI use it without loading a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from argmine.errors import InvalidThreadError
from argmine.json_fields import (
    MAX_NESTING,
    check_extra,
    check_score,
    check_value,
    extra_of,
    is_plain,
    optional_float,
    optional_list,
    optional_str,
    require,
    require_list,
    with_extra,
)

__all__ = [
    "COMMENT_KEYS",
    "COMPONENT_KEYS",
    "MAX_NESTING",
    "POST_KEYS",
    "RELATION_KEYS",
    "STANCE_KEYS",
    "THREAD_KEYS",
    "Comment",
    "Component",
    "Post",
    "Relation",
    "Stance",
    "Thread",
    "make_component",
    "strip_space",
    "validate",
    "with_components",
]

# The JSON keys each object knows; any other key is kept in its ``extra``.
STANCE_KEYS = frozenset({"label", "score"})
COMPONENT_KEYS = frozenset({"id", "start", "end", "label", "text", "stance", "score", "attributes"})
POST_KEYS = frozenset({"id", "author", "text", "components", "stance", "meta"})
COMMENT_KEYS = POST_KEYS | {"reply_to"}
RELATION_KEYS = frozenset({"source", "target", "label", "score"})
THREAD_KEYS = frozenset({"id", "post", "comments", "relations", "meta"})


def _freeze(obj: object, name: str, value: Iterable[Any]) -> None:
    # Frozen dataclasses hold tuples; accept any iterable from callers.
    if not isinstance(value, tuple):
        object.__setattr__(obj, name, tuple(value))


@dataclass(frozen=True)
class Stance:
    """A label toward the original post (``support`` / ``attack`` / ``none``, or a corpus's own)."""

    label: str
    score: float | None = field(default=None, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)  # unknown JSON keys, kept

    def to_dict(self) -> dict[str, Any]:
        return with_extra({"label": self.label, "score": self.score}, self.extra)

    @staticmethod
    def from_json(value: Any, where: str) -> Stance | None:
        if value is None:
            return None
        if isinstance(value, str):  # a bare label is accepted on input
            return Stance(value)
        if isinstance(value, Mapping) and isinstance(value.get("label"), str):
            score = optional_float(value.get("score"), f"{where}.score")
            return Stance(value["label"], score, extra_of(value, STANCE_KEYS))
        raise InvalidThreadError("expected null, a label string or {\"label\", \"score\"}", field=where)


@dataclass(frozen=True)
class Component:
    """A claim, premise or major claim: ``holder.text[start:end] == text``."""

    id: str
    start: int
    end: int
    label: str
    text: str
    stance: Stance | None = None
    score: float | None = field(default=None, compare=False)
    # Corpus-specific extras (CMV semantic type, AAE brat id, ...): kept, never interpreted.
    attributes: Mapping[str, Any] = field(default_factory=dict, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)  # unknown JSON keys, kept

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "text": self.text,
            "stance": self.stance.to_dict() if self.stance else None,
            "score": self.score,
        }
        if self.attributes:
            out["attributes"] = dict(self.attributes)
        return with_extra(out, self.extra)


@dataclass(frozen=True, kw_only=True)
class Post:
    """The original post of a thread."""

    id: str
    author: str | None
    text: str
    components: tuple[Component, ...] = ()
    stance: Stance | None = None
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)  # unknown JSON keys, kept

    def __post_init__(self) -> None:
        _freeze(self, "components", self.components)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "author": self.author,
            "text": self.text,
            "stance": self.stance.to_dict() if self.stance else None,
            "components": [c.to_dict() for c in self.components],
        }
        if self.meta:
            out["meta"] = dict(self.meta)
        return with_extra(out, self.extra)


@dataclass(frozen=True, kw_only=True)
class Comment(Post):
    """A reply: to the original post (``reply_to == post.id``) or to another comment."""

    reply_to: str

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        return {"id": out.pop("id"), "author": out.pop("author"), "reply_to": self.reply_to, **out}


@dataclass(frozen=True)
class Relation:
    """A directed, labelled edge from a component to a component, comment or post."""

    source: str
    target: str
    label: str
    score: float | None = field(default=None, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)  # unknown JSON keys, kept

    def to_dict(self) -> dict[str, Any]:
        out = {"source": self.source, "target": self.target, "label": self.label, "score": self.score}
        return with_extra(out, self.extra)


@dataclass(frozen=True, kw_only=True)
class Thread:
    """One original post, its comments, their components and the relations between them."""

    id: str
    post: Post
    comments: tuple[Comment, ...] = ()
    relations: tuple[Relation, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)  # unknown JSON keys, kept

    def __post_init__(self) -> None:
        _freeze(self, "comments", self.comments)
        _freeze(self, "relations", self.relations)
        validate(self)

    # -- navigation -------------------------------------------------------

    def messages(self) -> Iterator[Post]:
        """The post, then every comment, in order."""
        yield self.post
        yield from self.comments

    def components(self) -> Iterator[tuple[Post, Component]]:
        """Every component with the post or comment that holds it."""
        for message in self.messages():
            for component in message.components:
                yield message, component

    @cached_property
    def _by_id(self) -> dict[str, Post]:
        # Built once per (immutable) thread, so looking up every comment's parent stays linear.
        return {message.id: message for message in self.messages()}

    @cached_property
    def _depths(self) -> dict[str, int]:
        depths = {self.post.id: 0}
        parents = {c.id: c.reply_to for c in self.comments}
        for comment in self.comments:
            path, current = [], comment.id
            while current not in depths:  # each comment is walked once: linear, no recursion
                path.append(current)
                current = parents[current]
            depth = depths[current]
            for message_id in reversed(path):
                depth += 1
                depths[message_id] = depth
        return depths

    def message(self, message_id: str) -> Post:
        """The post or comment with this id; ``KeyError`` if there is none."""
        return self._by_id[message_id]

    def depth(self, comment: Comment) -> int:
        """1 for a direct reply to the post, 2 for a reply to such a reply, ..."""
        return self._depths[comment.id]

    # -- JSON -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "post": self.post.to_dict(),
            "comments": [c.to_dict() for c in self.comments],
            "relations": [r.to_dict() for r in self.relations],
            "meta": dict(self.meta),
        }
        return with_extra(out, self.extra)

    @classmethod
    def from_dict(cls, data: Any) -> Thread:
        """Build from the JSON form; raises ``InvalidThreadError`` naming the bad field."""
        if not isinstance(data, Mapping):
            raise InvalidThreadError("a thread must be a JSON object", field="$")
        thread_id = require(data, "id", str, "")
        post = _post_from_json(require(data, "post", Mapping, ""), "post", comment=False)
        comments = [
            _post_from_json(c, f"comments[{i}]", comment=True)
            for i, c in enumerate(require_list(data, "comments", ""))
        ]
        relations = [
            _relation_from_json(r, f"relations[{i}]")
            for i, r in enumerate(optional_list(data, "relations", ""))
        ]
        meta = data.get("meta") or {}
        if not isinstance(meta, Mapping):
            raise InvalidThreadError("expected an object", field="meta")
        return cls(
            id=thread_id, post=post, comments=comments, relations=relations, meta=dict(meta),
            extra=extra_of(data, THREAD_KEYS),
        )


def make_component(holder_text: str, start: int, end: int, label: str, id: str, **kwargs: Any) -> Component:
    """A component whose ``text`` is cut from its holder, so it always matches."""
    return Component(id=id, start=start, end=end, label=label, text=holder_text[start:end], **kwargs)


def with_components(message: Post, components: Iterable[Component]) -> Post:
    """A copy of ``message`` holding ``components`` (the input is not changed)."""
    return replace(message, components=tuple(components))


def strip_space(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` of ``text`` without the white space at its edges (empty when it is all white space)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# -- validation -------------------------------------------------------------


def validate(thread: Thread) -> None:
    """Raise ``InvalidThreadError`` at the first broken rule of the data model (linear in the thread's size)."""
    # Places are kept as (comment index or -1 for the post, component index or None) and spelt out only in an
    # error: formatting a path for every field of a 50,000-comment thread would cost more than the checks.
    seen: dict[str, tuple[int, int | None]] = {}

    def claim(identifier: Any, place: tuple[int, int | None]) -> None:
        if not isinstance(identifier, str) or not identifier:
            raise InvalidThreadError("an id must be a non-empty string", field=_place(*place) + ".id")
        if identifier in seen:
            raise InvalidThreadError(
                f"id {identifier!r} is already used at {_place(*seen[identifier])}.id", field=_place(*place) + ".id"
            )
        seen[identifier] = place

    if not isinstance(thread.id, str) or not thread.id:
        raise InvalidThreadError(f"thread id must be a non-empty string, got {thread.id!r}", field="id")
    check_value(thread.id, "id")
    check_extra(thread.extra, THREAD_KEYS, "")
    check_value(thread.meta, "meta")
    component_ids: set[str] = set()

    for i, message in enumerate((thread.post, *thread.comments), start=-1):
        if not isinstance(message.text, str):
            raise InvalidThreadError("text must be a string", field=f"{_place(i)}.text")
        claim(message.id, (i, None))
        if isinstance(message, Comment) is (i < 0):
            raise InvalidThreadError(f"is {'a Comment' if i < 0 else 'not a Comment'}", field=_place(i))
        if message.stance is not None:
            _check_stance(message.stance, f"{_place(i)}.stance")
        if not is_plain((message.id, message.author, message.text), message.meta, message.extra):
            where = _place(i)
            for name in ("id", "author", "text", "meta"):
                check_value(getattr(message, name), f"{where}.{name}")
            check_extra(message.extra, COMMENT_KEYS if i >= 0 else POST_KEYS, where)
        for j, component in enumerate(message.components):
            _check_component(component, message.text, i, j)
            if component.stance is not None:
                _check_stance(component.stance, f"{_place(i, j)}.stance")
            if not is_plain((component.id, component.label, component.text), component.attributes, component.extra):
                cw = _place(i, j)
                for name in ("id", "label", "text", "attributes"):
                    check_value(getattr(component, name), f"{cw}.{name}")
                check_extra(component.extra, COMPONENT_KEYS, cw)
            claim(component.id, (i, j))
            component_ids.add(component.id)

    _check_reply_tree(thread)

    for i, relation in enumerate(thread.relations):
        if relation.source not in component_ids:
            raise InvalidThreadError(
                f"source {relation.source!r} is not a component of this thread", field=f"relations[{i}].source"
            )
        if relation.target not in seen:
            raise InvalidThreadError(f"target {relation.target!r} is not in this thread", field=f"relations[{i}].target")
        if not isinstance(relation.label, str) or not relation.label:
            raise InvalidThreadError("label must be a non-empty string", field=f"relations[{i}].label")
        check_value(relation.label, f"relations[{i}].label")
        check_extra(relation.extra, RELATION_KEYS, f"relations[{i}]")


def _place(message: int, component: int | None = None) -> str:
    """The JSON path of a message (-1: the post) or of one of its components."""
    where = "post" if message < 0 else f"comments[{message}]"
    return where if component is None else f"{where}.components[{component}]"


def _check_component(component: Component, holder_text: str, message: int, index: int) -> None:
    start, end = component.start, component.end
    where = _place(message, index)
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidThreadError(f"must be an integer, got {value!r}", field=f"{where}.{name}")
    if not 0 <= start < end <= len(holder_text):
        raise InvalidThreadError(
            f"span [{start}, {end}) is not a non-empty range inside a text of {len(holder_text)} characters",
            field=f"{where}.end" if end > len(holder_text) else f"{where}.start",
        )
    if not isinstance(component.label, str) or not component.label:
        raise InvalidThreadError("label must be a non-empty string", field=f"{where}.label")
    check_score(component.score, f"{where}.score")
    if component.text != holder_text[start:end]:
        raise InvalidThreadError(
            f"text {_clip(component.text)!r} differs from the slice [{start}, {end}) of its holder: "
            f"{_clip(holder_text[start:end])!r}",
            field=f"{where}.text",
        )


def _check_stance(stance: Stance | None, where: str) -> None:
    if stance is not None:
        if not isinstance(stance.label, str) or not stance.label.strip():
            raise InvalidThreadError(f"a stance label must be a non-empty string, got {stance.label!r}",
                                     field=f"{where}.label")
        check_score(stance.score, f"{where}.score")
        check_value(stance.label, f"{where}.label")
        check_extra(stance.extra, STANCE_KEYS, where)


def _check_reply_tree(thread: Thread) -> None:
    """Every ``reply_to`` resolves and the links form a tree; each comment is walked once (linear)."""
    parents = {c.id: c.reply_to for c in thread.comments}
    for i, comment in enumerate(thread.comments):
        if comment.reply_to != thread.post.id and comment.reply_to not in parents:
            raise InvalidThreadError(
                f"reply_to {comment.reply_to!r} is neither the post nor a comment of this thread",
                field=f"comments[{i}].reply_to",
            )
    reaches_post: set[str] = {thread.post.id}
    for i, comment in enumerate(thread.comments):
        path, on_path, current = [], set(), comment.id
        while current not in reaches_post:
            if current in on_path:
                raise InvalidThreadError(f"reply_to links form a cycle through {current!r}", field=f"comments[{i}].reply_to")
            on_path.add(current)
            path.append(current)
            current = parents[current]
        reaches_post.update(path)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- JSON helpers -------------------------------------------------------------


def _post_from_json(data: Any, where: str, *, comment: bool) -> Post:
    if not isinstance(data, Mapping):
        raise InvalidThreadError("expected an object", field=where)
    components = []
    for j, c in enumerate(optional_list(data, "components", where)):
        cw = f"{where}.components[{j}]"
        if not isinstance(c, Mapping):
            raise InvalidThreadError("expected an object", field=cw)
        attributes = c.get("attributes") or {}
        if not isinstance(attributes, Mapping):
            raise InvalidThreadError("expected an object", field=f"{cw}.attributes")
        components.append(
            Component(
                id=require(c, "id", str, cw),
                start=require(c, "start", int, cw),
                end=require(c, "end", int, cw),
                label=require(c, "label", str, cw),
                text=require(c, "text", str, cw),
                stance=Stance.from_json(c.get("stance"), f"{cw}.stance"),
                score=optional_float(c.get("score"), f"{cw}.score"),
                attributes=dict(attributes),
                extra=extra_of(c, COMPONENT_KEYS),
            )
        )
    meta = data.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise InvalidThreadError("expected an object", field=f"{where}.meta")
    fields: dict[str, Any] = dict(
        id=require(data, "id", str, where),
        author=optional_str(data, "author", where),
        text=require(data, "text", str, where),
        components=components,
        stance=Stance.from_json(data.get("stance"), f"{where}.stance"),
        meta=dict(meta),
        extra=extra_of(data, COMMENT_KEYS if comment else POST_KEYS),
    )
    if comment:
        return Comment(reply_to=require(data, "reply_to", str, where), **fields)
    return Post(**fields)


def _relation_from_json(data: Any, where: str) -> Relation:
    if not isinstance(data, Mapping):
        raise InvalidThreadError("expected an object", field=where)
    return Relation(
        source=require(data, "source", str, where),
        target=require(data, "target", str, where),
        label=require(data, "label", str, where),
        score=optional_float(data.get("score"), f"{where}.score"),
        extra=extra_of(data, RELATION_KEYS),
    )
