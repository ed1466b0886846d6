"""Gold data for an experiment: read a corpus split, then apply the data config's label maps.

    read_threads(format, path, split) ──relabel_components──► model labels (e.g. main_claim → Claim)
                                      ──derive_cmv_stances / map_stances──► stance toward the post

Plain typed arguments: the Hydra entry points pass the ``data`` config's
fields, a notebook passes its own.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from argmine.readers import read_threads
from argmine.thread import Post, Thread

log = logging.getLogger(__name__)


def relabel_components(thread: Thread, mapping: Mapping[str, str]) -> Thread:
    """A copy of ``thread`` whose component labels are mapped; an unmapped label is an error."""

    def relabel(message: Post, where: str) -> Post:
        components = []
        for component in message.components:
            if component.label not in mapping:
                raise ValueError(
                    f"thread {thread.id!r}, {where} {message.id!r}: component label {component.label!r} "
                    f"is not in the data config's component_labels ({', '.join(mapping)})"
                )
            components.append(replace(component, label=mapping[component.label]))
        return replace(message, components=tuple(components))

    return replace(
        thread,
        post=relabel(thread.post, "post"),
        comments=tuple(relabel(c, "comment") for c in thread.comments),
    )


def model_labels(component_labels: Mapping[str, str]) -> list[str]:
    """The distinct target labels of a component label map, in first-seen order."""
    return list(dict.fromkeys(component_labels.values()))


def load_gold(
    format: str,
    path: str | Path,
    *,
    split: str = "all",
    seed: int | None = None,
    unit: str | None = None,
    component_labels: Mapping[str, str] | None = None,
    relation_polarity: Mapping[str, str] | None = None,
    stance_map: Mapping[str, str] | None = None,
    view: str | None = None,
    limit: int | None = None,
) -> list[Thread]:
    """The threads of one split with the config's labels.

    ``relation_polarity`` derives each reply's stance from its relations to the
    post (CMV); ``stance_map`` renames stance labels (e.g. RumourEval's four
    labels to support / attack / none). ``limit`` keeps the first N threads
    (smoke runs) and says so in the log. ``view`` re-reads each thread for
    stance (``argmine.stance.views``: an essay's claims toward its major claim);
    a thread the view finds nothing in is left out and counted in the log.
    """
    from argmine.stance.gold import derive_cmv_stances, map_stances
    from argmine.stance.views import apply_view

    threads: Iterable[Thread] = read_threads(format, path, split=split, seed=seed, unit=unit or "paragraph")
    if limit is not None:
        threads = itertools.islice(threads, limit)
    out = []
    without = 0
    for thread in threads:
        if component_labels:
            thread = relabel_components(thread, component_labels)
        if relation_polarity:
            thread = derive_cmv_stances(thread, relation_polarity)
        viewed = apply_view(thread, view)
        if viewed is None:
            without += 1
            continue
        if stance_map:
            viewed = map_stances(viewed, stance_map)
        out.append(viewed)
    if view is not None:
        log.info("view %s: %d threads, %d without anything to view left out", view, len(out), without)
    log.info("%s %s split %s: %d threads%s", format, path, split, len(out), f" (limit {limit})" if limit else "")
    return out
