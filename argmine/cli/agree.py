"""``argmine agree A.jsonl B.jsonl [--json]``: its arguments and its entry (the agreement is ``argmine.evaluation.agreement``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from argmine.evaluation.agreement import agreement, format_agreement, read_pair

HELP = "agreement between two label sets of the same threads (kappa, span F1)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``argmine agree A.jsonl B.jsonl [--json]``."""
    parser.add_argument("first", type=Path, help="the first annotator's threads (argmine JSONL)")
    parser.add_argument("second", type=Path, help="the second annotator's labels of the same threads")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    """Print the agreement of the two files; exit status 0."""
    threads_a, threads_b = read_pair(args.first, args.second)
    result = agreement(threads_a, threads_b)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(format_agreement(result, args.first.name, args.second.name))
    return 0
