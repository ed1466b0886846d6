"""DEBAGREEMENT (Pougué-Biyong et al. 2021): Reddit replies labelled agree / neutral / disagree toward their parent.

    dev.csv, test.csv (train.csv when present) ──one row: parent comment ← child reply, label──►
        one Thread per parent comment: post = the parent (the agreement target),
        comments = every labelled reply to it, stance agree / neutral / disagree (the corpus's own labels;
        conf/data/debagreement.yaml maps them onto support / none / attack)

The submission the parent sits under is context, not a message: ``Thread.meta["submission_text"]``
(and ``submission_id``, ``subreddit``). Every row becomes one comment; none is dropped. A reply
whose body is ``[deleted]`` or ``[removed]`` is kept with ``meta["deleted"]`` and counted by
``argmine stats``; an empty body is an error (the release has none). An empty submission text is
allowed (a link post has none) and kept as ``None``: it is context, not a labelled message.

Split: the release's train file is not in ``../shared/data`` and its dev and test files share
801 submissions (253 parent comments), so the release's own split is not used. All rows of all
files read are split by submission (``assign_groups`` over ``submission_id``, seed 13 by default,
70 / 15 / 15 for train / dev / test): no submission, hence no parent comment, is on two sides.
The file a row came from stays in each comment's ``meta["file"]``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from argmine.errors import InvalidThreadError
from argmine.readers.csvpairs import Row, csv_files, deleted_flag, read_csv_rows
from argmine.readers.splits import assign_groups, check_split_options, on_side
from argmine.thread import Comment, Post, Stance, Thread

log = logging.getLogger(__name__)

CORPUS = "debagreement"
FILES = ("train.csv", "dev.csv", "test.csv")  # the release's names; only these are read from a folder
REQUIRED = (
    "label",
    "msg_id_parent",
    "msg_id_child",
    "submission_id",
    "body_parent",
    "body_child",
    "submission_text",
)
# Kept in the comment's meta when the file has them.
EXTRA = ("datetime", "agreement_fraction", "individual_kappa")


def read_debagreement(
    path: str | Path, *, split: str = "all", seed: int = 13, dev_fraction: float = 0.15, test_fraction: float = 0.15
) -> Iterator[Thread]:
    """Threads of the DEBAGREEMENT CSV file(s) at ``path`` (a folder with ``dev.csv`` / ``test.csv`` or one file).

    ``split`` is a side of the split by submission (``seed`` and the fractions, see the module docstring).
    Files are read and checked as ``argmine.readers.csvpairs`` says, all before the first thread.
    """
    check_split_options(split, dev_fraction, test_fraction)
    files = csv_files(path, lambda p: p.name in FILES, "DEBAGREEMENT file (" + ", ".join(FILES) + ")")
    threads = _threads(files)
    sides = assign_groups(
        (t.meta["submission_id"] for t in threads), seed=seed, dev_fraction=dev_fraction, test_fraction=test_fraction
    )
    out = on_side(threads, lambda t: sides[t.meta["submission_id"]], split)
    log.info("DEBAGREEMENT %s, split %r (seed %d): %d of %d threads", path, split, seed, len(out), len(threads))
    return iter(out)


class _Parent:
    """The rows of one parent comment, and the row that first named it (the reference for its fields)."""

    def __init__(self, row: Row) -> None:
        self.first = row
        self.rows: list[Row] = []


def _threads(files: list[Path]) -> list[Thread]:
    parents: dict[str, _Parent] = {}
    children: dict[str, Row] = {}
    submissions: dict[str, Row] = {}
    encodings: dict[str, str] = {}
    for file in files:
        decoded, rows = read_csv_rows(file, REQUIRED)
        encodings[file.name] = decoded.report
        for row in rows:
            _check_row(row, parents, children, submissions)
            parents.setdefault(row.values["msg_id_parent"], _Parent(row)).rows.append(row)
    threads = []
    for parent_id, parent in parents.items():
        try:
            threads.append(_thread(parent_id, parent, encodings))
        except InvalidThreadError as error:  # ids are checked per row; should one slip through, name a row
            raise error.located(parent.first.path, parent.first.line) from None
    deleted = Counter(m.meta.get("deleted", False) for t in threads for m in t.messages())
    if deleted[True]:
        log.info("DEBAGREEMENT: %d [deleted]/[removed] texts kept, flagged meta.deleted", deleted[True])
    return threads


def _check_row(row: Row, parents: dict[str, _Parent], children: dict[str, Row], submissions: dict[str, Row]) -> None:
    row.label("label")
    for field in ("msg_id_parent", "msg_id_child", "submission_id", "body_parent", "body_child"):
        row.text(field)
    parent_id, child_id = row.values["msg_id_parent"], row.values["msg_id_child"]
    if child_id == parent_id:
        raise row.fail("msg_id_child", f"{child_id!r} is also this row's msg_id_parent")
    if child_id in children:
        raise row.fail("msg_id_child", f"{child_id!r} is already at {_where(children[child_id])}")
    children[child_id] = row
    submission_id = row.values["submission_id"]
    earlier = parents.get(parent_id)
    if earlier is not None:
        for field in ("submission_id", "body_parent", "author_parent"):
            if row.values.get(field) != earlier.first.values.get(field):
                raise row.fail(field, f"differs for parent {parent_id!r} from {_where(earlier.first)}")
    known = submissions.setdefault(submission_id, row)
    if row.values["submission_text"] != known.values["submission_text"]:
        raise row.fail("submission_text", f"differs for submission {submission_id!r} from {_where(known)}")


def _where(row: Row) -> str:
    return f"{row.path.name}:{row.line}"


def _thread(parent_id: str, parent: _Parent, encodings: dict[str, str]) -> Thread:
    first = parent.first
    post_text = first.values["body_parent"]
    post = Post(id=parent_id, author=first.optional("author_parent"), text=post_text, meta=deleted_flag(post_text))
    comments = []
    for row in parent.rows:
        text = row.values["body_child"]
        meta: dict[str, Any] = {"file": row.path.name, "line": row.line, **deleted_flag(text)}
        meta.update({field: row.values[field] for field in EXTRA if row.optional(field) is not None})
        comments.append(
            Comment(
                id=row.values["msg_id_child"],
                author=row.optional("author_child"),
                reply_to=parent_id,
                text=text,
                stance=Stance(row.label("label")),
                meta=meta,
            )
        )
    files = sorted({row.path.name for row in parent.rows})
    meta = {
        "corpus": CORPUS,
        "submission_id": first.values["submission_id"],
        "submission_text": first.values["submission_text"] or None,
        "subreddit": first.optional("subreddit"),
        "files": files,
        "encodings": {name: encodings[name] for name in files},
    }
    return Thread(id=parent_id, post=post, comments=comments, meta=meta)

