"""The input options the reading commands share: SOURCE, ``--format``, ``--post`` and the rest.

``argmine convert`` and ``argmine stats`` read their input with the same options
(``add_input_arguments``, ``read_input``); ``argmine mine`` has its own ``--format`` default
but reads ``--post`` the same way (``post_argument``).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator
from pathlib import Path

from argmine.errors import ArgmineError
from argmine.io_utils import read_text
from argmine.readers import FORMATS, REPLIES, read_threads
from argmine.thread import Thread


def post_argument(value: str | None) -> str | None:
    """``--post``: the path of an existing file is read, anything else is the post's text.

    A folder, or a value that looks like a file name (one line with a path separator, or one
    word ending in a file suffix such as ``.txt``) but names no file, is an error, so that a
    typo never becomes the post.
    """
    if value is None:
        return None
    path = Path(value).expanduser()
    if path.is_file():
        return read_text(path).strip()
    if path.is_dir():
        raise ArgmineError(f"--post {value}: is a folder; give a file or the post's text")
    if _looks_like_a_file_name(value):
        raise ArgmineError(f"--post {value}: no such file (give an existing file or the post's text)")
    return value


_FILE_SUFFIX = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,7}$")  # .txt, .md, .json, .html, .text ...
_TEXT_SUFFIXES = (".txt", ".md", ".json", ".jsonl", ".text", ".html")


def _looks_like_a_file_name(value: str) -> bool:
    """One line that is a path: no spaces and a path separator or a file suffix (``post.txt``, ``in/post``);
    with spaces, a path separator and a text suffix (``My Posts/post.txt``). URLs and prose are text.
    """
    text = value.strip()
    if not text or "\n" in text or "://" in text:
        return False
    separator = "/" in text or os.sep in text or text.startswith("~")
    if " " not in text:
        return separator or bool(_FILE_SUFFIX.search(text))
    return separator and text.lower().endswith(_TEXT_SUFFIXES)


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """SOURCE and the options that say how to read it (``argmine convert`` and ``argmine stats``)."""
    parser.add_argument("source", help="input file or corpus folder")
    parser.add_argument("--format", "-f", required=True, choices=FORMATS, help="how to read SOURCE")
    parser.add_argument("--split", default="all", help="train, dev, test or all (corpora with splits)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the train/dev split (corpora with splits)")
    parser.add_argument("--unit", default="paragraph", choices=("paragraph", "essay"), help="AAE unit")
    parser.add_argument("--post", default=None, help="text format: the original post, as a file or a string")
    parser.add_argument(
        "--replies", choices=REPLIES, default=None,
        help="text pages: reply links inferred from the page (infer, the default: a reply answers the comment "
        "above it on a quote, a mention or an A, B, A exchange) or every comment answering the post (flat)",
    )


def read_input(args: argparse.Namespace) -> Iterator[Thread]:
    """The threads ``add_input_arguments``' options name."""
    return read_threads(
        args.format,
        args.source,
        split=args.split,
        seed=args.seed,
        unit=args.unit,
        post=post_argument(args.post),
        replies=args.replies,
    )
