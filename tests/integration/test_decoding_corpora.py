"""The shipped default pipeline's components are well formed on the Substack page and on our own threads.

Issue 16's Must-hold: no component of fewer than 3 word characters, none across a paragraph
break (argmine.segmenter.decoding splits at every line break, the stricter reading), every
component's text equal to its slice of the message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from argmine.cli.mine import DEFAULT_CHECKPOINT
from argmine.pipeline import ArgumentMiner
from argmine.readers.jsonl import read_jsonl
from argmine.readers.text import read_text_page
from argmine.segmenter.decoding import DEFAULT, crosses_line_break, word_chars
from argmine.thread import Thread

pytestmark = pytest.mark.integration

OWN_THREADS = Path(__file__).resolve().parents[2] / "experiments" / "threads" / "own-threads.jsonl"
# Our own words, not the article's (as test_mine_substack.py).
POST = "The West should do more to support democracy in the South Caucasus."


@pytest.fixture(scope="module")
def miner() -> ArgumentMiner:
    from argmine.runtime import use_cpu_threads

    if not DEFAULT_CHECKPOINT.is_dir():
        pytest.fail(f"the shipped default checkpoint {DEFAULT_CHECKPOINT} is missing")
    use_cpu_threads(2)
    return ArgumentMiner.from_pretrained(DEFAULT_CHECKPOINT)


def check_well_formed(mined: Thread) -> int:
    found = 0
    for message in mined.messages():
        for component in message.components:
            found += 1
            where = f"{mined.id}/{message.id}/{component.id} {component.text!r}"
            assert message.text[component.start : component.end] == component.text, where
            assert word_chars(component.text) >= 3, where
            assert not crosses_line_break(component.text), where
    return found


def test_the_shipped_default_decodes_with_the_rules(miner: ArgumentMiner):
    assert miner.segmenter.decoding == DEFAULT


def test_substack_page_components_are_well_formed(substack_page: Path, miner: ArgumentMiner):
    thread = read_text_page(substack_page, post=POST)
    assert sum("\n\n" in c.text for c in thread.comments) >= 1  # the page has paragraph breaks to respect
    assert check_well_formed(miner.mine(thread)) > 0


def test_own_threads_components_are_well_formed(miner: ArgumentMiner):
    threads = list(read_jsonl(OWN_THREADS))
    assert sum(check_well_formed(miner.mine(thread)) for thread in threads) > 0
