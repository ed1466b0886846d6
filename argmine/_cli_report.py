"""``argmine report DIR... [--out DIR] [--results FILE]``: its arguments and its entry.

The command line of ``argmine.evaluation.runs`` / ``results``: the library reads and writes, this
module parses the options and prints the one line that says what was written.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from argmine.errors import ArgmineError
from argmine.evaluation.results import (
    merge_results,
    read_results_records,
    render_results,
    write_runs_report,
)
from argmine.evaluation.runs import IGNORED_KEYS, SEED_KEYS, find_checkpoints, find_runs, group_runs, load_json
from argmine.io_utils import atomic_write


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
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


def run_report(args: argparse.Namespace) -> int:
    """Summarize the run folders below ``args.dirs``; exit status 0."""
    seed_keys = tuple(args.seed_key or SEED_KEYS)
    ignore = tuple(args.ignore or IGNORED_KEYS)
    runs = find_runs(args.dirs, seed_keys=seed_keys, ignore=ignore)
    if not runs:
        raise ArgmineError(
            f"no run folder (metrics.json beside .hydra/config.yaml) below {', '.join(map(str, args.dirs))}"
        )
    groups = group_runs(runs)
    written = write_runs_report(groups, args.out or args.dirs[0])
    merged = ""
    if args.results is not None:
        metas = {c: load_json(c / "argmine.json") for c in find_checkpoints(args.dirs, runs)}
        results_runs, roots = list(runs), [os.path.abspath(d) for d in args.dirs]
        if args.results.is_file() and not getattr(args, "force", False):
            results_runs, metas, roots, kept, dropped = merge_results(
                read_results_records(args.results), runs, metas, args.dirs
            )
            merged = f" (merged: {kept} runs kept from it" + (
                f", {dropped} dropped that are no longer below {', '.join(map(str, args.dirs))})" if dropped else ")"
            )
        results_groups = group_runs(results_runs)
        text = render_results(results_groups, sorted(metas), roots=roots, results_path=args.results,
                              checkpoint_meta=metas)
        with atomic_write(args.results) as handle:
            handle.write(text)
        written.append(args.results)
    print(f"{len(runs)} runs in {len(groups)} settings; wrote " + ", ".join(map(str, written)) + merged)
    return 0

