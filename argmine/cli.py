"""The ``argmine`` command.

    argmine convert --format F SRC OUT      any supported input → our JSONL (or a brat folder)
    argmine stats   --format F SRC [--json] counts of threads, components, relations, stances
    argmine mine    INPUT [--post FILE_OR_TEXT] [--to html|md|json|jsonl]  the pipeline on a thread
    argmine report  RUN_DIR... [--results experiments/RESULTS.md]   tables over runs and seeds
    argmine agree   A.jsonl B.jsonl         kappa and span F1 between two annotations
    argmine list    experiments|data|models  what conf/ and models/ hold, one line each
    argmine train    experiment=NAME data.path=DIR [key=value ...]   (Hydra)
    argmine evaluate checkpoint=DIR data=NAME data.path=DIR data.split=dev   (Hydra)

Bad input ends in one line on stderr that says what and where, and exit
status 2; set ARGMINE_DEBUG=1 to see the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from argmine import __version__
from argmine.errors import ArgmineError
from argmine.readers import FORMATS, REPLIES, read_threads

log = logging.getLogger("argmine")


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
        from argmine.io_utils import read_text

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


def _add_input_arguments(parser: argparse.ArgumentParser) -> None:
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


def _read(args: argparse.Namespace):
    return read_threads(
        args.format,
        args.source,
        split=args.split,
        seed=args.seed,
        unit=args.unit,
        post=post_argument(args.post),
        replies=args.replies,
    )


def cmd_convert(args: argparse.Namespace) -> int:
    from argmine.stats import thread_stats

    threads = list(_read(args))
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


def cmd_stats(args: argparse.Namespace) -> int:
    from argmine.stats import format_stats, thread_stats

    stats = thread_stats(_read(args))
    print(json.dumps(stats, indent=2, ensure_ascii=False) if args.json else format_stats(stats))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from argmine.resources import conf_dir, listing, models_dir

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

    convert = commands.add_parser("convert", help="read any supported input, write argmine JSONL or brat")
    _add_input_arguments(convert)
    convert.add_argument("output", type=Path, help="output .jsonl file (or folder with --to brat)")
    convert.add_argument("--to", default="jsonl", choices=("jsonl", "brat"), help="output format")
    convert.add_argument("--force", action="store_true",
                         help="--to brat: replace a folder that holds files, whole (its old files are deleted)")
    convert.set_defaults(run=cmd_convert)

    stats = commands.add_parser("stats", help="count threads, components, relations and stances")
    _add_input_arguments(stats)
    stats.add_argument("--json", action="store_true", help="print JSON instead of a table")
    stats.set_defaults(run=cmd_stats)

    from argmine._cli_agree import add_agree_arguments, run_agree
    from argmine._cli_report import add_report_arguments, run_report
    from argmine.mine import add_mine_arguments

    mine = commands.add_parser("mine", help="claims, premises and stance toward the post in a new thread")
    add_mine_arguments(mine)

    report = commands.add_parser("report", help="aggregate run folders (seed sweeps) into tables, plots, RESULTS.md")
    add_report_arguments(report)
    report.set_defaults(run=run_report)

    agree = commands.add_parser("agree", help="agreement between two label sets of the same threads (kappa, span F1)")
    add_agree_arguments(agree)
    agree.set_defaults(run=run_agree)

    listed = commands.add_parser("list", help="the experiments, data configs or shipped models, with a line on each")
    listed.add_argument("what", choices=("experiments", "data", "models"), help="what to list")
    listed.set_defaults(run=cmd_list)
    return parser


HYDRA_COMMANDS = ("train", "evaluate")


def main(argv: Sequence[str] | None = None) -> int:
    # argmine never downloads: every model is local. Without this, transformers/peft may try the hub
    # for a name and wait on a DNS failure before falling back to the local folder.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in HYDRA_COMMANDS:
        return _run_hydra(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except (ArgmineError, ValueError, OSError) as error:
        if os.environ.get("ARGMINE_DEBUG"):
            raise
        print(f"argmine {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"argmine {args.command}: interrupted", file=sys.stderr)
        return 130


def _run_hydra(command: str, overrides: list[str]) -> int:
    """``argmine train|evaluate key=value ...``: Hydra composes conf/ with the overrides."""
    if overrides and overrides[0] in ("-h", "--help"):
        print(f"usage: argmine {command} [experiment=NAME] [key=value ...] [-m for a sweep]\n"
              f"Hydra overrides of conf/{command}.yaml; `argmine {command} --cfg job` prints the composed config.")
        return 0
    from argmine.experiment import main as experiment_main

    try:
        return experiment_main(command, overrides)
    except (ArgmineError, ValueError, OSError) as error:
        if os.environ.get("ARGMINE_DEBUG"):
            raise
        print(f"argmine {command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupted:  # the run says whether and how it can be resumed
        print(f"argmine {command}: {str(interrupted) or 'interrupted'}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
