"""The AAE reader on the real corpus in ``../shared/data/aae2`` (322 TRAIN essays)."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest

from argmine.readers.aae import read_aae
from argmine.readers.jsonl import read_jsonl, write_jsonl
from argmine.thread import Thread

pytestmark = pytest.mark.integration

EXPECTED = {
    "MajorClaim": 598,
    "Claim": 1202,
    "Premise": 3023,
    "supports": 2846,
    "attacks": 177,
    "For": 974,
    "Against": 228,
}


@pytest.fixture(scope="module")
def aae(shared_data: Path) -> Path:
    return shared_data / "aae2"


def counts(threads: list[Thread]) -> Counter[str]:
    """Components, stances and relations; relations across paragraphs (kept in meta) count too."""
    total: Counter[str] = Counter()
    for thread in threads:
        for _, component in thread.components():
            total[component.label] += 1
            if component.stance:
                total[component.stance.label] += 1
        total.update(r.label for r in thread.relations)
        total.update(r["label"] for r in thread.meta.get("cross_unit_relations", []))
    return total


@pytest.mark.parametrize("unit", ["essay", "paragraph"])
def test_counts_match_the_release(aae: Path, unit: str) -> None:
    threads = list(read_aae(aae, unit=unit))
    assert len({t.meta["essay_id"] for t in threads}) == 322
    assert counts(threads) == Counter(EXPECTED)


def test_units_and_paragraphs(aae: Path) -> None:
    essays = list(read_aae(aae, unit="essay"))
    paragraphs = list(read_aae(aae, unit="paragraph"))
    assert len(essays) == 322
    assert len(paragraphs) == 1464  # the title is no unit, and no title holds a component
    assert all(t.meta["paragraph"] >= 1 for t in paragraphs)
    # The released TRAIN essays have no relation across paragraphs.
    assert sum(len(t.meta["cross_unit_relations"]) for t in paragraphs) == 0
    assert all(t.meta["prompt"] for t in essays)
    # Each paragraph is exactly the essay's text at its offset.
    text = {t.id: t.post.text for t in essays}
    for thread in paragraphs:
        start = thread.meta["essay_offset"]
        assert text[thread.meta["essay_id"]][start : start + len(thread.post.text)] == thread.post.text


def test_splits(aae: Path, caplog) -> None:
    train = {t.meta["essay_id"] for t in read_aae(aae, split="train", unit="essay")}
    dev = {t.meta["essay_id"] for t in read_aae(aae, split="dev", unit="essay")}
    assert len(dev) == 32 and len(train) == 290 and not train & dev
    dev_paragraphs = list(read_aae(aae, split="dev"))
    assert {t.meta["essay_id"] for t in dev_paragraphs} == dev
    with caplog.at_level(logging.WARNING, logger="argmine.readers.aae"):
        assert list(read_aae(aae, split="test")) == []
    assert "split 'test' is empty" in caplog.text


@pytest.mark.parametrize("unit", ["essay", "paragraph"])
def test_jsonl_round_trip(aae: Path, tmp_path: Path, unit: str) -> None:
    threads = list(read_aae(aae, unit=unit))
    out = tmp_path / "aae.jsonl"
    assert write_jsonl(threads, out) == len(threads)
    back = list(read_jsonl(out))
    assert back == threads
    assert [t.to_dict() for t in back] == [t.to_dict() for t in threads]
