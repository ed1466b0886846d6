"""``argmine mine``: read threads, run the whole pipeline on them, and write or show the result.

    argmine mine INPUT [--format text|jsonl|cmv|rumoureval|brat] [--post FILE_OR_TEXT]
                       [--checkpoint DIR] [--output FILE] [--to json|jsonl|html|md|text|brat]
                       [--min-stance-score X]

What it does with what it is given:

* ``--format`` defaults to ``text`` for a ``.txt`` file (a copied comment
  page) and ``jsonl`` for a ``.jsonl`` file; anything else needs ``--format``.
* ``--checkpoint`` defaults to the shipped ``argmine-threads-minilm`` (in the
  installed wheel, or ``models/`` of a checkout: ``argmine.resources``); a
  missing or broken checkpoint is a one-line error.
* ``--to`` defaults to what the ``--output`` suffix says (.json, .jsonl,
  .html, .md, .txt). Without ``--output`` the result goes to stdout: a
  readable summary on a terminal (``text``), JSONL when piped.
* ``--to brat --output FOLDER`` writes one ``.txt``/``.ann`` pair per thread
  (plus argmine's sidecar and ``annotation.conf`` listing every label), so a
  person can correct the predictions in brat; ``--format brat`` or
  ``argmine evaluate data=...`` read the corrected folder back.
* Output files are written atomically, JSONL / JSON / Markdown / text thread
  by thread as they are mined (HTML at the end, one page): a failure part-way
  leaves no partial file (and an existing file untouched).
* An input with no thread at all (an empty JSONL file) is an error. A thread
  without comments is still mined: its post gets its components, and it is
  shown as having no comments. An empty comment is kept, with no components
  and no stance. Every input comment is in the output, in input order.
* Stance is toward the original post: a copied page read without ``--post``
  has no post text, so its comments get no stance (the output says so).
* ``--precision`` picks the number format the models run in: ``float32``
  (what the dev metrics were measured in), ``bfloat16`` (fast where the CPU
  has bf16 instructions, near-identical predictions), or ``auto``, the
  default (bfloat16 where native, else float32). int8 was dropped: it moved
  spans (AAE dev exact-span F1 0.594 → 0.559). Measured in
  experiments/benchmarks/README.md.
* ``--min-stance-score X`` (default off) abstains where the model is unsure:
  a stance scored below X shows as ``unsure (support 0.42)`` in the text,
  Markdown and HTML views; JSON keeps label and score and adds
  ``"below_min_score": X`` to that stance (``mark_unsure``). Every stance is
  shown with its score either way. Each message's ``meta`` also says its
  detected language, and ``not_english`` where the stance is a guess
  (``argmine.language``); the views show that flag too.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import chain
from pathlib import Path
from typing import IO, Any

import argmine.resources
from argmine.checkpoint import CheckpointMeta, read_meta
from argmine.cli.inputs import post_argument
from argmine.errors import ArgmineError, InputError
from argmine.precision import DEFAULT_PRECISION, PRECISIONS
from argmine.thread import Stance, Thread

log = logging.getLogger(__name__)

INPUT_FORMATS = ("text", "jsonl", "cmv", "rumoureval", "brat")
OUTPUT_FORMATS = ("json", "jsonl", "html", "md", "text", "brat")
INPUT_SUFFIXES = {".txt": "text", ".text": "text", ".jsonl": "jsonl"}
OUTPUT_SUFFIXES = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".txt": "text",
}
DEFAULT_CHECKPOINT = argmine.resources.default_model()  # in the installed wheel, or models/ of a checkout


HELP = "claims, premises and stance toward the post in a new thread"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``argmine mine``."""
    parser.description = "Find claims and premises in a thread and the stance of each comment toward the post."
    parser.add_argument("input", type=Path, metavar="INPUT", help="a .txt comment page, a .jsonl file or a corpus folder")
    parser.add_argument(
        "--format", "-f", choices=INPUT_FORMATS, default=None,
        help="how to read INPUT (default: text for .txt, jsonl for .jsonl)",
    )
    parser.add_argument("--post", default=None, help="text pages: the original post, as a file or as the text itself")
    parser.add_argument(
        "--replies", choices=("infer", "flat"), default=None,
        help="text pages: reply links inferred from the page (infer, the default: a reply answers the comment "
        "above it on a quote, a mention or an A, B, A exchange) or every comment answering the post (flat)",
    )
    parser.add_argument(
        "--checkpoint", type=Path, default=None,
        help=f"pipeline checkpoint folder (default: {_shown(DEFAULT_CHECKPOINT)})",
    )
    parser.add_argument("--output", "-o", type=Path, default=None, help="write here instead of stdout")
    parser.add_argument(
        "--to", choices=OUTPUT_FORMATS, default=None,
        help="output format (default: from the --output suffix; on a terminal a text summary, else jsonl)",
    )
    parser.add_argument("--force", action="store_true",
                        help="--to brat: replace an --output folder that holds files, whole (its old files are deleted)")
    parser.add_argument("--batch-size", type=int, default=16, help="texts per model batch (default: 16)")
    parser.add_argument(
        "--precision", choices=("auto", *PRECISIONS), default=DEFAULT_PRECISION,
        help=f"number format of the models (default: {DEFAULT_PRECISION}): auto = bfloat16 where the CPU has "
        "bf16 instructions, else float32 (int8 was dropped: it moved spans, see experiments/benchmarks)",
    )
    parser.add_argument(
        "--min-stance-score", type=float, default=None, metavar="X",
        help="show a stance whose score is below X (0 to 1) as unsure in the text, Markdown and HTML views; "
        "JSON keeps its label and score and adds \"below_min_score\": X to it (default: off, every stance shown)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``argmine mine``; bad input raises ``ArgmineError`` or ``OSError`` (one-line errors)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from argmine.readers import read_threads

    source = Path(args.input)
    if not source.exists():
        raise ArgmineError(f"{source}: no such file or folder")
    input_format = args.format or input_format_of(source)
    output: Path | None = args.output
    to = output_format(args.to, output, terminal=sys.stdout.isatty())
    if to == "brat" and output is None:
        raise ArgmineError("--to brat writes a folder: give --output FOLDER")
    if to == "brat" and output.exists() and not output.is_dir():
        raise ArgmineError(f"--output {output} is a file; --to brat writes a folder")
    if output is not None and output.exists() and output.resolve() == source.resolve():
        raise ArgmineError(f"--output {output} is the input file; write the result elsewhere")
    if args.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, got {args.batch_size}")
    min_score = getattr(args, "min_stance_score", None)
    if min_score is not None and not 0.0 <= min_score <= 1.0:  # also refuses nan
        raise ArgmineError(f"--min-stance-score must lie between 0 and 1 (a stance score), got {min_score}")
    checkpoint, meta = check_checkpoint(args.checkpoint)

    threads = read_threads(input_format, source, post=post_argument(args.post), replies=args.replies)
    first = next(threads, None)  # read errors and an empty input surface before the model loads
    if first is None:
        raise ArgmineError(f"{source}: no threads to mine (the input is empty)")

    from argmine import language
    from argmine.pipeline import ArgumentMiner
    from argmine.runtime import use_cpu_threads

    language.preload()  # the language model loads while the pipeline does
    miner = ArgumentMiner.from_meta(checkpoint, meta, precision=args.precision)
    use_cpu_threads()
    counter = _Counter()
    mined = miner.mine_many(
        counter.inputs(chain([first], threads)), batch_size=args.batch_size, progress=sys.stderr.isatty()
    )
    if min_score is not None:
        mined = (mark_unsure(thread, min_score) for thread in mined)
    mined = counter.outputs(mined)
    if to == "brat":  # a folder to correct in brat, then read back with --format brat
        from argmine.readers.brat_writer import write_brat

        written = write_brat(mined, output, entity_types=miner.component_labels, stance_labels=miner.stance_labels,
                             replace=args.force)
        counter.check()
        print(f"{counter.summary()} → {len(written)} brat files in {output}")
    elif output is None:
        write_threads(mined, to, sys.stdout)
        sys.stdout.flush()
        counter.check()
    else:
        from argmine.io_utils import atomic_write

        with atomic_write(output) as handle:
            write_threads(mined, to, handle)
            counter.check()  # before the file is moved into place
        print(f"{counter.summary()} → {output} ({to})")
    return 0


# -- pieces ---------------------------------------------------------------------------------------


def input_format_of(source: Path) -> str:
    """The input format a path implies: ``text`` for .txt, ``jsonl`` for .jsonl; otherwise an InputError."""
    if source.is_dir():
        raise InputError(f"{source} is a folder: give --format (cmv, rumoureval or brat)")
    return _format_of_suffix(source, INPUT_SUFFIXES, f"{source}", f"--format ({', '.join(INPUT_FORMATS)})")


def output_format(to: str | None, output: Path | None, *, terminal: bool) -> str:
    """``--to`` if given, else the output suffix's format, else ``text`` on a terminal and ``jsonl`` otherwise."""
    if to is not None:
        return to
    if output is None:
        return "text" if terminal else "jsonl"
    return _format_of_suffix(output, OUTPUT_SUFFIXES, f"--output {output}", f"--to ({', '.join(OUTPUT_FORMATS)})")


def _format_of_suffix(path: Path, formats: dict[str, str], what: str, option: str) -> str:
    fmt = formats.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{what}: cannot tell the format from the suffix {path.suffix or '(none)'!r}; give {option}")
    return fmt


def check_checkpoint(checkpoint: Path | None) -> tuple[Path, CheckpointMeta]:
    """The pipeline folder to load (``DEFAULT_CHECKPOINT`` when None) and its argmine.json, read and checked once.

    Read before the input, so that a bad checkpoint fails before a long input is parsed; the pipeline is then
    built from this ``meta`` (``ArgumentMiner.from_meta``) without reading the file again.
    """

    if checkpoint is None:
        if not DEFAULT_CHECKPOINT.is_dir():
            raise ArgmineError(
                f"no pipeline checkpoint at {_shown(DEFAULT_CHECKPOINT)}: train it with "
                "`argmine train experiment=threads_default ...` (see the README), or pass --checkpoint DIR"
            )
        checkpoint = DEFAULT_CHECKPOINT
    return checkpoint, read_meta(checkpoint, kind="pipeline")  # missing, another kind or version: CheckpointError


def write_threads(threads: Iterable[Thread], to: str, handle: IO[str]) -> int:
    """Write ``threads`` to ``handle`` as ``to``, streaming all formats but html; returns how many."""
    from argmine.rendering import to_html, to_markdown, to_text_summary

    count = 0
    if to == "html":
        collected = list(threads)
        handle.write(to_html(collected))
        return len(collected)
    if to == "json":
        handle.write("[")
    for thread in threads:
        if to == "jsonl":
            handle.write(json.dumps(thread.to_dict(), ensure_ascii=False) + "\n")
        elif to == "json":
            handle.write(("," if count else "") + "\n" + json.dumps(thread.to_dict(), ensure_ascii=False, indent=2))
        elif to == "md":
            handle.write(("\n---\n\n" if count else "") + to_markdown(thread))
        elif to == "text":
            handle.write(("\n" if count else "") + to_text_summary(thread))
        else:
            raise InputError(f"unknown output format {to!r}; expected one of {', '.join(OUTPUT_FORMATS)}")
        count += 1
    if to == "json":
        handle.write("\n]\n")
    return count


def mark_unsure(thread: Thread, min_score: float) -> Thread:
    """``thread`` with each stance scored below ``min_score`` marked unsure (``"below_min_score": min_score``).

    The label and score stay as predicted, so JSON loses nothing; the views show such a stance as
    ``unsure (label score)``. A stance without a score cannot be judged and is left as it is.
    ``meta["mined"]["min_stance_score"]`` records the threshold.
    """
    from argmine.rendering import UNSURE_KEY

    def judged(stance: Stance | None) -> Stance | None:
        if stance is None or stance.score is None:
            return stance
        extra = {k: v for k, v in stance.extra.items() if k != UNSURE_KEY}
        if stance.score < min_score:
            extra[UNSURE_KEY] = min_score
        return replace(stance, extra=extra)

    def message(m: Any) -> Any:
        return replace(m, stance=judged(m.stance), components=tuple(replace(c, stance=judged(c.stance))
                                                                    for c in m.components))

    meta = dict(thread.meta)
    if isinstance(meta.get("mined"), dict):
        meta["mined"] = {**meta["mined"], "min_stance_score": min_score}
    return replace(thread, post=message(thread.post), comments=tuple(message(c) for c in thread.comments), meta=meta)


class _Counter:
    """Counts comments going into and out of the pipeline: a mismatch is a bug, never a silent loss."""

    def __init__(self) -> None:
        self.threads = self.comments_in = self.comments_out = self.components = self.stances = 0

    def inputs(self, threads: Iterable[Thread]) -> Iterator[Thread]:
        for thread in threads:
            self.comments_in += len(thread.comments)
            yield thread

    def outputs(self, threads: Iterable[Thread]) -> Iterator[Thread]:
        for thread in threads:
            self.threads += 1
            self.comments_out += len(thread.comments)
            self.components += sum(1 for _ in thread.components())
            self.stances += sum(1 for c in thread.comments if c.stance is not None)
            self.stances += sum(1 for _, c in thread.components() if c.stance is not None)
            if not thread.comments:
                log.info("thread %s has no comments: only its post was mined", thread.id)
            yield thread

    def check(self) -> None:
        if self.comments_in != self.comments_out:
            raise RuntimeError(f"{self.comments_in} comments read but {self.comments_out} written")

    def summary(self) -> str:
        plural = "s" if self.threads != 1 else ""
        return (
            f"mined {self.threads} thread{plural} ({self.comments_out} comments, "
            f"{self.components} components, {self.stances} stances)"
        )


def _shown(path: Path) -> str:
    """A path relative to the working directory when it is under it (shorter in messages)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
