"""Gold data for a run: read a corpus split, then apply the data config's label maps.

    read_threads(format, path, split) ──relabel_components──► model labels (e.g. main_claim → Claim)
                                      ──derive_cmv_stances / map_stances──► stance toward the post

``DataSettings`` is one data config (``conf/data/*.yaml``) as plain values; ``gold(data, split)``
reads one of its splits. ``load_gold`` takes the same as keyword arguments, for a notebook.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from argmine.errors import InputError
from argmine.readers import read_threads
from argmine.settings import SettingsError
from argmine.thread import Post, Thread

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataSettings:
    """One corpus as a data config names it: how to read it, its splits and its label maps.

    The last four fields belong to a data config placed inside another: ``extra_train`` holds
    more corpora for the train set (``argmine.jobs.train``), each with its ``use`` and
    ``select_on_dev``; a dev suite's entry (``argmine.jobs.evaluate``) may set ``stance_level``.
    """

    format: str
    path: str | None = None
    name: str = "data"
    split: str = "all"  # what an evaluation scores
    train_split: str = "train"  # what training fits ...
    dev_split: str | None = None  # ... and selects the best epoch on (none: no selection)
    dev_path: str | None = None  # a second file for dev (JSONL corpora)
    seed: int | None = None
    unit: str | None = None
    component_labels: Mapping[str, str] | None = None
    relation_polarity: Mapping[str, str] | None = None
    stance_map: Mapping[str, str] | None = None
    stance_labels: tuple[str, ...] = ()
    view: str | None = None
    limit: int | None = None
    extra_train: Mapping[str, DataSettings] = field(default_factory=dict)
    use: str | None = None  # an extra_train corpus: the half it trains (components, stance or both)
    select_on_dev: bool = False  # an extra_train corpus: its dev split also picks the stance settings
    stance_level: str | None = None  # a suite entry: the stance level scored (default: the evaluation's)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: str = "data") -> DataSettings:
        """From a data config as a plain mapping. Keys that are no field are ignored: a data config may
        carry notes of its own, and the readers check what they are given."""
        if not isinstance(values, Mapping):
            raise SettingsError(f"{where} must be a mapping of settings, got {type(values).__name__}")
        if values.get("format") is None:
            raise SettingsError(f"{where}.format: missing (how to read the corpus, e.g. jsonl)")
        known = {f.name for f in dataclasses.fields(cls)}
        kept = {key: value for key, value in values.items() if key in known and value is not None}
        kept["extra_train"] = {
            str(name): cls.from_mapping(extra, f"{where}.extra_train.{name}")
            for name, extra in (values.get("extra_train") or {}).items()
        }
        if "stance_labels" in kept:
            kept["stance_labels"] = tuple(kept["stance_labels"])
        return cls(**kept)


def gold(data: DataSettings, split: str, path: str | None = None) -> list[Thread]:
    """The threads of ``split`` of ``data`` (from ``path`` instead of ``data.path`` when given)."""
    if (path or data.path) is None:
        raise InputError(f"{data.name}: no corpus path given (set its path)")
    options = {name: getattr(data, name) for name in _READ_OPTIONS}
    return load_gold(data.format, path or data.path, split=split, **options)


# The fields of DataSettings that say how to read and relabel a split (load_gold's keywords).
_READ_OPTIONS = ("seed", "unit", "component_labels", "relation_polarity", "stance_map", "view", "limit")


def relabel_components(thread: Thread, mapping: Mapping[str, str]) -> Thread:
    """A copy of ``thread`` whose component labels are mapped; an unmapped label is an error."""

    def relabel(message: Post, where: str) -> Post:
        components = []
        for component in message.components:
            if component.label not in mapping:
                raise InputError(
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
