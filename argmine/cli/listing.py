"""``argmine list experiments|data|models``: what conf/ and models/ hold, one line each."""

from __future__ import annotations

import argparse

from argmine.resources import LISTS, conf_dir, listing, models_dir

HELP = "the experiments, data configs or shipped models, with a line on each"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=LISTS, help="what to list")


def run(args: argparse.Namespace) -> int:
    items = listing(args.what)
    width = max((len(name) for name, _ in items), default=0)
    for name, description in items:
        print(f"{name:<{width}}  {description}".rstrip())
    if args.what == "models":
        print(f"\nfolder {models_dir()}: argmine mine INPUT --checkpoint FOLDER/NAME" if items else "no models found")
    else:
        option = "experiment" if args.what == "experiments" else "data"
        print(f"\nfolder {conf_dir()}: argmine train {option}=NAME ...")
    return 0
