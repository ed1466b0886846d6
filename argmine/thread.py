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

This module imports nothing heavy (no torch): readers, metrics and the CLI use
it without loading a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from argmine.errors import InvalidThreadError


def _freeze(obj: object, name: str, value: Iterable[Any]) -> None:
    # Frozen dataclasses hold tuples; accept any iterable from callers.
    if not isinstance(value, tuple):
        object.__setattr__(obj, name, tuple(value))


@dataclass(frozen=True)
class Stance:
    """A label toward the original post (``support`` / ``attack`` / ``none``, or a corpus's own)."""

    label: str
    score: float | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score}

    @staticmethod
    def from_json(value: Any, where: str) -> Stance | None:
        if value is None:
            return None
        if isinstance(value, str):  # a bare label is accepted on input
            return Stance(value)
        if isinstance(value, Mapping) and isinstance(value.get("label"), str):
            return Stance(value["label"], _optional_float(value.get("score"), f"{where}.score"))
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
        return out


@dataclass(frozen=True, kw_only=True)
class Post:
    """The original post of a thread."""

    id: str
    author: str | None
    text: str
    components: tuple[Component, ...] = ()
    stance: Stance | None = None
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)

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
        return out


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

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "label": self.label, "score": self.score}


@dataclass(frozen=True, kw_only=True)
class Thread:
    """One original post, its comments, their components and the relations between them."""

    id: str
    post: Post
    comments: tuple[Comment, ...] = ()
    relations: tuple[Relation, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)

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

    def message(self, message_id: str) -> Post:
        for message in self.messages():
            if message.id == message_id:
                return message
        raise KeyError(message_id)

    def depth(self, comment: Comment) -> int:
        """1 for a direct reply to the post, 2 for a reply to such a reply, ..."""
        parents = {c.id: c.reply_to for c in self.comments}
        depth, current = 1, comment.reply_to
        while current != self.post.id:
            depth, current = depth + 1, parents[current]
        return depth

    # -- JSON -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "post": self.post.to_dict(),
            "comments": [c.to_dict() for c in self.comments],
            "relations": [r.to_dict() for r in self.relations],
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Thread:
        """Build from the JSON form; raises ``InvalidThreadError`` naming the bad field."""
        if not isinstance(data, Mapping):
            raise InvalidThreadError("a thread must be a JSON object", field="$")
        thread_id = _require(data, "id", str, "")
        post = _post_from_json(_require(data, "post", Mapping, ""), "post", comment=False)
        comments = [
            _post_from_json(c, f"comments[{i}]", comment=True)
            for i, c in enumerate(_require_list(data, "comments", ""))
        ]
        relations = [
            _relation_from_json(r, f"relations[{i}]")
            for i, r in enumerate(_optional_list(data, "relations", ""))
        ]
        meta = data.get("meta") or {}
        if not isinstance(meta, Mapping):
            raise InvalidThreadError("expected an object", field="meta")
        return cls(id=thread_id, post=post, comments=comments, relations=relations, meta=dict(meta))


def make_component(holder_text: str, start: int, end: int, label: str, id: str, **kwargs: Any) -> Component:
    """A component whose ``text`` is cut from its holder, so it always matches."""
    return Component(id=id, start=start, end=end, label=label, text=holder_text[start:end], **kwargs)


def with_components(message: Post, components: Iterable[Component]) -> Post:
    """A copy of ``message`` holding ``components`` (the input is not changed)."""
    return replace(message, components=tuple(components))


# -- validation -------------------------------------------------------------


def validate(thread: Thread) -> None:
    """Raise ``InvalidThreadError`` at the first broken rule of the data model."""
    seen: dict[str, str] = {}

    def claim(identifier: Any, where: str) -> None:
        if not isinstance(identifier, str) or not identifier:
            raise InvalidThreadError("an id must be a non-empty string", field=where)
        if identifier in seen:
            raise InvalidThreadError(f"id {identifier!r} is already used at {seen[identifier]}", field=where)
        seen[identifier] = where

    if not isinstance(thread.id, str) or not thread.id:
        raise InvalidThreadError(f"thread id must be a non-empty string, got {thread.id!r}", field="id")
    component_ids: set[str] = set()

    messages: list[tuple[str, Post]] = [("post", thread.post)]
    messages += [(f"comments[{i}]", c) for i, c in enumerate(thread.comments)]
    for where, message in messages:
        if not isinstance(message.text, str):
            raise InvalidThreadError("text must be a string", field=f"{where}.text")
        claim(message.id, f"{where}.id")
        if isinstance(message, Comment) is (where == "post"):
            kind = "a Comment" if where == "post" else "not a Comment"
            raise InvalidThreadError(f"is {kind}", field=where)
        for j, component in enumerate(message.components):
            _check_component(component, message.text, f"{where}.components[{j}]")
            claim(component.id, f"{where}.components[{j}].id")
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


