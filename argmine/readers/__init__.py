"""Readers: every corpus and raw comment page becomes ``Thread`` objects.

``read_threads(format, path, ...)`` is the one door the CLI and the Hydra
entry points use; each format's module can also be called directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from argmine.errors import InputError
from argmine.thread import Thread

REPLIES = ("infer", "flat")  # the text format's reply-link rules
FORMATS = ("jsonl", "cmv", "aae", "rumoureval", "text", "brat", "debagreement", "lei2022")

# Argument-structure corpora: microtexts (and its stance view), web discourse, AbstRCT.
FORMATS += ("microtexts", "microtexts_stance", "webdiscourse", "abstrct")


def read_threads(
    format: str,
    path: str | Path,
    *,
    split: str = "all",
    seed: int | None = None,
    unit: str = "paragraph",
    post: str | None = None,
    replies: str | None = None,
) -> Iterator[Thread]:
    """Threads from ``path`` read as ``format``.

    ``split`` (train/dev/test/all) and ``seed`` apply to the corpora that define
    splits; ``unit`` to AAE (essay or paragraph); ``post`` (the original post's
    text) to a copied comment page, and so does ``replies``: ``infer`` (the
    default) links a comment to the one above it on a clear signal, ``flat``
    attaches every comment to the post (see ``argmine.readers.text``). An option
    a format has no use for is an error rather than silently ignored.
    """
    if replies is not None and (format != "text" or replies not in REPLIES):
        if format != "text":
            raise InputError(f"format {format!r} takes no replies option (its reply links are in the data)")
        raise InputError(f"unknown replies rule {replies!r}; expected one of {', '.join(REPLIES)}")
    seeded: dict[str, Any] = {} if seed is None else {"seed": seed}
    if format == "jsonl":
        _reject(format, split=split != "all", seed=seed is not None, post=post is not None)
        from argmine.readers.jsonl import read_jsonl

        return read_jsonl(path)
    if format == "cmv":
        _reject(format, post=post is not None)
        from argmine.readers.cmv import read_cmv

        return read_cmv(path, split=split, **seeded)
    if format == "aae":
        _reject(format, post=post is not None)
        from argmine.readers.aae import read_aae

        return read_aae(path, unit=unit, split=split, **seeded)
    if format == "rumoureval":
        _reject(format, seed=seed is not None, post=post is not None)
        from argmine.readers.rumoureval import read_rumoureval

        return read_rumoureval(path, split=split)
    if format == "text":
        _reject(format, split=split != "all", seed=seed is not None)
        from argmine.readers.text import read_text_page

        return iter([read_text_page(path, post=post, infer_replies=replies != "flat")])
    if format == "brat":
        _reject(format, post=post is not None)
        from argmine.readers.brat import read_brat

        return read_brat(path, split=split, **seeded)
    if format == "debagreement":
        _reject(format, post=post is not None)
        from argmine.readers.debagreement import read_debagreement

        return read_debagreement(path, split=split, **seeded)
    if format == "lei2022":
        _reject(format, post=post is not None)
        from argmine.readers.lei2022 import read_lei2022

        return read_lei2022(path, split=split, **seeded)
    if format in ("microtexts", "microtexts_stance"):
        # German: point path at corpus/de (read_microtexts takes language= too).
        _reject(format, post=post is not None)
        from argmine.readers.microtexts import read_microtexts

        view = "text" if format == "microtexts" else "adu_stance"
        return read_microtexts(path, view=view, split=split, **seeded)
    if format == "webdiscourse":
        _reject(format, post=post is not None)
        from argmine.readers.webdiscourse import read_webdiscourse

        return read_webdiscourse(path, split=split, **seeded)
    if format == "abstrct":
        _reject(format, seed=seed is not None, post=post is not None)  # the release's own splits
        from argmine.readers.abstrct import read_abstrct

        return read_abstrct(path, split=split)
    raise InputError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")


def _reject(format: str, **given: bool) -> None:
    unused = [name for name, present in given.items() if present]
    if unused:
        raise InputError(f"format {format!r} takes no {', '.join(unused)} option")
