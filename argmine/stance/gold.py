"""Gold stance labels from what the corpora annotate, driven by label maps given as plain dicts.

The maps live in the Hydra data configs, not here, so a new corpus or a
different reading of a label set needs no code change.

CMV modes (``derive_cmv_stances``): the corpus annotates relations between
components, some of them from a reply's component to a component of the
original post (often its title, the ``main_claim``). A reply component's
stance toward the post is the polarity of such a relation:

* each relation label is mapped by ``relation_polarity`` to ``support``,
  ``attack`` or ``none`` (a relation that carries no stance, e.g. ``understand``);
  a label missing from the map is an error, never silently ``none``;
* only *direct* relations count: a premise supporting a claim that rebuts the
  post is not itself given ``attack`` (its comment is, through the claim);
* a component with relations of **both** polarities to the post gets
  ``attack``: the same precedence as for comments below, because one rebuttal
  of the post makes a reply a challenge to it, whatever it concedes
  (``polarity_conflicts`` lists such components);
* a reply component with no support/attack relation to the post gets ``default``;
* a comment is ``attack`` if any of its components attacks the post, else
  ``support`` if any supports it, else ``default``.

The post's own components and stance are left as they are.

RumourEval (``map_stances``): labels are renamed by a map, e.g. the three-way
setting ``support→support, deny→attack, query→none, comment→none``, or an
identity map for the native four-way benchmark.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

from argmine.errors import InputError
from argmine.thread import Component, Post, Stance, Thread

log = logging.getLogger(__name__)

SUPPORT, ATTACK, NONE = "support", "attack", "none"
POLARITIES = (SUPPORT, ATTACK, NONE)


def check_polarity_map(relation_polarity: Mapping[str, str]) -> None:
    """Raise ``ValueError`` unless every value is ``support``, ``attack`` or ``none``."""
    if not relation_polarity:
        raise InputError("relation_polarity is empty: map each relation label to support, attack or none")
    bad = {label: value for label, value in relation_polarity.items() if value not in POLARITIES}
    if bad:
        raise InputError(f"relation_polarity maps {bad} to values other than {', '.join(POLARITIES)}")


def _component_polarities(thread: Thread, relation_polarity: Mapping[str, str]) -> dict[str, set[str]]:
    """Reply component id → the polarities of its relations to the post (or the post's components)."""
    post_targets = {thread.post.id, *(c.id for c in thread.post.components)}
    reply_components = {c.id for comment in thread.comments for c in comment.components}
    found: dict[str, set[str]] = {}
    for i, relation in enumerate(thread.relations):
        if relation.label not in relation_polarity:
            raise InputError(
                f"thread {thread.id!r}: relations[{i}] has label {relation.label!r}, which relation_polarity does "
                f"not map (known: {', '.join(sorted(relation_polarity))}); add it to the data config"
            )
        if relation.source not in reply_components or relation.target not in post_targets:
            continue
        polarity = relation_polarity[relation.label]
        if polarity != NONE:
            found.setdefault(relation.source, set()).add(polarity)
    return found


def polarity_conflicts(thread: Thread, relation_polarity: Mapping[str, str]) -> list[str]:
    """Ids of reply components that both support and attack the post (they get ``attack``)."""
    check_polarity_map(relation_polarity)
    found = _component_polarities(thread, relation_polarity)
    return sorted(cid for cid, polarities in found.items() if len(polarities) > 1)


def _resolve(polarities: set[str], default: str) -> str:
    if ATTACK in polarities:
        return ATTACK
    if SUPPORT in polarities:
        return SUPPORT
    return default


def derive_cmv_stances(thread: Thread, relation_polarity: Mapping[str, str], default: str = NONE) -> Thread:
    """A copy of ``thread`` whose reply comments and their components carry stances toward the post.

    See the module docstring for the rules. Existing stances on replies are
    replaced; the input thread is not changed.
    """
    check_polarity_map(relation_polarity)
    found = _component_polarities(thread, relation_polarity)
    conflicts = [cid for cid, polarities in found.items() if len(polarities) > 1]
    if conflicts:
        log.debug("thread %s: components %s both support and attack the post; counted as attack", thread.id, conflicts)
    comments = []
    for comment in thread.comments:
        components = [replace(c, stance=Stance(_resolve(found.get(c.id, set()), default))) for c in comment.components]
        union: set[str] = set().union(*(found.get(c.id, set()) for c in comment.components))
        comments.append(replace(comment, components=tuple(components), stance=Stance(_resolve(union, default))))
    return replace(thread, comments=tuple(comments))


def map_stances(thread: Thread, mapping: Mapping[str, str]) -> Thread:
    """A copy of ``thread`` with every stance label (post, comments, components) renamed by ``mapping``.

    Items without a stance stay without one; scores are kept. A label that
    ``mapping`` does not cover raises ``ValueError`` naming the item.
    """
    if not mapping:
        raise InputError("the stance mapping is empty")

    def rename(stance: Stance | None, where: str) -> Stance | None:
        if stance is None:
            return None
        if stance.label not in mapping:
            raise InputError(
                f"thread {thread.id!r}: {where} has stance {stance.label!r}, which the mapping does not cover "
                f"(known: {', '.join(sorted(mapping))})"
            )
        return Stance(mapping[stance.label], stance.score)

    def message(item: Post, where: str) -> Post:
        components: list[Component] = [
            replace(c, stance=rename(c.stance, f"{where}.components[{j}]")) for j, c in enumerate(item.components)
        ]
        return replace(item, stance=rename(item.stance, where), components=tuple(components))

    post = message(thread.post, "post")
    comments = tuple(message(c, f"comments[{i}]") for i, c in enumerate(thread.comments))
    return replace(thread, post=post, comments=comments)
