"""Our own hand-labelled threads (experiments/threads/own-threads.jsonl): well formed and labelled by GUIDE.md."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from types import ModuleType

import pytest

from argmine.jobs.data import load_gold
from argmine.io_utils import read_text
from argmine.readers.jsonl import read_jsonl
from argmine.readers.text import read_text_page
from argmine.stance.gold import derive_cmv_stances
from argmine.thread import Thread
from experiment_scripts import load_script

REPO = Path(__file__).resolve().parent.parent
THREADS_DIR = REPO / "experiments" / "threads"
JSONL = THREADS_DIR / "own-threads.jsonl"
MARKET_ID = "market-comments"
STANCES = {"support", "attack", "none"}
# Our relation labels are their own polarity (GUIDE.md, section 4).
POLARITY = {"support": "support", "attack": "attack"}


@pytest.fixture(scope="module")
def threads() -> list[Thread]:
    return list(read_jsonl(JSONL))


def comment_stance_from_components(labels: list[str]) -> str:
    """GUIDE.md section 5, rule 4: attack if any component attacks, else support if any supports, else none."""
    if "attack" in labels:
        return "attack"
    if "support" in labels:
        return "support"
    return "none"


def load_builder() -> ModuleType:
    return load_script(THREADS_DIR / "build_threads.py")


def test_file_loads_with_unique_thread_ids(threads: list[Thread]) -> None:
    ids = [t.id for t in threads]
    assert len(ids) >= 5
    assert len(set(ids)) == len(ids)
    assert MARKET_ID in ids


def test_jsonl_is_what_the_source_builds() -> None:
    # The JSONL is the artefact; the YAML source is what we edit. They must not drift apart.
    assert load_builder().main(["--check"]) == 0


def test_every_thread_has_a_post_comments_and_a_reply_to_a_reply(threads: list[Thread]) -> None:
    for thread in threads:
        assert thread.post.text.strip(), thread.id
        assert 4 <= len(thread.comments) <= 10, thread.id
        # depth 3: a comment answering a comment that itself answers another comment
        assert max(thread.depth(c) for c in thread.comments) >= 3, thread.id


def test_every_thread_has_a_comment_without_argument(threads: list[Thread]) -> None:
    for thread in threads:
        assert any(not c.components and c.stance.label == "none" for c in thread.comments), thread.id


def test_threads_hold_non_english_and_non_ascii_text(threads: list[Thread]) -> None:
    for thread in threads:
        assert any(not m.text.isascii() for m in thread.messages()), thread.id
        if thread.id != MARKET_ID:  # the market page's text is fixed by the README example
            assert any(c.meta.get("lang") not in (None, "en") for c in thread.comments), thread.id
    assert any("“" in m.text and "”" in m.text for t in threads for m in t.messages())


def test_every_comment_and_comment_component_has_a_stance(threads: list[Thread]) -> None:
    for thread in threads:
        for comment in thread.comments:
            assert comment.stance is not None and comment.stance.label in STANCES, (thread.id, comment.id)
            for component in comment.components:
                assert component.stance is not None and component.stance.label in STANCES, (thread.id, component.id)


def test_post_and_its_components_carry_no_stance(threads: list[Thread]) -> None:
    for thread in threads:
        assert thread.post.stance is None
        assert thread.post.components, thread.id
        assert all(c.stance is None for c in thread.post.components), thread.id


def test_comment_stance_follows_from_its_components(threads: list[Thread]) -> None:
    for thread in threads:
        for comment in thread.comments:
            expected = comment_stance_from_components([c.stance.label for c in comment.components])
            assert comment.stance.label == expected, (thread.id, comment.id)


def test_the_comment_rule_gives_attack_precedence() -> None:
    assert comment_stance_from_components(["support", "attack", "none"]) == "attack"
    assert comment_stance_from_components(["none", "support"]) == "support"
    assert comment_stance_from_components([]) == "none"


def test_stances_are_those_derived_from_the_relations_to_the_post(threads: list[Thread]) -> None:
    # The same derivation as for CMV (argmine.stance.gold) gives back every hand label.
    for thread in threads:
        derived = derive_cmv_stances(thread, POLARITY)
        for given, expected in zip(thread.comments, derived.comments, strict=True):
            assert given.stance == expected.stance, (thread.id, given.id)
            for component, target in zip(given.components, expected.components, strict=True):
                assert component.stance == target.stance, (thread.id, component.id)


def test_labels_and_relations_use_the_guides_vocabulary(threads: list[Thread]) -> None:
    for thread in threads:
        kinds = {c.id: c.label for _, c in thread.components()}
        assert set(kinds.values()) <= {"Claim", "Premise"}, thread.id
        assert any(label == "Claim" for label in kinds.values()), thread.id
        for relation in thread.relations:
            assert relation.label in {"support", "attack"}, (thread.id, relation)
            if kinds[relation.source] == "Premise":  # a premise is a reason for a claim
                assert kinds.get(relation.target) == "Claim", (thread.id, relation)
        sources = {r.source for r in thread.relations}
        premises = {cid for cid, label in kinds.items() if label == "Premise"}
        assert premises <= sources, (thread.id, sorted(premises - sources))


def test_components_do_not_overlap_and_follow_the_span_rules(threads: list[Thread]) -> None:
    for thread in threads:
        for message in thread.messages():
            spans = sorted(c.span for c in message.components)
            for (_, end), (start, _) in pairwise(spans):
                assert end <= start, (thread.id, message.id, spans)
            for component in message.components:
                assert component.text == component.text.strip(), (thread.id, component.id)
                assert "\n\n" not in component.text, (thread.id, component.id)
                # a span reaching the end of its sentence includes the final mark
                assert message.text[component.end : component.end + 1] not in {".", "!", "?", "…"}, (
                    thread.id,
                    component.id,
                )


def test_market_thread_texts_are_the_readme_page(threads: list[Thread]) -> None:
    market = next(t for t in threads if t.id == MARKET_ID)
    page = read_text_page(THREADS_DIR / "market-comments.txt", post=read_text(THREADS_DIR / "market-post.txt"))
    assert market.id == page.id
    assert market.post.text == page.post.text
    assert [(c.id, c.author, c.text) for c in market.comments] == [(c.id, c.author, c.text) for c in page.comments]


def test_the_data_config_loads_the_threads_with_their_stances(threads: list[Thread]) -> None:
    from omegaconf import OmegaConf

    data = OmegaConf.load(REPO / "conf" / "data" / "own_threads.yaml")
    gold = load_gold(
        data.format,
        REPO / data.path,  # the config's path is relative to the repository root
        split=data.split,
        component_labels=OmegaConf.to_container(data.component_labels),
        relation_polarity=data.relation_polarity,
    )
    assert [t.id for t in gold] == [t.id for t in threads]
    labels = {c.stance.label for t in gold for c in t.comments}
    assert labels == set(data.stance_labels)


def test_the_eval_experiment_selects_these_threads() -> None:
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("evaluate", overrides=["experiment=own_threads_eval", "checkpoint=x"])
    assert cfg.data.name == "own_threads"
    assert cfg.data.split == "all"
    assert cfg.stance_level == "both"
    assert (REPO / cfg.data.path).resolve() == JSONL.resolve()
