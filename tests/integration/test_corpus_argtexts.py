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


# -- web discourse ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def webdiscourse(shared_data: Path) -> Path:
    return shared_data / "web-discourse"


def test_webdiscourse_counts(webdiscourse: Path) -> None:
    threads = list(read_threads("webdiscourse", webdiscourse))
    assert len(threads) == 340 and all(not t.comments for t in threads)
    counts = label_counts(threads)
    assert {k: v for k, v in counts.items() if not k.startswith("relation:")} == {
        "Claim": 195, "Premise": 538, "Backing": 224, "Rebuttal": 68, "Refutation": 26,
    }
    assert sum(v for k, v in counts.items() if k.startswith("relation:")) == 459
    # Nothing lost: the 365 claims are 195 spans + 170 implicit ones; the 869 relations 459 + 410 in meta.
    assert sum(len(t.meta["implicit_claims"]) for t in threads) == 170
    assert sum(len(t.meta["implicit_relations"]) for t in threads) == 410
    assert sum(len(t.meta["appeals_to_emotion"]) for t in threads) == 98
    assert Counter(t.meta["genre"] for t in threads) == Counter(artcomment=216, forumpost=73, blogpost=46, article=5)
    assert_exact_slices(threads)


def test_webdiscourse_split(webdiscourse: Path) -> None:
    ids = assert_split_partition("webdiscourse", webdiscourse, ("train", "dev", "test"), seed=13)
    assert (len(ids["train"]), len(ids["dev"]), len(ids["test"])) == (241, 50, 49)
    groups = {t.meta["split_group"] for t in read_threads("webdiscourse", webdiscourse)}
    assert {g for g in groups if "+" in g} == {"2337+2339", "4228+4382+4581", "5150+5154"}


# -- AbstRCT -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def abstrct(shared_data: Path) -> Path:
    return shared_data / "abstrct"


def test_abstrct_counts_and_release_splits(abstrct: Path) -> None:
    train = list(read_threads("abstrct", abstrct, split="train"))
    dev = list(read_threads("abstrct", abstrct, split="dev"))
    assert (len(train), len(dev)) == (350, 50)
    assert label_counts(train) == Counter(
        {"Premise": 1535, "Claim": 730, "relation:Support": 1193, "relation:Attack": 200}
    )
    assert label_counts(dev) == Counter({"Premise": 218, "Claim": 108, "relation:Support": 185, "relation:Attack": 30})
    assert_exact_slices(train + dev)
    # What was repaired or skipped is counted: one bridged O token, one relation to an untagged sentence.
    repaired, skipped = Counter(), Counter()
    for thread in train + dev:
        repaired.update(thread.meta["repaired"])
        skipped.update(thread.meta["skipped"])
    assert repaired["BIO gaps of one O token bridged"] == 1 and repaired['quoted ";" tokens read as ;'] == 902
    assert sum(skipped.values()) == 1
    assert {t.meta["split"] for t in train} == {"train"} and {t.meta["split"] for t in dev} == {"dev"}
