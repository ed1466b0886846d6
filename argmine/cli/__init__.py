"""The ``argmine`` command: the top-level parser, which only wires the subcommands.

    argmine convert --format F SRC OUT      any supported input → our JSONL (or a brat folder)
    argmine stats   --format F SRC [--json] counts of threads, components, relations, stances
    argmine mine    INPUT [--post FILE_OR_TEXT] [--to html|md|json|jsonl]  the pipeline on a thread
    argmine report  RUN_DIR... [--results experiments/RESULTS.md]   tables over runs and seeds
    argmine agree   A.jsonl B.jsonl         kappa and span F1 between two annotations
    argmine list    experiments|data|models  what conf/ and models/ hold, one line each
    argmine train    experiment=NAME data.path=DIR [key=value ...]   (Hydra)
    argmine evaluate checkpoint=DIR data=NAME data.path=DIR data.split=dev   (Hydra)

Each command is a module of this package with ``add_arguments(parser)`` and ``run(args)``
side by side; ``train`` and ``evaluate`` take Hydra overrides instead of options
(``argmine.cli.hydra_app``, the only place Hydra is imported). Bad input (``ArgmineError``)
and file errors (``OSError``) end in one line on stderr that says what and where, and exit
status 2; anything else is a bug and keeps its traceback. Set ARGMINE_DEBUG=1 to see the
traceback of a one-line error too.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from argmine import __version__
from argmine.cli import agree, convert, listing, mine, report, stats
from argmine.errors import ArgmineError

log = logging.getLogger("argmine")

HYDRA_COMMANDS = ("train", "evaluate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="argmine",
        description="Claims, premises and their support or attack toward the original post, in comment threads.",
        epilog="Hydra commands (overrides after the name): argmine train experiment=NAME data.path=DIR ...; "
        "argmine evaluate checkpoint=DIR data=NAME data.path=DIR data.split=dev",
    )
    parser.add_argument("--version", action="version", version=f"argmine {__version__}")
    parser.add_argument("--verbose", "-v", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, add_arguments, run) -> None:  # noqa: A002 (argparse's name)
        sub = commands.add_parser(name, help=help)
        add_arguments(sub)
        sub.set_defaults(run=run)

    command("convert", convert.HELP, convert.add_arguments, convert.run)
    command("stats", stats.HELP, stats.add_arguments, stats.run)
    command("mine", mine.HELP, mine.add_arguments, mine.run)
    command("report", report.HELP, report.add_arguments, report.run)
    command("agree", agree.HELP, agree.add_arguments, agree.run)
    command("list", listing.HELP, listing.add_arguments, listing.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # argmine never downloads: every model is local. Without this, transformers/peft may try the hub
    # for a name and wait on a DNS failure before falling back to the local folder.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in HYDRA_COMMANDS:
        command = argv[0]

        def run() -> int:
            # Imported here, not at the top: Hydra takes a while to load and only these two commands use it.
            from argmine.cli import hydra_app

            return hydra_app.main(command, argv[1:])

    else:
        args = build_parser().parse_args(argv)
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
        )
        command = args.command

        def run() -> int:
            return args.run(args)

    try:
        return run()
    except (ArgmineError, OSError) as error:
        if os.environ.get("ARGMINE_DEBUG"):
            raise
        print(f"argmine {command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupted:  # a train/evaluate run says whether and how it can be resumed
        print(f"argmine {command}: {str(interrupted) or 'interrupted'}", file=sys.stderr)
        return 130

if __name__ == "__main__":
    sys.exit(main())
