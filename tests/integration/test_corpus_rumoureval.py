"""The RumourEval 2019 reader on the real training release in ``../shared/data/rumoureval2019``."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest

from argmine.readers.jsonl import read_jsonl, write_jsonl
from argmine.readers.rumoureval import key_labels, read_rumoureval
from argmine.thread import Thread

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rumoureval(shared_data: Path) -> Path:
    return shared_data / "rumoureval2019"


def labels(threads: list[Thread]) -> dict[str, str]:
    return {m.id: m.stance.label for t in threads for m in t.messages() if m.stance}


@pytest.mark.parametrize(("split", "expected", "sources"), [("train", 5217, 327), ("dev", 1485, 38)])
def test_every_keyed_post_is_read_once(rumoureval: Path, split: str, expected: int, sources: int, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="argmine.readers.rumoureval"):
        threads = list(read_rumoureval(rumoureval, split=split))
    assert "keyed posts" not in caplog.text
    key = key_labels(rumoureval, split)
    assert len(key) == expected
    assert sum(1 for t in threads if t.post.stance) == sources
    assert labels(threads) == key
    where = Counter(m.id for t in threads for m in t.messages())
    assert all(where[post_id] == 1 for post_id in key)
    assert {t.meta["split"] for t in threads} == {split}


def test_all_and_test(rumoureval: Path, caplog) -> None:
    threads = list(read_rumoureval(rumoureval))
    assert len(threads) == 365
    assert Counter(t.meta["platform"] for t in threads) == {"twitter": 325, "reddit": 40}
    found = labels(threads)
    assert len(found) == 6702
    assert sum(1 for t in threads if t.post.stance) == 365
    assert found == key_labels(rumoureval)
    assert Counter(found.values()) == {"comment": 4700, "support": 1027, "query": 515, "deny": 460}
    with caplog.at_level(logging.WARNING, logger="argmine.readers.rumoureval"):
        assert list(read_rumoureval(rumoureval, split="test")) == []
    assert "nothing to read" in caplog.text


def test_quirks_are_kept_not_dropped(rumoureval: Path) -> None:
    flags: Counter[str] = Counter()
    for thread in read_rumoureval(rumoureval):
        for message in thread.messages():
            for flag in ("text_missing", "deleted", "parent_unknown", "not_in_structure"):
                if flag in message.meta:
                    flags[f"{flag}={message.meta[flag]}"] += 1
    assert flags == {
        # One more id without a file was the placeholder "_" of a truncated branch (8yktu5): no post.
        "text_missing=no reply file": 347,
        "text_missing=reddit 'more' stub": 19,
        "deleted=True": 47,
        "parent_unknown=True": 27,
    }


def test_truncated_branch_placeholder_is_counted_not_read(rumoureval: Path) -> None:
    threads = {t.id: t for t in read_rumoureval(rumoureval)}
    assert {i: t.meta["truncated_branches"] for i, t in threads.items() if t.meta["truncated_branches"]} == {
        "8yktu5": 1
    }
    assert all(c.id != "_" for t in threads.values() for c in t.comments)


def test_jsonl_round_trip(rumoureval: Path, tmp_path: Path) -> None:
    threads = list(read_rumoureval(rumoureval))
    out = tmp_path / "rumoureval.jsonl"
    assert write_jsonl(threads, out) == len(threads)
    back = list(read_jsonl(out))
    assert back == threads
    assert [t.to_dict() for t in back] == [t.to_dict() for t in threads]
