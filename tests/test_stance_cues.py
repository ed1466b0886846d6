"""The explicit-stance training threads (experiments/augment/stance-cues.jsonl): built from their source,
all three labels, and none of them a behaviour case's wording."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from argmine.jobs.data import DataSettings
from argmine.readers.jsonl import read_jsonl
from argmine.thread import Thread
from experiment_scripts import load_script

REPO = Path(__file__).resolve().parent.parent
AUGMENT = REPO / "experiments" / "augment"
CASES = REPO / "experiments" / "behaviour" / "stance-cases.yaml"


def load_builder() -> ModuleType:
    return load_script(AUGMENT / "make_stance_cues.py")


@pytest.fixture(scope="module")
def threads() -> list[Thread]:
    return list(read_jsonl(AUGMENT / "stance-cues.jsonl"))


def test_jsonl_is_what_the_source_builds() -> None:
    assert load_builder().main(["--check"]) == 0


def test_every_comment_answers_the_post_with_one_of_the_three_labels(threads: list[Thread]) -> None:
    labels = Counter()
    for thread in threads:
        assert thread.comments, thread.id
        for comment in thread.comments:
            assert comment.reply_to == thread.post.id
            assert comment.stance is not None and comment.text.strip()
            labels[comment.stance.label] += 1
    assert set(labels) == {"support", "attack", "none"}
    # roughly balanced: no label under a fifth of the comments
    assert min(labels.values()) > sum(labels.values()) / 5


def test_no_comment_is_a_behaviour_case_or_close_to_one(threads: list[Thread]) -> None:
    builder = load_builder()
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    held_out = [builder.word_types(case["comment"]) for case in cases]
    case_posts = {case["post"] for case in cases}
    for thread in threads:
        assert thread.post.text not in case_posts
        for comment in thread.comments:
            assert not builder.too_close(comment.text, held_out, 0.5), comment.text


def test_too_close_is_word_type_jaccard() -> None:
    builder = load_builder()
    held_out = [builder.word_types("I don't agree with this at all.")]
    assert builder.too_close("I don't agree with this.", held_out, 0.5)  # 5 of 7 word types shared
    assert not builder.too_close("That is simply false.", held_out, 0.5)
    assert builder.word_types("Don\u2019t") == builder.word_types("don't")


def test_openers_keep_the_cue_readable() -> None:
    builder = load_builder()
    assert builder.join_opener("Honestly, ", "Agreed.") == "Honestly, agreed."
    assert builder.join_opener("Sorry, but ", "I disagree.") == "Sorry, but I disagree."
    assert builder.join_opener("Hmm. ", "Not true.") == "Hmm. Not true."


def test_data_config_adds_the_threads_to_stance_training_only() -> None:
    values = yaml.safe_load((REPO / "conf" / "data" / "stance_cues.yaml").read_text(encoding="utf-8"))
    settings = DataSettings.from_mapping(values)
    assert (settings.format, settings.use, settings.select_on_dev) == ("jsonl", "stance", False)
    assert (REPO / settings.path).is_file()