def _check_component(component: Component, holder_text: str, where: str) -> None:
    start, end = component.start, component.end
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
    if component.text != holder_text[start:end]:
        raise InvalidThreadError(
            f"text {_clip(component.text)!r} differs from the slice [{start}, {end}) of its holder: "
            f"{_clip(holder_text[start:end])!r}",
            field=f"{where}.text",
        )


def _check_reply_tree(thread: Thread) -> None:
    parents = {c.id: c.reply_to for c in thread.comments}
    for i, comment in enumerate(thread.comments):
        if comment.reply_to != thread.post.id and comment.reply_to not in parents:
            raise InvalidThreadError(
                f"reply_to {comment.reply_to!r} is neither the post nor a comment of this thread",
                field=f"comments[{i}].reply_to",
            )
    for i, comment in enumerate(thread.comments):
        visited, current = {comment.id}, comment.reply_to
        while current != thread.post.id:
            if current in visited:
                raise InvalidThreadError(f"reply_to links form a cycle through {current!r}", field=f"comments[{i}].reply_to")
            visited.add(current)
            current = parents[current]


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- JSON helpers -------------------------------------------------------------


def _require(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], prefix: str) -> Any:
    where = f"{prefix}.{key}" if prefix else key
    if key not in data:
        raise InvalidThreadError("is missing", field=where)
    value = data[key]
    if not isinstance(value, kind):
        expected = getattr(kind, "__name__", str(kind))
        raise InvalidThreadError(f"expected {expected}, got {type(value).__name__}", field=where)
    return value


def _require_list(data: Mapping[str, Any], key: str, prefix: str) -> list[Any]:
    return _require(data, key, list, prefix)


def _optional_list(data: Mapping[str, Any], key: str, prefix: str) -> list[Any]:
    if data.get(key) is None:
        return []
    return _require(data, key, list, prefix)


def _optional_float(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidThreadError(f"expected a number or null, got {value!r}", field=where)
    return float(value)


def _optional_str(data: Mapping[str, Any], key: str, prefix: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidThreadError(f"expected a string or null, got {type(value).__name__}", field=f"{prefix}.{key}")
    return value


def _post_from_json(data: Any, where: str, *, comment: bool) -> Post:
    if not isinstance(data, Mapping):
        raise InvalidThreadError("expected an object", field=where)
    components = []
    for j, c in enumerate(_optional_list(data, "components", where)):
        cw = f"{where}.components[{j}]"
        if not isinstance(c, Mapping):
            raise InvalidThreadError("expected an object", field=cw)
        attributes = c.get("attributes") or {}
        if not isinstance(attributes, Mapping):
            raise InvalidThreadError("expected an object", field=f"{cw}.attributes")
        components.append(
            Component(
                id=_require(c, "id", str, cw),
                start=_require(c, "start", int, cw),
                end=_require(c, "end", int, cw),
                label=_require(c, "label", str, cw),
                text=_require(c, "text", str, cw),
                stance=Stance.from_json(c.get("stance"), f"{cw}.stance"),
                score=_optional_float(c.get("score"), f"{cw}.score"),
                attributes=dict(attributes),
            )
        )
    meta = data.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise InvalidThreadError("expected an object", field=f"{where}.meta")
    fields: dict[str, Any] = dict(
        id=_require(data, "id", str, where),
        author=_optional_str(data, "author", where),
        text=_require(data, "text", str, where),
        components=components,
        stance=Stance.from_json(data.get("stance"), f"{where}.stance"),
        meta=dict(meta),
    )
    if comment:
        return Comment(reply_to=_require(data, "reply_to", str, where), **fields)
    return Post(**fields)


def _relation_from_json(data: Any, where: str) -> Relation:
    if not isinstance(data, Mapping):
        raise InvalidThreadError("expected an object", field=where)
    return Relation(
        source=_require(data, "source", str, where),
        target=_require(data, "target", str, where),
        label=_require(data, "label", str, where),
        score=_optional_float(data.get("score"), f"{where}.score"),
    )
