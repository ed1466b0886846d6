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


@pytest.fixture(scope="module")
def lei2022(shared_data: Path) -> Path:
    return shared_data / "subreddit-agreement-lei2022"


# The release README's table: agree / disagree / neutral per topic.
LEI_README = {"CovidVaccine": (272, 425, 703), "MaskMandate": (645, 546, 343)}


def test_lei_every_row_once_counts_match_the_readme_and_splits_add_up(lei2022: Path) -> None:
    every = list(read_threads("lei2022", lei2022, seed=13))
    for topic, (agree, disagree, neutral) in LEI_README.items():
        file = lei2022 / f"SubReddit-{topic}.csv"
        expected = {"agree": agree, "disagree": disagree, "neutral": neutral}
        assert csv_labels(file, "relation", "cp1252") == expected  # the 0/1/2 reading the README gives
        assert comment_labels([t for t in every if t.meta["topic"] == topic]) == expected
    assert sum(len(t.comments) for t in every) == 2934 and len(every) == 2831
    parts = {split: list(read_threads("lei2022", lei2022, split=split, seed=13)) for split in SPLITS}
    assert sum((comment_labels(part) for part in parts.values()), Counter()) == comment_labels(every)
    assert {split: sum(len(t.comments) for t in part) for split, part in parts.items()} == {
        "train": 2055,
        "dev": 438,
        "test": 441,
    }
    quotes = [{" ".join(t.post.text.split()).casefold() for t in part} for part in parts.values()]
    assert sum(map(len, quotes)) == len(set().union(*quotes))  # no quote on two sides
    # The files are Windows-1252: read as such, a right quote is ’ and no U+FFFD is left.
    assert {e.split(" ")[0] for t in every for e in t.meta["encodings"].values()} == {"cp1252"}
    texts = [m.text for t in every for m in t.messages()]
    assert not any("\ufffd" in text for text in texts) and sum("’" in text for text in texts) > 1000


def test_lei_stats_prints_the_encoding_of_each_file(lei2022: Path, capsys) -> None:
    assert main(["stats", "--format", "lei2022", str(lei2022)]) == 0
    out = capsys.readouterr().out
    assert "comment stances    2934  (agree 917, disagree 971, neutral 1046)" in out
    for name in ("SubReddit-CovidVaccine.csv", "SubReddit-MaskMandate.csv"):
        assert f"encoding           {name}: cp1252 (not UTF-8 (byte 0x92" in out
