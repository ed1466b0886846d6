"""The microtexts, web-discourse and AbstRCT readers on the real corpora in ``../shared/data``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from argmine.readers import read_threads
from argmine.thread import Thread

pytestmark = pytest.mark.integration


def label_counts(threads: list[Thread]) -> Counter[str]:
    total: Counter[str] = Counter()
    for thread in threads:
        for _, component in thread.components():
            total[component.label] += 1
            if component.stance:
                total[f"stance:{component.stance.label}"] += 1
        total.update(f"relation:{r.label}" for r in thread.relations)
    return total


def assert_exact_slices(threads: list[Thread]) -> None:
    for thread in threads:
        for message, component in thread.components():
            assert message.text[component.start : component.end] == component.text, (thread.id, component.id)


def assert_split_partition(fmt: str, path: Path, sides: tuple[str, ...], **options) -> dict[str, set[str]]:
    ids = {side: {t.id for t in read_threads(fmt, path, split=side, **options)} for side in sides}
    every = [i for side in sides for i in ids[side]]
    assert len(every) == len(set(every)), "a thread on two sides"
    assert set(every) == {t.id for t in read_threads(fmt, path, **options)}
    return ids


# -- microtexts ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def microtexts(shared_data: Path) -> Path:
    return shared_data / "arg-microtexts"


@pytest.mark.parametrize("language", ["en", "de"])
def test_microtexts_counts(microtexts: Path, language: str) -> None:
    path = microtexts if language == "en" else microtexts / "corpus" / "de"
    threads = list(read_threads("microtexts", path))
    assert len(threads) == 112 and {t.meta["language"] for t in threads} == {language}
    assert label_counts(threads) == Counter(
        {
            "Claim": 112,
            "Premise": 464,
            "stance:pro": 339,
            "stance:opp": 125,
            "relation:sup": 263,
            "relation:reb": 108,
            "relation:und": 63,
            "relation:add": 21,
            "relation:exa": 9,
        }
    )
    assert_exact_slices(threads)
    # The text is the release's .txt, character for character.
    folder = path / "corpus" / "en" if language == "en" else path
    for thread in threads:
        assert thread.post.text == (folder / f"{thread.id}.txt").read_text(encoding="utf-8")


def test_microtexts_stance_view_and_split(microtexts: Path) -> None:
    threads = list(read_threads("microtexts_stance", microtexts))
    assert len(threads) == 112 and sum(len(t.comments) for t in threads) == 464
    assert Counter(c.stance.label for t in threads for c in t.comments) == Counter(pro=339, opp=125)
    assert_exact_slices(threads)
    ids = assert_split_partition("microtexts", microtexts, ("train", "dev", "test"), seed=13)
    assert (len(ids["train"]), len(ids["dev"]), len(ids["test"])) == (80, 16, 16)
    topics = {side: {t.meta["topic_id"] for t in read_threads("microtexts", microtexts, split=side)} - {None}
              for side in ids}
    assert not topics["train"] & topics["dev"] and not topics["train"] & topics["test"]
