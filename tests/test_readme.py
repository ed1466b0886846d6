"""The README is the front door: its example must be valid and its commands must be what CI runs."""

from __future__ import annotations

import json
import re

from argmine.thread import Thread
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

README = (REPO / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_the_json_example_is_a_valid_thread():
    (example,) = _blocks("json")
    thread = Thread.from_dict(json.loads(example))
    assert thread.comments[0].components[0].text == "I disagree."


def test_ci_runs_the_readme_commands():
    install, tests = (block.strip() for block in _blocks("bash")[:2])
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    ci_commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith(("#", "echo", "set ", "cd ", "export "))]
    assert " && ".join(ci_commands[: len(install.split(" && "))]) == install
    assert tests.split(" && ")[-1] == ci_commands[-1]
