"""ArgumentMiner for a notebook user: plain texts in, a readable repr, the CLI's precision by default."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_models import TEXTS, build_pipeline_parts

from argmine import precision
from argmine.pipeline import ArgumentMiner
from argmine.thread import Comment, Post, Thread

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def miner(tmp_path_factory) -> ArgumentMiner:
    _, segmenter, stance = build_pipeline_parts(tmp_path_factory.mktemp("tiny-parts"))
    return ArgumentMiner.from_parts(segmenter, stance)


@pytest.fixture(scope="module")
def pipeline_dir(miner, tmp_path_factory) -> Path:
    return miner.save_pretrained(tmp_path_factory.mktemp("pipeline") / "ckpt")


def test_texts_in_give_the_thread_a_copied_page_would(miner) -> None:
    by_hand = Thread(
        id="thread",
        post=Post(id="post", author=None, text=TEXTS[0]),
        comments=[Comment(id=f"c{i}", author=None, text=t, reply_to="post") for i, t in enumerate(TEXTS[1:3], 1)],
    )
    expected = miner.mine(by_hand).to_dict()
    called = miner(TEXTS[0], TEXTS[1:3])
    assert called.to_dict() == expected
    assert miner.mine_texts(TEXTS[0], TEXTS[1:3]).to_dict() == expected
    assert [(c.id, c.reply_to) for c in called.comments] == [("c1", "post"), ("c2", "post")]
    ids = [component.id for _, component in called.components()]
    assert ids and all(i.startswith(("post.c", "c1.c", "c2.c")) for i in ids)
    assert miner(by_hand).to_dict() == expected  # a Thread goes through mine()
    assert miner(TEXTS[0]).comments == ()  # a post alone is mined too


def test_texts_of_the_wrong_shape_are_one_clear_type_error(miner) -> None:
    with pytest.raises(TypeError, match="comments must be a list of comment texts .str., got a str"):
        miner(TEXTS[0], TEXTS[1])  # one string, not a list: would otherwise become one comment per letter
    with pytest.raises(TypeError, match="got int"):
        miner(TEXTS[0], [TEXTS[1], 3])
    with pytest.raises(TypeError, match="post must be the post's text"):
        miner.mine_texts(None, [TEXTS[1]])
    with pytest.raises(TypeError, match="already holds its comments"):
        miner(miner.mine_texts(TEXTS[0]), [TEXTS[1]])
    with pytest.raises(TypeError, match="use mine_texts"):
        miner.mine(TEXTS[0])


def test_repr_says_what_the_miner_is(miner) -> None:
    text = repr(miner)
    assert text == (
        "ArgumentMiner(components=['Claim', 'Premise'], stance=['support', 'attack', 'none'] (stance), "
        f"claim_labels=['Claim'], encoder={miner.meta.base_encoder!r}, precision='float32')"
    )


@pytest.mark.parametrize(("native", "expected"), [(True, "bfloat16"), (False, "float32")])
def test_from_pretrained_runs_in_the_clis_precision_by_default(pipeline_dir, monkeypatch, native, expected) -> None:
    monkeypatch.setattr(precision, "native_bfloat16", lambda: native)
    loaded = ArgumentMiner.from_pretrained(pipeline_dir)
    assert loaded.precision == expected == precision.resolve_precision(precision.DEFAULT_PRECISION)
    assert f"precision={expected!r}" in repr(loaded)
    assert ArgumentMiner.from_pretrained(pipeline_dir, precision="float32").precision == "float32"
