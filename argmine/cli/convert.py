"""``argmine convert --format F SRC OUT``: any supported input → argmine JSONL (or a brat folder)."""

from __future__ import annotations

import argparse
from pathlib import Path

from argmine.cli.inputs import add_input_arguments, read_input
from argmine.cli.stats import thread_stats

HELP = "read any supported input, write argmine JSONL or brat"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument("output", type=Path, help="output .jsonl file (or folder with --to brat)")
    parser.add_argument("--to", default="jsonl", choices=("jsonl", "brat"), help="output format")
    parser.add_argument("--force", action="store_true",
                        help="--to brat: replace a folder that holds files, whole (its old files are deleted)")


def run(args: argparse.Namespace) -> int:
    threads = list(read_input(args))
    if args.to == "brat":
        from argmine.readers.brat_writer import write_brat

        written = write_brat(threads, args.output, replace=args.force)
        where = f"{len(written)} files in {args.output}"
    else:
        from argmine.readers.jsonl import write_jsonl

        write_jsonl(threads, args.output)
        where = str(args.output)
    stats = thread_stats(threads)
    repaired = f", {stats['offsets_repaired']} offsets repaired" if stats["offsets_repaired"] else ""
    print(
        f"wrote {stats['threads']} threads ({stats['messages']} messages, "
        f"{sum(stats['components'].values())} components, {sum(stats['relations'].values())} relations{repaired}) "
        f"to {where}"
    )
    return 0
