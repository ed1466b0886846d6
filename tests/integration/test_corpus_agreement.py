"""The DEBAGREEMENT and Lei et al. (2022) readers on the real files in ``../shared/data`` (``$ARGMINE_DATA``)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from argmine.cli import main
from argmine.readers import read_threads
from argmine.thread import Thread

pytestmark = pytest.mark.integration

SPLITS = ("train", "dev", "test")


def comment_labels(threads: list[Thread]) -> Counter[str]:
    return Counter(c.stance.label for t in threads for c in t.comments)


def csv_labels(path: Path, column: str, encoding: str) -> Counter[str]:
    """The label column counted by the csv module alone: what every reader must account for."""
    rows = csv.DictReader(io.StringIO(path.read_bytes().decode(encoding), newline=""))
    return Counter({"0": "disagree", "1": "neutral", "2": "agree"}[row[column]] for row in rows)


@pytest.fixture(scope="module")
def debagreement(shared_data: Path) -> Path:
    return shared_data / "debagreement-partial"


def test_debagreement_every_row_once_and_splits_add_up(debagreement: Path) -> None:
    expected = csv_labels(debagreement / "dev.csv", "label", "utf-8") + csv_labels(
        debagreement / "test.csv", "label", "utf-8"
    )
    assert sum(expected.values()) == 8580
    every = list(read_threads("debagreement", debagreement, seed=13))
    assert comment_labels(every) == expected == {"disagree": 3395, "agree": 2952, "neutral": 2233}
    assert len(every) == 7982  # distinct parent comments; 520 of them have several labelled replies
    assert len({c.id for t in every for c in t.comments}) == 8580
    parts = {split: list(read_threads("debagreement", debagreement, split=split, seed=13)) for split in SPLITS}
    assert sum((comment_labels(part) for part in parts.values()), Counter()) == expected
    assert {split: sum(len(t.comments) for t in part) for split, part in parts.items()} == {
        "train": 5988,
        "dev": 1271,
        "test": 1321,
    }
    submissions = [{t.meta["submission_id"] for t in part} for part in parts.values()]
    assert sum(map(len, submissions)) == len(set().union(*submissions)) == 6415  # no submission on two sides
    assert all(t.meta["encodings"].get(f) == "utf-8 (valid UTF-8)" for t in every for f in t.meta["files"])


def test_debagreement_stats_prints_splits_and_encodings(debagreement: Path, capsys) -> None:
    assert main(["stats", "--format", "debagreement", str(debagreement)]) == 0
    out = capsys.readouterr().out
    assert "comment stances    8580  (agree 2952, disagree 3395, neutral 2233)" in out
    assert "split dev          threads 1188, comments 1271  (agree 432, disagree 499, neutral 340)" in out
    assert "encoding           test.csv: utf-8 (valid UTF-8)" in out
