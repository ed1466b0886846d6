"""The CMV modes reader on the released corpus (../shared/data/cmv-modes-v2)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from argmine.readers.cmv import read_cmv
from argmine.readers.jsonl import read_jsonl, write_jsonl
from argmine.thread import Thread

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def corpus(shared_data: Path) -> Path:
    return shared_data / "cmv-modes-v2"


@pytest.fixture(scope="module")
def threads(corpus: Path) -> list[Thread]:
    return list(read_cmv(corpus))


def test_counts_match_the_release(threads: list[Thread]) -> None:
    assert len(threads) == 87
    assert sum(1 + len(t.comments) for t in threads) == 355
    assert sum(len(t.comments) for t in threads) == 268
    labels = Counter(c.label for t in threads for _, c in t.components())
    assert labels == {"main_claim": 90, "claim": 1303, "premise": 1586}
    assert sum(len(t.relations) for t in threads) == 2553
    assert Counter(r.label for t in threads for r in t.relations) == {
        "support": 1497,
        "agreement": 352,
        "undercutter": 215,
        "rebuttal_attack": 150,
        "rebuttal": 93,
        "partial_attack": 89,
        "partial_agreement": 85,
        "undercutter_attack": 42,
        "disagreement": 16,
        "partial_disagreement": 14,
    }


def test_offsets_repaired(threads: list[Thread]) -> None:
    # 197 spans with UTF-8 byte offsets and 7 with a stray leading space in the .ann text.
    assert sum(t.meta["offsets_repaired"] for t in threads) == 204


def test_components_equal_their_slice_and_the_ann_text(threads: list[Thread], corpus: Path) -> None:
    for thread in threads:
        annotated = {}
        for line in (corpus / thread.meta["file"]).read_text(encoding="utf-8").split("\n"):
            if line.startswith("T"):
                tid, _, text = line.split("\t")
                annotated[tid] = text.strip()
        assert {c.id for _, c in thread.components()} == set(annotated), thread.id
        for message, component in thread.components():
            assert component.text == message.text[component.start : component.end]
            assert component.text == annotated[component.id], (thread.id, component.id)


def test_structure_and_meta(threads: list[Thread]) -> None:
    for thread in threads:
        assert thread.post.id == thread.meta["op_id"]
        assert thread.post.components and thread.post.components[0].label == "main_claim", thread.id
        chain = [thread.post.id] + [c.id for c in thread.comments]
        assert [c.reply_to for c in thread.comments] == chain[:-1]
        assert thread.meta["source_url"].startswith("http://www.reddit.com/r/changemyview/")
        assert thread.meta["delta"] is thread.id.startswith("positive/")
        assert all("Type" in key for _, c in thread.components() for key in c.attributes)
    assert Counter(t.meta["delta"] for t in threads) == {True: 35, False: 52}
    assert len({t.meta["op_id"] for t in threads}) == 29
    assert sum(len(group) for t in threads for group in t.meta["linked_premises"]) > 0


def test_splits_partition_by_op(corpus: Path, threads: list[Thread]) -> None:
    sides = {split: list(read_cmv(corpus, split=split)) for split in ("train", "dev", "test")}
    ids = sorted(t.id for part in sides.values() for t in part)
    assert ids == sorted(t.id for t in threads)
    ops = {split: {t.meta["op_id"] for t in part} for split, part in sides.items()}
    assert not ops["train"] & ops["dev"]
    assert not ops["train"] & ops["test"]
    assert not ops["dev"] & ops["test"]
    assert all(ops.values())


def test_jsonl_round_trip(threads: list[Thread], tmp_path: Path) -> None:
    path = tmp_path / "cmv.jsonl"
    assert write_jsonl(threads, path) == 87
    again = list(read_jsonl(path))
    assert again == threads
    assert [t.meta for t in again] == [t.meta for t in threads]
