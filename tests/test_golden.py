"""Golden snapshots of what argmine writes: the seeded tiny pipeline's mined JSON and an evaluation's metrics.json.

Both go through the public command line (``argmine mine``, ``argmine evaluate``), never through internal
modules, so that code can move behind them: any change in what the commands write must be deliberate.
The fixtures are tests/golden/mined_tiny.json and tests/golden/evaluate_metrics.json.

A deliberate output change rewrites them::

    ARGMINE_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

then ``git diff tests/golden/`` shows the change, and its commit says why. Without that variable a
missing fixture is a failure (it is never created silently).

How they are compared: structure (types, keys and their order, list lengths), labels, offsets, ids and
strings exactly; floats to an absolute 1e-6, because the models' sums run in float32 and the order in
which BLAS adds them (its kernels differ between CPUs and builds) moves the last digits of a score.

What is normalised before comparing, and why (``NORMALISED`` below is the list the code applies):

- ``meta.mined.argmine_version`` of each mined thread: the package version changes with every release,
  not with what the pipeline predicts.
- ``checkpoint`` in metrics.json: the checkpoint's absolute path, a temporary folder on each run.

Nothing else in either file depends on the machine: neither holds a time, a duration or another path
(the tests check that the temporary folders appear nowhere else). Two settings keep the numbers
machine-independent: ``--precision float32`` (the default ``auto`` picks bfloat16 on CPUs that have it),
and torch on one thread while the commands run (``argmine mine`` asks for every core, and the number of
threads changes the order of float sums).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from tiny_models import CLAIM_TEXTS, TEXTS, build_pipeline, claim_example

from argmine import __version__
from argmine.cli import main
from argmine.thread import Comment, Component, Post, Stance, Thread, make_component

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("ARGMINE_UPDATE_GOLDEN") == "1"
FLOAT_TOLERANCE = 1e-6  # absolute; see the module docstring (BLAS summation order)
# Every value replaced before comparing: (fixture, where: keys from the top, "*" for each item of a list,
# placeholder, why).
NORMALISED = [
    ("mined_tiny.json", ("*", "meta", "mined", "argmine_version"), "<argmine version>",
     "the package version changes with every release, not with what the pipeline predicts"),
    ("evaluate_metrics.json", ("checkpoint",), "<checkpoint folder>",
     "the checkpoint's absolute path: a temporary folder on each run"),
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded tiny pipeline checkpoint (a trained LoRA segmenter, an untrained seeded stance head)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # the segmenter trains in it: one thread, one summation order
    try:
        return build_pipeline(tmp_path_factory.mktemp("golden-pipeline"))
    finally:
        torch.set_num_threads(before)


@pytest.fixture()
def one_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Torch on one thread while a command runs: ``argmine mine`` would ask for every core (see the docstring)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
    yield
    monkeypatch.undo()
    torch.set_num_threads(before)


# -- the inputs --------------------------------------------------------------------------------------


def mined_input() -> list[Thread]:
    """A thread with replies, an empty comment and non-ASCII text; a thread whose post is empty (no stance)."""
    replies = Thread(
        id="golden",
        post=Post(id="op", author="ada", text=TEXTS[0]),
        comments=[
            Comment(id="c1", author="bo", reply_to="op", text=TEXTS[1]),
            Comment(id="c2", author="cy", reply_to="c1", text=TEXTS[2]),
            Comment(id="c3", author=None, reply_to="op", text=""),
            Comment(id="c4", author="dü", reply_to="c2",
                    text="Ça coûte trop cher — нет. 🙅 we should build more bike lanes because cycling is cheap"),
            Comment(id="c5", author="eve", reply_to="c1", text=f"{TEXTS[3]} yes i agree !"),
            Comment(id="c6", author="fé", reply_to="op", text="Les enfants lisent là-bas, donc la bibliothèque reste."),
        ],
        meta={"source": "invented for the golden test"},
    )
    no_post = Thread(
        id="no-post",
        post=Post(id="op", author=None, text=""),
        comments=[Comment(id="r1", author="gil", reply_to="op", text=TEXTS[2])],
    )
    return [replies, no_post]


CLAIMS = [text[: gold[0].end] for text, gold in CLAIM_TEXTS[:4]]
PREMISES = [gold[1].text for _, gold in CLAIM_TEXTS[:4]]
STANCES = ("support", "attack", "none")


def gold_components(text: str, gold: list[Component], prefix: str, variant: int) -> list[Component]:
    """Gold components that the tiny segmenter gets right in some ways and wrong in others.

    0: both exact; 1: the claim only (a premise predicted too many); 2: the labels swapped;
    3: the claim without its first word (overlaps, not exact), the premise exact.
    """
    claim, premise = gold
    if variant == 1:
        gold = [claim]
    elif variant == 2:
        gold = [replace(claim, label="Premise"), replace(premise, label="Claim")]
    elif variant == 3:
        start = text.index(" ", claim.start) + 1
        gold = [make_component(text, start, claim.end, "Claim", claim.id), premise]
    return [replace(c, id=f"{prefix}.{c.id}") for c in gold]


def evaluation_corpus() -> list[Thread]:
    """Gold threads: claims and premises recombined, gold spans of four kinds, stances on comments and claims."""
    threads = []
    for i in range(5):
        post_text, post_gold = claim_example(CLAIMS[i % 4], PREMISES[i % 4])
        comments = []
        for j in range(3):
            text, gold = claim_example(CLAIMS[(i + j + 1) % 4], PREMISES[(i + 2 * j) % 4],
                                       glue=" since " if (i + j) % 2 else " because ")
            components = [
                replace(c, stance=Stance(STANCES[(i + j + 1) % 3])) if c.label == "Claim" else c
                for c in gold_components(text, gold, f"c{j}", (i + j) % 4)
            ]
            comments.append(Comment(id=f"c{j}", author=None, reply_to="op" if j == 0 else f"c{j - 1}", text=text,
                                    components=components, stance=Stance(STANCES[(i + 2 * j) % 3])))
        if i == 4:  # an empty comment with a gold stance (predicted: none), and a non-ASCII one
            comments.append(Comment(id="c3", author=None, reply_to="op", text="", stance=Stance("none")))
            comments.append(Comment(id="c4", author=None, reply_to="c0", text="нет — Ça coûte trop cher",
                                    stance=Stance("attack")))
        post = Post(id="op", author=None, text=post_text, components=gold_components(post_text, post_gold, "op", i % 4))
        threads.append(Thread(id=f"t{i}", post=post, comments=comments))
    return threads


def write_jsonl(path: Path, threads: list[Thread]) -> Path:
    path.write_text("".join(json.dumps(t.to_dict(), ensure_ascii=False) + "\n" for t in threads), encoding="utf-8")
    return path


# -- the commands --------------------------------------------------------------------------------------


def mine(pipeline: Path, folder: Path) -> Any:
    source = write_jsonl(folder / "threads.jsonl", mined_input())
    output = folder / "mined.json"
    code = main(["mine", str(source), "--checkpoint", str(pipeline), "--precision", "float32",
                 "--to", "json", "--output", str(output)])
    assert code == 0
    written = output.read_text(encoding="utf-8")
    assert str(folder) not in written and str(pipeline.parent) not in written  # no path to normalise
    mined = json.loads(written)
    assert {thread["meta"]["mined"]["argmine_version"] for thread in mined} == {__version__}
    return normalised("mined_tiny.json", mined)


def evaluate(pipeline: Path, folder: Path) -> Any:
    corpus = write_jsonl(folder / "gold.jsonl", evaluation_corpus())
    run = folder / "evaluate"
    code = main(["evaluate", "data=jsonl", f"data.path={corpus}", f"checkpoint={pipeline}",
                 "bootstrap=200", "bootstrap_seed=0", f"hydra.run.dir={run}"])
    assert code == 0
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["checkpoint"] == str(pipeline)
    metrics = normalised("evaluate_metrics.json", metrics)
    rest = json.dumps(metrics)
    assert str(folder) not in rest and str(pipeline.parent) not in rest  # no other path to normalise
    return metrics


# -- normalising and comparing -----------------------------------------------------------------------------------------


def normalised(fixture: str, data: Any) -> Any:
    """``data`` with the values NORMALISED names for ``fixture`` replaced by their placeholders (in place)."""
    for name, where, placeholder, _ in NORMALISED:
        if name == fixture:
            _put(data, where, placeholder)
    return data


def _put(node: Any, where: tuple[str, ...], placeholder: str) -> None:
    key, rest = where[0], where[1:]
    for k in range(len(node)) if key == "*" else [key]:
        if rest:
            _put(node[k], rest, placeholder)
        else:
            assert k in node, f"NORMALISED names {where}, which the output does not hold"
            node[k] = placeholder


def differences(expected: Any, actual: Any, where: str = "$") -> list[str]:
    """Where ``actual`` differs from ``expected``: exact but for floats (absolute FLOAT_TOLERANCE)."""
    if type(expected) is not type(actual):
        return [f"{where}: expected {type(expected).__name__} {expected!r}, got {type(actual).__name__} {actual!r}"]
    if isinstance(expected, dict):
        if list(expected) != list(actual):
            missing = [k for k in expected if k not in actual]
            added = [k for k in actual if k not in expected]
            if missing or added:
                return [f"{where}: keys missing {missing}, keys added {added}"]
            return [f"{where}: keys in another order: expected {list(expected)}, got {list(actual)}"]
        return [d for key in expected for d in differences(expected[key], actual[key], f"{where}.{key}")]
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return [f"{where}: expected {len(expected)} items, got {len(actual)}"]
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in differences(e, a, f"{where}[{i}]")]
    if isinstance(expected, float):
        if math.isnan(expected) and math.isnan(actual):
            return []
        if not abs(expected - actual) <= FLOAT_TOLERANCE:
            return [f"{where}: expected {expected!r}, got {actual!r} (more than {FLOAT_TOLERANCE} apart)"]
        return []
    return [] if expected == actual else [f"{where}: expected {expected!r}, got {actual!r}"]


def check_golden(name: str, actual: Any) -> None:
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    if not path.is_file():
        command = f"ARGMINE_UPDATE_GOLDEN=1 python -m pytest tests/{Path(__file__).name}"
        pytest.fail(f"{path} is missing: create it deliberately with {command}")
    found = differences(json.loads(path.read_text(encoding="utf-8")), actual)
    if found:
        shown = "\n".join(found[:20]) + (f"\n... and {len(found) - 20} more" if len(found) > 20 else "")
        pytest.fail(
            f"the output differs from {path} in {len(found)} place(s):\n{shown}\n"
            "If the change is deliberate, rewrite the fixture with ARGMINE_UPDATE_GOLDEN=1 and say why in the commit."
        )


# -- the tests -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("one_thread")
def test_mined_json_of_the_tiny_pipeline(pipeline: Path, tmp_path: Path) -> None:
    """``argmine mine THREADS.jsonl --checkpoint TINY --precision float32 --to json`` is golden."""
    check_golden("mined_tiny.json", mine(pipeline, tmp_path))


@pytest.mark.usefixtures("one_thread")
def test_evaluation_metrics_json(pipeline: Path, tmp_path: Path) -> None:
    """``argmine evaluate data=jsonl data.path=GOLD checkpoint=TINY bootstrap=200`` writes a golden metrics.json."""
    check_golden("evaluate_metrics.json", evaluate(pipeline, tmp_path))


def test_the_comparison_is_exact_but_for_float_rounding() -> None:
    golden = {"label": "Claim", "start": 3, "score": 0.5, "items": [1.0, None]}
    assert differences(golden, {"label": "Claim", "start": 3, "score": 0.5 + 5e-7, "items": [1.0, None]}) == []
    assert differences(golden, {**golden, "score": 0.5 + 2e-6})  # beyond the float tolerance
    assert differences(golden, {**golden, "start": 4})  # offsets exactly
    assert differences(golden, {**golden, "start": 3.0})  # an int stays an int
    assert differences(golden, {**golden, "label": "claim"})  # labels exactly
    assert differences(golden, {**golden, "items": [1.0]})  # list lengths
    assert differences(golden, {"start": 3, "label": "Claim", "score": 0.5, "items": [1.0, None]})  # key order
    assert differences(golden, {**golden, "extra": 1})  # keys
