"""``argmine mine`` on the real copied Substack page, as a user would run it.

With the trained pipeline (models/argmine-threads-minilm) when it exists;
otherwise with an untrained pipeline on the real packaged encoder, which
checks everything but the quality of the predictions: reading the page,
windows over the real tokenizer, every comment kept, offsets exact, the
outputs written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_models import mine_cli

from argmine.cli.mine import DEFAULT_CHECKPOINT
from argmine.pipeline import ArgumentMiner
from argmine.readers.text import read_text_page

pytestmark = pytest.mark.integration

# Our own words, not the article's: any post works to exercise stance toward it.
POST = "The West should do more to support democracy in the South Caucasus."


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    if DEFAULT_CHECKPOINT.is_dir():
        return DEFAULT_CHECKPOINT
    from argmine.segmenter.model import Segmenter
    from argmine.stance.transformer import TransformerStanceClassifier
    from argmine.runtime import seed_everything

    seed_everything(0)
    miner = ArgumentMiner(
        Segmenter.create(["Claim", "Premise"], encoder="minilm"),
        TransformerStanceClassifier.create(["support", "attack", "none"], encoder="minilm"),
    )
    return miner.save_pretrained(tmp_path_factory.mktemp("untrained") / "pipeline")


@pytest.fixture(scope="module")
def miner(checkpoint: Path) -> ArgumentMiner:
    from argmine.runtime import use_cpu_threads

    use_cpu_threads(2)
    return ArgumentMiner.from_pretrained(checkpoint)


def test_every_comment_kept_with_exact_offsets(substack_page: Path, miner: ArgumentMiner):
    thread = read_text_page(substack_page, post=POST)
    mined = miner.mine(thread)
    assert len(mined.comments) == len(thread.comments) == 11
    assert [(c.id, c.author, c.text, c.reply_to) for c in mined.comments] == [
        (c.id, c.author, c.text, c.reply_to) for c in thread.comments
    ]
    for message in mined.messages():
        for component in message.components:
            assert message.text[component.start : component.end] == component.text
            assert component.text == component.text.strip()  # spans are whole words
    assert all(c.stance is not None and c.stance.label in miner.stance_labels for c in mined.comments)
    for comment in mined.comments:
        for component in comment.components:
            assert (component.stance is not None) == (component.label in miner.claim_labels)
    assert all(c.stance is None for c in mined.post.components)


def test_without_the_post_no_stance_is_guessed(substack_page: Path, miner: ArgumentMiner):
    mined = miner.mine(read_text_page(substack_page))
    assert len(mined.comments) == 11
    assert all(c.stance is None for c in mined.comments)
    assert all(c.stance is None for _, c in mined.components())
    assert "not predicted" in mined.meta["mined"]["stance"]


def test_cli_writes_html_and_jsonl(substack_page: Path, checkpoint: Path, tmp_path: Path, capsys):
    page_html = tmp_path / "page.html"
    given = [str(substack_page), "--post", POST, "--checkpoint", str(checkpoint)]
    code, out, err = mine_cli([*given, "-o", str(page_html)], capsys)
    assert code == 0, err
    html = page_html.read_text(encoding="utf-8")
    assert html.count('<article class="msg comment"') == 11 and "<script" not in html
    assert "mined 1 thread (11 comments" in out
    code, _, err = mine_cli([*given, "-o", str(tmp_path / "p.jsonl")], capsys)
    assert code == 0, err
    (line,) = (tmp_path / "p.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(json.loads(line)["comments"]) == 11
