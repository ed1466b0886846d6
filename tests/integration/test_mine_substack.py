"""``argmine mine`` on the real copied Substack page, as a user would run it.

With the trained pipeline (models/argmine-threads-minilm) when it exists;
otherwise with an untrained pipeline on the real packaged encoder, which
checks everything but the quality of the predictions: reading the page,
windows over the real tokenizer, every comment kept, offsets exact, the
outputs written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from argmine.errors import ArgmineError
from argmine.mine import DEFAULT_CHECKPOINT, add_mine_arguments
from argmine.pipeline import ArgumentMiner
from argmine.readers.text import read_text_page

pytestmark = pytest.mark.integration

# Our own words, not the article's: any post works to exercise stance toward it.
POST = "The West should do more to support democracy in the South Caucasus."


@pytest.fixture(scope="module")
def page_path(shared_data: Path) -> Path:
    path = shared_data.parent / "threads" / "substack-caucasus-comments.txt"
    if not path.is_file():
        pytest.fail(f"{path} is missing beside the corpora")
    return path


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    if DEFAULT_CHECKPOINT.is_dir():
        return DEFAULT_CHECKPOINT
    from argmine.segmenter.model import Segmenter
    from argmine.stance.transformer import TransformerStanceClassifier
    from argmine.training import seed_everything

    seed_everything(0)
    miner = ArgumentMiner(
        Segmenter.create(["Claim", "Premise"], encoder="minilm"),
        TransformerStanceClassifier.create(["support", "attack", "none"], encoder="minilm"),
    )
    return miner.save_pretrained(tmp_path_factory.mktemp("untrained") / "pipeline")


@pytest.fixture(scope="module")
def miner(checkpoint: Path) -> ArgumentMiner:
    from argmine.training import use_cpu_threads

    use_cpu_threads(2)
    return ArgumentMiner.from_pretrained(checkpoint)


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="argmine mine")
    add_mine_arguments(parser)
    args = parser.parse_args(argv)
    try:
        code = args.run(args)
    except (ArgmineError, ValueError, OSError) as error:
        print(f"argmine mine: error: {error}", file=sys.stderr)
        code = 2
    out, err = capsys.readouterr()
    return code, out, err


def test_every_comment_kept_with_exact_offsets(page_path: Path, miner: ArgumentMiner):
    thread = read_text_page(page_path, post=POST)
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


def test_without_the_post_no_stance_is_guessed(page_path: Path, miner: ArgumentMiner):
    mined = miner.mine(read_text_page(page_path))
    assert len(mined.comments) == 11
    assert all(c.stance is None for c in mined.comments)
    assert all(c.stance is None for _, c in mined.components())
    assert "not predicted" in mined.meta["mined"]["stance"]


def test_cli_writes_html_and_jsonl(page_path: Path, checkpoint: Path, tmp_path: Path, capsys):
    page_html = tmp_path / "page.html"
    code, out, err = run([str(page_path), "--post", POST, "--checkpoint", str(checkpoint), "-o", str(page_html)], capsys)
    assert code == 0, err
    html = page_html.read_text(encoding="utf-8")
    assert html.count('<article class="msg comment"') == 11 and "<script" not in html
    assert "mined 1 thread (11 comments" in out
    code, _, err = run([str(page_path), "--post", POST, "--checkpoint", str(checkpoint), "-o", str(tmp_path / "p.jsonl")],
                       capsys)
    assert code == 0, err
    (line,) = (tmp_path / "p.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(json.loads(line)["comments"]) == 11
