"""``context: position``: the segmenter reads where a message sits (essay paragraph, post, comment, reply)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_models import build_encoder, vocabulary

from argmine.segmenter.context import message_contexts, paragraph_position
from argmine.segmenter.encoding import IGNORE
from argmine.segmenter.model import Segmenter
from argmine.segmenter.train import contexts_of, train_segmenter
from argmine.thread import Comment, Post, Thread, make_component

pytestmark = pytest.mark.usefixtures("one_torch_thread")

WORDS = "we should tax the rich . original post comment reply first middle last only paragraph essay title".split()  # noqa: SIM905
TEXT = "we should tax the rich ."


def essay_paragraph(k: int, n: int) -> Thread:
    return Thread(
        id=f"e/p{k}", post=Post(id=f"e/p{k}", author=None, text=TEXT), meta={"paragraph": k, "n_paragraphs": n}
    )


def labelled_thread(name: str) -> Thread:
    """The same words, a Claim when they are the post and a Premise when they are a comment or a reply."""
    span = len(TEXT) - 2  # "we should tax the rich"

    def message(cls, message_id: str, label: str, **extra):
        component = make_component(TEXT, 0, span, label, f"{message_id}-x")
        return cls(id=message_id, author=None, text=TEXT, components=[component], **extra)

    return Thread(
        id=name,
        post=message(Post, f"{name}-p", "Claim"),
        comments=[
            message(Comment, f"{name}-c", "Premise", reply_to=f"{name}-p"),
            message(Comment, f"{name}-r", "Premise", reply_to=f"{name}-c"),
        ],
    )


def test_paragraph_positions_follow_the_essay():
    assert [paragraph_position({"paragraph": k, "n_paragraphs": 4}) for k in range(5)] == [
        "essay title",
        "first paragraph",
        "middle paragraph",
        "middle paragraph",
        "last paragraph",
    ]
    assert paragraph_position({"paragraph": 1, "n_paragraphs": 1}) == "only paragraph"
    assert paragraph_position({}) is None


def test_message_contexts_name_post_comment_and_reply():
    thread = labelled_thread("t")
    assert message_contexts(thread, "position") == ["original post", "comment", "reply"]
    assert message_contexts(thread, "none") == ["", "", ""]
    assert message_contexts(essay_paragraph(3, 3), "position") == ["last paragraph"]
    with pytest.raises(ValueError, match="context must be one of"):
        message_contexts(thread, "where")


def test_genre_contexts_name_the_kind_of_text_then_where_it_sits():
    thread = labelled_thread("t")  # no reader named it: a discussion, as CMV and a user's thread
    assert message_contexts(thread, "genre") == ["discussion: original post", "discussion: comment", "discussion: reply"]
    essay = essay_paragraph(1, 3)
    essay.meta["corpus"] = "aae2"
    assert message_contexts(essay, "genre") == ["essay: first paragraph"]
    forum = Thread(id="w", post=Post(id="w", author=None, text=TEXT, meta={"genre": "forumpost"}),
                   meta={"corpus": "webdiscourse"})
    assert message_contexts(forum, "genre") == ["forum post"]
    abstract = Thread(id="a", post=Post(id="a", author=None, text=TEXT), meta={"corpus": "abstrct"})
    assert message_contexts(abstract, "genre") == ["medical abstract"]


def test_pairs_without_threads_cannot_carry_a_position():
    pairs = [(TEXT, [])]
    assert contexts_of(pairs, "none") == [""]
    with pytest.raises(ValueError, match="needs threads"):
        contexts_of(pairs, "position")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    vocab = vocabulary(WORDS, letters="")
    return build_encoder(tmp_path_factory.mktemp("ctx-base"), vocab=vocab, max_positions=64, initializer_range=0.02)


@pytest.fixture(scope="module")
def trained(base, tmp_path_factory) -> tuple[Segmenter, dict, Path]:
    folder = tmp_path_factory.mktemp("ctx") / "ckpt"
    threads = [labelled_thread(f"t{i}") for i in range(4)]
    scores = train_segmenter(
        threads,
        [labelled_thread("dev")],
        labels=("Claim", "Premise"),
        output_dir=folder,
        encoder=base,
        context="position",
        max_length=24,
        stride=4,
        epochs=30,
        learning_rate=2e-2,
        batch_size=4,
        warmup_ratio=0.0,
        seed=0,
        threads=1,
        progress=False,
    )
    return Segmenter.from_pretrained(folder), scores, folder


def test_windows_put_the_context_first_and_label_only_the_text(trained):
    segmenter, _, _ = trained
    tokenized = segmenter.tokenize([TEXT])[0]
    plain = segmenter.windows(tokenized, [])[0]
    placed = segmenter.windows(tokenized, [], context="original post")[0]
    cls, sep = segmenter.tokenizer.cls_token_id, segmenter.tokenizer.sep_token_id
    context_ids = segmenter.tokenizer("original post", add_special_tokens=False)["input_ids"]
    assert placed.input_ids == (cls, *context_ids, sep, *plain.input_ids[1:])
    assert placed.prefix_length == 2 + len(context_ids)
    assert placed.labels[: placed.prefix_length] == (IGNORE,) * placed.prefix_length
    assert placed.labels[placed.prefix_length :] == plain.labels[1:]


def test_a_position_segmenter_tells_the_same_words_apart_by_where_they_stand(trained):
    segmenter, scores, _ = trained
    assert segmenter.context == "position"
    assert scores["components/span_exact/micro_f1"] == 1.0
    mined = segmenter.predict_threads([labelled_thread("new")])[0]
    assert [[(c.label, c.text) for c in m.components] for m in mined.messages()] == [
        [("Claim", "we should tax the rich")],
        [("Premise", "we should tax the rich")],
        [("Premise", "we should tax the rich")],
    ]


def test_a_position_segmenter_needs_contexts_and_records_them(trained):
    segmenter, _, folder = trained
    assert "- context: position" in (folder / "README.md").read_text()
    with pytest.raises(ValueError, match="reads where each message sits"):
        segmenter.predict([TEXT])
    (post,), (comment,) = segmenter.predict([TEXT, TEXT], contexts=["original post", "comment"])
    assert (post.label, comment.label) == ("Claim", "Premise")


def test_the_pipeline_passes_contexts_to_a_position_segmenter(trained, base, tmp_path):
    from tiny_models import build_stance

    from argmine.pipeline import ArgumentMiner

    segmenter, _, _ = trained
    stance = build_stance(base)
    miner = ArgumentMiner(segmenter, stance, claim_labels=("Claim",))
    mined = miner.mine(labelled_thread("m"))
    assert [[c.label for c in m.components] for m in mined.messages()] == [["Claim"], ["Premise"], ["Premise"]]


def test_contexts_are_ignored_by_a_segmenter_trained_without(base, tmp_path):
    plain = Segmenter.create(("Claim",), encoder=base, max_length=24, stride=4)
    assert plain.context == "none"
    tokenized = plain.tokenize([TEXT])
    assert plain.contexts([TEXT], ["comment"]) == [""]
    assert plain.windows(tokenized[0]) == plain.windows(tokenized[0], context="")
    with pytest.raises(ValueError, match="context must be one of"):
        Segmenter.create(("Claim",), encoder=base, context="where")
