"""The behaviour cases (experiments/behaviour/stance-cases.yaml) stay out of the training corpora.

The cases are written by us and must never be trained on; this checks the other side too, that no
case text was lifted from a corpus. Every corpus a stance model may train on (issue 15, item 1) is
read with plain file reads under ``$ARGMINE_DATA`` (not the argmine readers, whose splits and
filters could hide a text), normalised (case, whitespace, curly quotes) and searched for each case
text long enough to be telling: every post, parent and comment of at least ``MIN_TEXT`` characters,
and every sentence of at least ``MIN_SENTENCE`` characters (so a copied paragraph of a long comment
is caught too). Short formulas ("I agree.", "Thanks for posting this.") are everywhere and prove
nothing, so they are not searched.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from experiment_scripts import load_script

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BEHAVIOUR = REPO / "experiments" / "behaviour"
MIN_TEXT = 40
MIN_SENTENCE = 60
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


def normalise(text: str) -> str:
    return " ".join(text.translate(_QUOTES).lower().split())


def _decode(raw: bytes) -> str:
    # Some Lei et al. CSVs are not UTF-8; cp1252 decodes any byte, which is all a substring search needs.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _csv_cells(path: Path) -> Iterator[str]:
    csv.field_size_limit(sys.maxsize)  # long Reddit submissions
    for row in csv.reader(_decode(path.read_bytes()).splitlines(keepends=True)):
        yield from row


def _json_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def _rumoureval(root: Path) -> Iterator[str]:
    for path in sorted(root.rglob("*.json")):
        yield from _json_strings(json.loads(_decode(path.read_bytes())))


def _text_files(root: Path, pattern: str) -> Iterator[str]:
    for path in sorted(root.glob(pattern)):
        yield _decode(path.read_bytes())


def _csv_files(root: Path) -> Iterator[str]:
    for path in sorted(root.glob("*.csv")):
        yield from _csv_cells(path)


# folder under $ARGMINE_DATA → the texts in it
CORPORA = {
    "cmv-modes-v2": lambda root: _text_files(root, "*/*.txt"),
    "rumoureval2019": _rumoureval,
    "debagreement-partial": _csv_files,
    "subreddit-agreement-lei2022": _csv_files,
    "arg-microtexts": lambda root: _text_files(root, "corpus/en/*.txt"),
    "aae2": lambda root: _text_files(root, "brat-project-final/*.txt"),
}


def _load_runner():
    return load_script(BEHAVIOUR / "run_behaviour.py")


@pytest.fixture(scope="module")
def needles() -> dict[str, str]:
    """Normalised text → the first case (and field) it comes from, for every text worth searching."""
    runner = _load_runner()
    out: dict[str, str] = {}
    for case in runner.load_cases(BEHAVIOUR / "stance-cases.yaml"):
        for field in ("post", "parent", "comment"):
            text = getattr(case, field)
            if text is None:
                continue
            pieces = [text] + [s for s in _SENTENCE.split(text) if len(s) >= MIN_SENTENCE]
            for piece in pieces:
                norm = normalise(piece)
                if len(norm) >= MIN_TEXT:
                    out.setdefault(norm, f"{case.id}.{field}")
    assert len(out) > 100  # enough to mean something
    return out


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_no_case_text_occurs_in_the_corpus(shared_data: Path, needles: dict[str, str], corpus: str) -> None:
    root = shared_data / corpus
    assert root.is_dir(), f"{root} is missing"
    texts = [normalise(t) for t in CORPORA[corpus](root)]
    assert sum(len(t) for t in texts) > 20_000, f"read almost nothing from {root}"  # microtexts: ~47k
    haystack = "\n".join(texts)  # normalised texts hold no newline, so no match spans two of them
    found = sorted(f"{where}: {needle[:60]!r}" for needle, where in needles.items() if needle in haystack)
    assert not found, f"case texts found in {corpus}: {found}"
