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


def test_the_example_component_ids_are_those_mine_gives():
    """``<message id>.c<k>`` (argmine.segmenter.model.predict_threads), not a corpus's ``T1``."""
    (example,) = _blocks("json")
    thread = Thread.from_dict(json.loads(example))
    for message in thread.messages():
        expected = [f"{message.id}.c{k}" for k in range(1, len(message.components) + 1)]
        assert [c.id for c in message.components] == expected


def test_the_readme_says_how_to_get_the_cpu_build_of_torch():
    # On Linux, PyPI's torch==2.13.0 is the CUDA build: a fresh machine needs PyTorch's CPU index.
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in README
    install = _blocks("bash")[0]
    assert "pip install torch==2.13.0 &&" in install  # command 1 as CI runs it here (a local CPU wheel)


def test_the_unit_suite_timing_is_a_measured_figure():
    assert "take seconds" not in README
    assert re.search(r'`pytest -m "not integration"`[^.]*\d+ s[^.]*measured on a 2-core machine', README, flags=re.S)
