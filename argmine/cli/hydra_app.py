"""``argmine train|evaluate key=value ...``: Hydra composes conf/ with the overrides."""

from __future__ import annotations

import os
import sys

from argmine.errors import ArgmineError


def run_hydra_command(command: str, overrides: list[str]) -> int:
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
