"""``argmine report DIR... [--out DIR] [--results FILE]``: its arguments and its entry.

The command line of ``argmine.evaluation.results.report_runs``: the library reads, writes and logs;
this module parses the options and prints the one line that says what was written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from argmine.evaluation.results import report_runs
from argmine.evaluation.runs import IGNORED_KEYS, SEED_KEYS

HELP = "aggregate run folders (seed sweeps) into tables, plots, RESULTS.md"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``argmine report DIR... [--out DIR] [--results FILE]``."""
    parser.add_argument("dirs", nargs="+", type=Path, help="run or multirun folders; every run folder below is read")
    parser.add_argument("--out", type=Path, default=None, help="where runs_summary.* go (default: the first DIR)")
    parser.add_argument("--results", type=Path, default=None, help="also write this results file, e.g. "
                        "experiments/RESULTS.md; an existing one is merged into by run (its other runs' rows are kept)")
    parser.add_argument("--force", action="store_true", help="--results: replace the file with the runs given only "
                        "(needed for a file without run records, e.g. written by hand)")
    parser.add_argument("--seed-key", action="append", default=None, metavar="KEY",
                        help=f"config key that holds the seed (default {', '.join(SEED_KEYS)}); repeatable")
    parser.add_argument("--ignore", action="append", default=None, metavar="KEY",
                        help=f"config key that does not tell settings apart (default {', '.join(IGNORED_KEYS)}); "
                        "repeatable")


def run(args: argparse.Namespace) -> int:
    """Summarize the run folders below ``args.dirs``; print what was written; exit status 0."""
    done = report_runs(args.dirs, out=args.out, results=args.results, force=getattr(args, "force", False),
                       seed_keys=tuple(args.seed_key or SEED_KEYS), ignore=tuple(args.ignore or IGNORED_KEYS))
    merged = ""
    if done.merged is not None:
        kept, dropped = done.merged
        merged = f" (merged: {kept} runs kept from it" + (
            f", {dropped} dropped that are no longer below {', '.join(map(str, args.dirs))})" if dropped else ")"
        )
    print(f"{len(done.runs)} runs in {len(done.groups)} settings; wrote " + ", ".join(map(str, done.written)) + merged)
    return 0
