"""ArgumentMiner on tiny in-process models: what a mined thread holds, streaming, checkpoints, bad folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_models import CLAIM_TEXTS, STANCE_LABELS, TEXTS, build_pipeline_parts, edit_meta

from argmine.checkpoint import META_FILE
from argmine.errors import CheckpointError, InputError
from argmine.pipeline import ArgumentMiner
from argmine.stance.inputs import StanceInput
from argmine.thread import Comment, Post, Relation, Stance, Thread, make_component

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> tuple[Path, Path, Path]:
    return build_pipeline_parts(tmp_path_factory.mktemp("tiny-parts"))


@pytest.fixture(scope="module")
def miner(parts) -> ArgumentMiner:
    _, segmenter, stance = parts
    return ArgumentMiner.from_parts(segmenter, stance)


@pytest.fixture(scope="module")
def pipeline_dir(miner, tmp_path_factory) -> Path:
    return miner.save_pretrained(tmp_path_factory.mktemp("pipeline") / "ckpt")


def gold_thread() -> Thread:
    """A thread carrying gold components, stances and a relation: all of it must be replaced."""
    post_text = TEXTS[0]
    post_claim = make_component(post_text, 0, 31, "Claim", "gold-post-claim", stance=Stance("support"))
    reply_text = TEXTS[1]
    reply_claim = make_component(reply_text, 0, 9, "Premise", "gold-reply-claim", stance=Stance("attack", 0.4))
    return Thread(
        id="t1",
        post=Post(id="op", author="ada", text=post_text, components=[post_claim], stance=Stance("support"),
                  meta={"kept": [1]}),
        comments=[
            Comment(id="r1", author="bo", reply_to="op", text=reply_text, components=[reply_claim],
                    stance=Stance("none", 0.9)),
            Comment(id="r2", author="cy", reply_to="r1", text=TEXTS[2]),
            Comment(id="r3", author=None, reply_to="op", text=""),
        ],
        relations=[Relation("gold-reply-claim", "gold-post-claim", "attack")],
        meta={"source": "invented"},
    )


def spans(thread: Thread) -> list[tuple]:
    return [
        (message.id, c.id, c.start, c.end, c.label, c.stance.label if c.stance else None)
        for message in thread.messages()
        for c in message.components
    ]


def stances(thread: Thread) -> list:
    return [(c.id, c.stance.label if c.stance else None) for c in thread.comments]


# -- what a mined thread holds --------------------------------------------------------------------


def test_mine_replaces_gold_with_predictions_and_leaves_the_input_alone(miner):
    thread = gold_thread()
    before = json.dumps(thread.to_dict(), sort_keys=True)
    mined = miner.mine(thread)
    assert json.dumps(thread.to_dict(), sort_keys=True) == before  # the input is unchanged
    assert mined is not thread and mined.post.meta is not thread.post.meta
    assert mined.relations == ()  # gold relations named gold components
    assert mined.post.stance is None  # the post has no stance toward itself
    ids = [c.id for _, c in mined.components()]
    assert "gold-post-claim" not in ids and "gold-reply-claim" not in ids
    assert [c.id for c in mined.comments] == ["r1", "r2", "r3"] and [c.author for c in mined.comments] == ["bo", "cy", None]
    for message in mined.messages():
        for component in message.components:
            assert component.id.startswith(message.id + ".c")
            assert message.text[component.start : component.end] == component.text
            assert component.label in miner.component_labels
            assert component.score is not None and 0.0 <= component.score <= 1.0
    # the tiny segmenter learnt these texts: claim then premise
    assert [(c.label, c.text) for c in mined.post.components] == [
        (c.label, c.text) for c in CLAIM_TEXTS[0][1]
    ]
    for comment in mined.comments[:2]:
        assert comment.stance is not None and comment.stance.label in STANCE_LABELS
        assert 0.0 < comment.stance.score <= 1.0
        for component in comment.components:
            assert (component.stance is not None) == (component.label == "Claim")
    assert all(c.stance is None for c in mined.post.components)
    empty = mined.comments[2]
    assert empty.components == () and empty.stance is None
    assert mined.meta["source"] == "invented" and mined.meta["mined"]["stance"] == "predicted"
    assert mined.meta["mined"]["claim_labels"] == ["Claim"]


class RecordingStance:
    """A stance classifier that records what it is asked and answers by a rule on the text."""

    labels = ("support", "attack", "none")

    def __init__(self) -> None:
        self.calls: list[list[StanceInput]] = []

    def predict_proba(self, inputs, *, batch_size: int = 32) -> np.ndarray:
        self.calls.append(list(inputs))
        return np.array([[0.2, 0.6, 0.2] if "fair" in i.text else [0.6, 0.2, 0.2] for i in inputs])


def test_stance_inputs_come_from_the_predicted_claims(miner):
    recorder = RecordingStance()
    fake = ArgumentMiner(miner.segmenter, recorder)  # type: ignore[arg-type]
    thread = Thread(
        id="t",
        post=Post(id="p", author=None, text=TEXTS[0]),
        comments=[
            Comment(id="a", author="x", reply_to="p", text=TEXTS[3]),
            Comment(id="b", author="y", reply_to="a", text=TEXTS[2]),
        ],
    )
    mined = fake.mine(thread)
    assert len(recorder.calls) == 1  # one batch for the whole thread
    asked = recorder.calls[0]
    claims = {c.id: c for c in mined.comments[1].components if c.label == "Claim"}
    assert claims, "the tiny segmenter finds the claim of TEXTS[2]"
    # a reply to a reply is read with its parent; its claims likewise (component_input)
    assert StanceInput(post=TEXTS[0], text=TEXTS[2], parent=TEXTS[3]) in asked
    for claim in claims.values():
        assert StanceInput(post=TEXTS[0], text=claim.text, parent=TEXTS[3]) in asked
        assert claim.stance == Stance("support")
    assert mined.comments[0].stance == Stance("attack")  # "it is fair , because ..." → the rule says attack
    # identical inputs are classified once: two equal comments under the post
    twins = fake.mine(
        Thread(id="u", post=Post(id="p", author=None, text=TEXTS[0]),
               comments=[Comment(id=k, author=None, reply_to="p", text=TEXTS[2]) for k in ("a", "b")])
    )
    asked = recorder.calls[-1]
    assert len(asked) == len(set(asked)) == 1 + len([c for c in twins.comments[0].components if c.label == "Claim"])
    assert twins.comments[0].stance == twins.comments[1].stance == Stance("support")
    assert [c.stance for c in twins.comments[0].components] == [c.stance for c in twins.comments[1].components]


def test_empty_post_means_no_stance_and_says_so(miner, caplog):
    thread = Thread(
        id="page",
        post=Post(id="post", author=None, text=""),
        comments=[Comment(id="c1", author="a", reply_to="post", text=TEXTS[1])],
    )
    with caplog.at_level("WARNING", logger="argmine.pipeline"):
        mined = miner.mine(thread)
    assert mined.post.components == ()
    assert mined.comments[0].components  # components are still found
    assert mined.comments[0].stance is None and all(c.stance is None for c in mined.comments[0].components)
    assert "not predicted" in mined.meta["mined"]["stance"]
    assert "original post is empty" in caplog.text


def test_hard_texts_all_work(miner):
    long_text = " ".join(TEXTS * 600)[:50_000]  # 50,000 characters: thousands of short windows
    odd = [
        "",
        "   \n\n ",
        "Мы должны строить больше велодорожек, потому что это дёшево.",
        "我们应该多建自行车道，因为骑车便宜又干净。",
        "Nous devons garder la bibliothèque ouverte — les enfants y lisent. 👍",
        long_text,
    ]
    thread = Thread(
        id="odd",
        post=Post(id="p", author=None, text="Should the town build more bike lanes?"),
        comments=[Comment(id=f"c{i}", author=None, reply_to="p", text=t) for i, t in enumerate(odd)],
    )
    mined = miner.mine(thread)
    assert [c.text for c in mined.comments] == odd  # nothing lost, nothing changed
    for comment in mined.comments:
        for component in comment.components:
            assert comment.text[component.start : component.end] == component.text
    assert mined.comments[0].stance is None and mined.comments[1].stance is None  # empty / blank
    assert all(c.stance is not None for c in mined.comments[2:])
    longest = mined.comments[-1]
    assert len(longest.components) > 100 and longest.components[-1].end > 49_000  # the whole text was read


def test_thread_without_comments_mines_the_post(miner):
    mined = miner.mine(Thread(id="solo", post=Post(id="p", author=None, text=TEXTS[1])))
    assert mined.comments == () and [c.label for c in mined.post.components] == ["Claim", "Premise"]


# -- streaming ------------------------------------------------------------------------------------


def make_threads(n: int) -> list[Thread]:
    return [
        Thread(
            id=f"t{i}",
            post=Post(id="p", author=None, text=TEXTS[i % 4]),
            comments=[
                Comment(id=f"c{j}", author=None, reply_to="p" if j == 0 else f"c{j - 1}", text=TEXTS[(i + j) % 4])
                for j in range(i % 3)
            ],
        )
        for i in range(n)
    ]


def test_mine_many_keeps_order_and_matches_one_at_a_time(miner):
    threads = make_threads(9)
    together = list(miner.mine_many(threads, batch_size=3, chunk_messages=5, progress=False))
    alone = [miner.mine(t, batch_size=1) for t in threads]
    assert [t.id for t in together] == [t.id for t in threads]
    assert [spans(t) for t in together] == [spans(t) for t in alone]
    assert [stances(t) for t in together] == [stances(t) for t in alone]
    scores = [c.stance.score for t in together for c in t.comments if c.stance]
    assert scores == pytest.approx([c.stance.score for t in alone for c in t.comments if c.stance], abs=1e-5)


def test_mine_many_streams_in_bounded_chunks(miner):
    threads = make_threads(40)
    pulled = 0

    def source():
        nonlocal pulled
        for thread in threads:
            pulled += 1
            yield thread

    stream = miner.mine_many(source(), chunk_messages=6, progress=False)
    first = next(stream)
    assert first.id == "t0"
    assert pulled < 10  # only the first chunk was read, not the whole input
    rest = list(stream)
    assert pulled == 40 and [t.id for t in [first, *rest]] == [t.id for t in threads]


def test_mine_many_rejects_what_is_not_threads(miner):
    with pytest.raises(TypeError, match="mine\\(\\)"):
        list(miner.mine_many(make_threads(1)[0], progress=False))
    with pytest.raises(TypeError, match="item 1 is a dict"):
        list(miner.mine_many([make_threads(1)[0], {"id": "x"}], progress=False))
    with pytest.raises(ValueError, match="batch_size"):
        list(miner.mine_many([], batch_size=0))
    assert list(miner.mine_many([], progress=False)) == []


# -- checkpoints ----------------------------------------------------------------------------------


def test_pipeline_folder_round_trip(miner, pipeline_dir, parts):
    names = {p.name for p in pipeline_dir.iterdir()}
    assert names == {META_FILE, "components", "stance", "README.md"}
    meta = json.loads((pipeline_dir / META_FILE).read_text(encoding="utf-8"))
    assert meta["kind"] == "pipeline"
    assert meta["labels"] == ["Claim", "Premise", *STANCE_LABELS]
    assert meta["settings"]["component_labels"] == ["Claim", "Premise"]
    assert meta["settings"]["stance_labels"] == list(STANCE_LABELS)
    assert meta["settings"]["claim_labels"] == ["Claim"] and meta["settings"]["stance_kind"] == "stance"
    assert json.loads((pipeline_dir / "components" / META_FILE).read_text())["kind"] == "components"
    card = (pipeline_dir / "README.md").read_text(encoding="utf-8")
    assert "Claim, Premise" in card and "support, attack, none" in card and "Limits" in card

    threads = make_threads(6)
    before = list(miner.mine_many(threads, progress=False))
    loaded = ArgumentMiner.from_pretrained(pipeline_dir, precision="float32")  # as saved, on any CPU
    after = list(loaded.mine_many(threads, progress=False))
    assert [spans(t) for t in after] == [spans(t) for t in before]
    assert [stances(t) for t in after] == [stances(t) for t in before]
    # merging LoRA adapters for speed changes nothing but float rounding
    unmerged = ArgumentMiner.from_pretrained(pipeline_dir, merge_lora=False, precision="float32")
    plain = list(unmerged.mine_many(threads, progress=False))
    assert [spans(t) for t in plain] == [spans(t) for t in before]
    assert [c.stance.score for t in plain for c in t.comments if c.stance] == pytest.approx(
        [c.stance.score for t in before for c in t.comments if c.stance], abs=1e-4
    )
    # a merged pipeline saves the same small adapters it loaded
    _, segmenter_dir, _ = parts
    resaved = loaded.save_pretrained(pipeline_dir.parent / "resaved", card="# my card\n")
    assert (resaved / "README.md").read_text() == "# my card\n"
    assert {p.name for p in (resaved / "components").iterdir()} == {p.name for p in segmenter_dir.iterdir()}
    again = list(ArgumentMiner.from_pretrained(resaved, precision="float32").mine_many(threads, progress=False))
    assert [spans(t) for t in again] == [spans(t) for t in before]


def test_save_pretrained_is_atomic(miner, tmp_path, monkeypatch):
    target = miner.save_pretrained(tmp_path / "ckpt")
    before = sorted(p.relative_to(target).as_posix() for p in target.rglob("*"))

    def broken(folder, card=None):
        raise OSError("disk full")

    monkeypatch.setattr(miner.stance, "save_pretrained", broken)
    with pytest.raises(OSError, match="disk full"):
        miner.save_pretrained(target)
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no staging folder left behind


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: shutil.rmtree(d / "stance"), "missing the folder stance/"),
        (lambda d: (d / META_FILE).unlink(), "not an argmine checkpoint"),
        (lambda d: edit_meta(d, argmine_version="7.0.0"), "argmine 7.0.0"),
        (lambda d: edit_meta(d, kind="components"), "expected 'pipeline'"),
        (lambda d: edit_meta(d, labels=["Claim", "Premise", "yes", "no", "none"],
                             **{"settings.stance_labels": ["yes", "no", "none"]}), "stance labels"),
        (lambda d: edit_meta(d, labels=["Claim", "Premise"]), "are not settings.component_labels"),
        (lambda d: edit_meta(d, **{"settings.claim_labels": ["Thesis"]}), "'Thesis'"),
        (lambda d: edit_meta(d / "components", argmine_version="0.0.1"), "components"),
        (lambda d: (d / "stance" / "adapter_model.safetensors").unlink(), "adapter_model.safetensors"),
    ],
    ids=["no-stance", "no-meta", "version", "kind", "stance-labels", "labels", "claim-label", "part-version",
         "part-weights"],
)
def test_broken_pipeline_folders_raise_checkpoint_error(pipeline_dir, tmp_path, damage, message):
    folder = tmp_path / "copy"
    shutil.copytree(pipeline_dir, folder)
    damage(folder)
    with pytest.raises(CheckpointError, match=message):
        ArgumentMiner.from_pretrained(folder)


def test_claim_labels_must_be_segmenter_labels(miner):
    with pytest.raises(ValueError, match="'Thesis'.*Claim, Premise"):
        ArgumentMiner(miner.segmenter, miner.stance, claim_labels=("Thesis",))
    no_claims = ArgumentMiner(miner.segmenter, miner.stance, claim_labels=())
    mined = no_claims.mine(gold_thread())
    assert all(c.stance is None for _, c in mined.components())
    assert mined.comments[0].stance is not None


def test_int8_is_refused_in_one_line_before_anything_loads(tmp_path):
    # int8 was dropped (argmine.precision): it moved 40% of the spans. The folder does not even exist.
    with pytest.raises(InputError, match=r"^precision must be auto or one of float32, bfloat16, got 'int8' \(int8 was"):
        ArgumentMiner.from_pretrained(tmp_path / "nowhere", precision="int8")
    with pytest.raises(InputError, match="got 'int8'"):
        ArgumentMiner.from_parts(tmp_path / "nowhere", tmp_path / "nowhere", precision="int8")


def test_bfloat16_miner_converts_both_models_and_keeps_every_span_exact(pipeline_dir, miner, tmp_path):
    converted = ArgumentMiner.from_pretrained(pipeline_dir, precision="bfloat16")
    assert converted.precision == "bfloat16"
    for part in (converted.segmenter, converted.stance):
        assert part.precision == "bfloat16" and {p.dtype for p in part.model.parameters()} == {torch.bfloat16}
    # The stance batches go through ``net``: it must be the converted model, LoRA folded in for good.
    assert {p.dtype for p in converted.stance.net.parameters()} == {torch.bfloat16}
    assert not any(type(m).__module__.startswith("peft") for m in converted.stance.net.modules())
    thread = gold_thread()
    mined, reference = converted.mine(thread), miner.mine(thread)
    assert [c.id for c in mined.comments] == [c.id for c in thread.comments]
    for message in mined.messages():
        for component in message.components:
            assert message.text[component.start : component.end] == component.text
            assert 0.0 <= component.score <= 1.0
    judged = [(ours, theirs) for ours, theirs in zip(mined.comments, reference.comments) if theirs.text.strip()]
    assert judged and all((ours.stance is None) == (theirs.stance is None) for ours, theirs in judged)
    for ours, theirs in judged:
        assert ours.stance.label in STANCE_LABELS
        assert abs(ours.stance.score - theirs.stance.score) < 0.05  # bf16 rounding, not a different model
    with pytest.raises(ValueError, match="bfloat16"):
        converted.save_pretrained(tmp_path / "b")
    with pytest.raises(ValueError, match="already runs in bfloat16"):
        converted.to_precision("float32")
    with pytest.raises(ValueError, match="converted to bfloat16 cannot be saved"):
        converted.segmenter.save_pretrained(tmp_path / "s")  # each model refuses, not only the miner
    assert not (tmp_path / "b").exists() and not (tmp_path / "s").exists()


def test_precision_names_are_checked_and_auto_follows_the_cpu(monkeypatch):
    from argmine import precision

    with pytest.raises(InputError, match="precision must be auto or one of float32, bfloat16, got 'fp16'$"):
        precision.resolve_precision("fp16")
    with pytest.raises(InputError, match="got 'int8' \\(int8 was dropped"):
        precision.resolve_precision("int8")
    monkeypatch.setattr(precision, "native_bfloat16", lambda: True)
    assert precision.resolve_precision("auto") == "bfloat16"
    monkeypatch.setattr(precision, "native_bfloat16", lambda: False)
    assert precision.resolve_precision("auto") == "float32"


def test_a_scikit_learn_stance_part_works_too(miner, tmp_path):
    from argmine.stance.baseline import SklearnStanceClassifier

    words = {"support": "yes i agree", "attack": "no that is wrong", "none": "what is this"}
    inputs = [StanceInput(post=TEXTS[0], text=f"{words[label]} {TEXTS[k % 4]}") for k, label in
              enumerate(list(words) * 6)]
    labels = list(words) * 6
    baseline = SklearnStanceClassifier.fit(inputs, labels, tuple(words), c_values=(1.0,))
    joined = ArgumentMiner(miner.segmenter, baseline)
    folder = joined.save_pretrained(tmp_path / "sk-pipeline")
    assert json.loads((folder / META_FILE).read_text())["settings"]["stance_kind"] == "stance-sklearn"
    loaded = ArgumentMiner.from_pretrained(folder, precision="bfloat16")  # converts only the segmenter here
    thread = Thread(id="t", post=Post(id="p", author=None, text=TEXTS[0]), comments=[
        Comment(id="a", author=None, reply_to="p", text=f"yes i agree {TEXTS[1]}"),
        Comment(id="b", author=None, reply_to="p", text=f"no that is wrong {TEXTS[2]}"),
    ])
    mined = loaded.mine(thread)
    assert [c.stance.label for c in mined.comments] == ["support", "attack"]
    assert isinstance(loaded.stance, SklearnStanceClassifier) and loaded.precision == "bfloat16"


def test_a_pooled_stance_part_is_saved_merged_and_converted_with_the_pipeline(parts, tmp_path):
    from argmine.stance.baseline import SklearnStanceClassifier
    from argmine.stance.ensemble import EnsembleStanceClassifier
    from argmine.stance.transformer import TransformerStanceClassifier

    _, segmenter, stance = parts
    words = dict(zip(STANCE_LABELS, ("yes i agree", "no that is wrong", "what is this")))
    labels = list(STANCE_LABELS) * 6
    inputs = [StanceInput(post=TEXTS[0], text=f"{words[label]} {TEXTS[k % 4]}") for k, label in enumerate(labels)]
    baseline = SklearnStanceClassifier.fit(inputs, labels, STANCE_LABELS, c_values=(1.0,))
    pooled = EnsembleStanceClassifier.join(TransformerStanceClassifier.from_pretrained(stance), baseline, 0.5)
    part = pooled.save_pretrained(tmp_path / "pooled")
    folder = ArgumentMiner.from_parts(segmenter, part, merge_lora=False).save_pretrained(tmp_path / "pipeline")
    assert json.loads((folder / META_FILE).read_text())["settings"]["stance_kind"] == "stance-ensemble"

    converted = ArgumentMiner.from_pretrained(folder, precision="bfloat16")
    member = converted.stance.transformer
    assert {p.dtype for p in member.net.parameters()} == {torch.bfloat16}  # converted with the pipeline
    assert not any(type(m).__module__.startswith("peft") for m in member.net.modules())
    mined = converted.mine(gold_thread())
    assert all(c.stance.label in STANCE_LABELS for c in mined.comments if c.text.strip())
