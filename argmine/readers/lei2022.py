"""SubReddit agreement (Lei & Huang 2022): Reddit (quote, response) pairs labelled agree / neutral / disagree.

    SubReddit-CovidVaccine.csv, SubReddit-MaskMandate.csv ──one row: quote ← response, relation──►
        one Thread per quote of a file: post = the quote (the agreement target),
        comments = every labelled response to it, stance agree / neutral / disagree (the corpus's own labels;
        conf/data/lei2022.yaml maps them onto support / none / attack)

``relation`` codes 0 disagree, 1 neutral, 2 agree (the release's README; its per-topic counts match
that reading). The release has no ids, authors or discussion structure: a thread's id is the topic
plus a hash of its quote, a comment's the topic plus its CSV line.

Encoding: the released files are Windows-1252, not UTF-8 (0x92 for ’). Each file is decoded by
``argmine.readers.csvpairs.decode_csv`` (UTF-8 when valid, else strict Windows-1252, else an error)
and the choice is kept in ``Thread.meta["encodings"]`` and printed by ``argmine stats``.

Split: by the quote. A quote's side comes from a SHA-256 hash of the seed and the quote text (blanks
collapsed, case folded), cut at 70 / 15 / 15 % for train / dev / test. So one quote, in whichever
file and however often it recurs, is on one side only, and a quote's side does not depend on the
other rows of the files.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from argmine.errors import InvalidThreadError
from argmine.readers.csvpairs import Row, csv_files, deleted_flag, read_csv_rows
from argmine.readers.splits import check_split_options, on_side
from argmine.thread import Comment, Post, Stance, Thread

log = logging.getLogger(__name__)

CORPUS = "lei2022"
PREFIX = "SubReddit-"  # the release's file names: SubReddit-<topic>.csv
REQUIRED = ("quote_text", "response_text", "relation")


def read_lei2022(
    path: str | Path, *, split: str = "all", seed: int = 13, dev_fraction: float = 0.15, test_fraction: float = 0.15
) -> Iterator[Thread]:
    """Threads of the Lei et al. CSV file(s) at ``path`` (the release folder, or one ``.csv`` file).

    ``split`` is a side of the split by quote (``quote_side``: a hash of ``seed`` and the quote, cut by the
    fractions). Files are read and checked as ``argmine.readers.csvpairs`` says, all before the first thread.
    """
    check_split_options(split, dev_fraction, test_fraction)
    files = csv_files(
        path, lambda p: p.name.startswith(PREFIX) and p.suffix.lower() == ".csv", f"{PREFIX}*.csv file"
    )
    threads = []
    for file in files:
        threads += _threads(file)
    out = on_side(
        threads,
        lambda t: quote_side(t.post.text, seed=seed, dev_fraction=dev_fraction, test_fraction=test_fraction),
        split,
    )
    log.info("Lei et al. 2022 %s, split %r (seed %d): %d of %d threads", path, split, seed, len(out), len(threads))
    return iter(out)


def quote_key(quote: str) -> str:
    """What counts as the same quote for the split: blanks collapsed, case folded."""
    return " ".join(quote.split()).casefold()


def quote_side(quote: str, *, seed: int, dev_fraction: float = 0.15, test_fraction: float = 0.15) -> str:
    """``train``, ``dev`` or ``test`` for a quote: a point in [0, 1) from a hash of seed and quote, cut by fractions."""
    digest = hashlib.sha256(f"{CORPUS}\0{seed}\0{quote_key(quote)}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if point < test_fraction else "dev" if point < test_fraction + dev_fraction else "train"


def _topic(file: Path) -> str:
    return file.stem[len(PREFIX) :] if file.stem.startswith(PREFIX) and len(file.stem) > len(PREFIX) else file.stem


def _threads(file: Path) -> list[Thread]:
    decoded, rows = read_csv_rows(file, REQUIRED)
    topic = _topic(file)
    by_quote: dict[str, list[Row]] = {}
    for row in rows:
        row.label("relation")
        for field in ("quote_text", "response_text"):
            row.text(field)
        by_quote.setdefault(row.values["quote_text"], []).append(row)
    threads = []
    for quote, quoted in by_quote.items():
        thread_id = f"{topic}-{hashlib.sha1(quote.encode()).hexdigest()[:12]}"
        comments = [
            Comment(
                id=f"{topic}-L{row.line}",
                author=None,
                reply_to=thread_id,
                text=row.values["response_text"],
                stance=Stance(row.label("relation")),
                meta={"file": file.name, "line": row.line, **deleted_flag(row.values["response_text"])},
            )
            for row in quoted
        ]
        meta: dict[str, Any] = {
            "corpus": CORPUS,
            "topic": topic,
            "files": [file.name],
            "encodings": {file.name: decoded.report},
        }
        post = Post(id=thread_id, author=None, text=quote, meta={"line": quoted[0].line, **deleted_flag(quote)})
        try:
            threads.append(Thread(id=thread_id, post=post, comments=comments, meta=meta))
        except InvalidThreadError as error:  # ids come from lines and hashes; should one clash, name a row
            raise error.located(file, quoted[0].line) from None
    return threads

