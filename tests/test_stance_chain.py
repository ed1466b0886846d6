"""The reply chain (argmine.stance.chain): a reply's stance toward the post through its agreement with its parent."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import build_pipeline, edit_meta

from argmine.errors import CheckpointError, InputError
from argmine.pipeline import ArgumentMiner
from argmine.settings import BothTask, SettingsError
from argmine.stance.chain import ChainSettings, chained_proba, predict_stances
from argmine.stance.inputs import StanceInput
from argmine.stance.predict import predict_threads
from argmine.thread import Comment, Post, Thread, make_component

LABELS = ("support", "attack", "none")
SUPPORT, ATTACK, NONE = [0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.05, 0.05, 0.9]
POST = "Cities should ban cars from their centres."
C1 = "Vans need access, so a ban would hurt the shops."  # attacks the post
C2 = "You are wrong. The vans come before nine."  # disagrees with C1, so supports the post
C3 = "Exactly, deliveries are done by then."  # agrees with C2


class Scripted:
    """A stance classifier answering from a table keyed by (post, text); anything else reads as ``none``."""

    labels = LABELS

    def __init__(self, rows: dict[tuple[str, str], list[float]]) -> None:
        self.rows, self.asked = rows, []

    def predict_proba(self, inputs, *, batch_size: int = 32) -> np.ndarray:
        self.asked += list(inputs)
        return np.array([self.rows.get((i.post, i.text), NONE) for i in inputs])


class NoBatchSize(Scripted):
    """As scikit-learn's baseline: predict_proba takes no batch size."""

    def predict_proba(self, inputs) -> np.ndarray:  # type: ignore[override]
        return super().predict_proba(inputs)


def scripted() -> Scripted:
    # The direct readings of the replies (their parent beside them) say none, as the shipped model does.
    return Scripted({(POST, C1): ATTACK, (C1, C2): ATTACK, (C1, "You are wrong."): ATTACK, (C2, C3): SUPPORT})


def thread() -> Thread:
    claim = make_component(C2, 0, 14, "Claim", "c2.c1")
    premise = make_component(C2, 15, len(C2), "Premise", "c2.c2")
    return Thread(
        id="t",
        post=Post(id="p", author=None, text=POST),
        comments=[
            Comment(id="c1", author="a", reply_to="p", text=C1),
            Comment(id="c2", author="b", reply_to="c1", text=C2, components=(claim, premise)),
            Comment(id="c3", author="a", reply_to="c2", text=C3),
        ],
    )


def test_agreeing_with_a_supporter_or_disagreeing_with_an_attacker_supports():
    agreement = np.array([[0.9, 0.1, 0.0], [0.1, 0.9, 0.0], [0.0, 0.0, 1.0]])
    parent = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])  # each parent attacks the post
    out = chained_proba(agreement, parent, LABELS)
    assert out[0] == pytest.approx([0.1, 0.9, 0.0])  # agrees with an attacker: attacks
    assert out[1] == pytest.approx([0.9, 0.1, 0.0])  # disagrees with an attacker: supports
    assert out[2] == pytest.approx([0.0, 0.0, 1.0])  # neither: no stance
    assert out.sum(axis=1) == pytest.approx([1.0, 1.0, 1.0])


def test_a_reply_that_disagrees_with_an_attack_supports_the_post_down_the_chain():
    got = predict_stances(scripted(), [thread()], level="both", chain=ChainSettings())
    assert got[("t", "c1")].label == "attack"  # a direct reply: read as it is
    assert got[("t", "c2")].label == "support"
    assert got[("t", "c2")].score == pytest.approx(0.8 * 0.8 + 0.1 * 0.1)
    assert got[("t", "c3")].label == "support"  # agrees with c2, whose composed stance is support
    assert got[("t", "c2.c1")].label == "support"  # the claim "You are wrong." disagrees with c1 too


def test_without_a_chain_every_reply_is_read_directly():
    for chain in (None, ChainSettings(weight=0.0)):
        got = predict_stances(scripted(), [thread()], level="comment", chain=chain)
        assert [got[("t", c)].label for c in ("c1", "c2", "c3")] == ["attack", "none", "none"]


def test_a_reply_unsure_whether_it_agrees_keeps_its_direct_reading():
    got = predict_stances(scripted(), [thread()], level="comment", chain=ChainSettings(min_agreement=0.85))
    assert got[("t", "c2")].label == "none"  # its disagreement with c1 is 0.8 sure


def test_at_full_weight_a_reply_is_read_directly_only_where_its_agreement_is_unsure():
    direct_c2 = StanceInput(post=POST, text=C2, parent=C1)
    for chain, read in ((ChainSettings(), False), (ChainSettings(min_agreement=0.85), True),
                        (ChainSettings(weight=0.5), True)):
        classifier = scripted()
        got = predict_stances(classifier, [thread()], level="comment", chain=chain)
        assert (direct_c2 in classifier.asked) is read, chain
        assert set(got) == {("t", "c1"), ("t", "c2"), ("t", "c3")}
    assert StanceInput(post=C1, text=C2) in classifier.asked  # the agreement is always read


def test_half_weight_mixes_the_chain_with_the_direct_reading():
    got = predict_stances(scripted(), [thread()], level="comment", chain=ChainSettings(weight=0.5))
    chained = chained_proba(np.array([ATTACK]), np.array([ATTACK]), LABELS)[0]
    assert got[("t", "c2")].score == pytest.approx(max(0.5 * chained + 0.5 * np.array(NONE)))


def test_only_the_components_asked_for_get_a_stance_and_identical_inputs_run_once():
    classifier = scripted()
    twin = Thread(id="u", post=Post(id="p", author=None, text=POST),
                  comments=[Comment(id=k, author=None, reply_to="p", text=C1) for k in ("a", "b")])
    got = predict_stances(classifier, [thread(), twin], level="both", component_labels=("Claim",))
    assert ("t", "c2.c1") in got and ("t", "c2.c2") not in got
    assert len(classifier.asked) == len(set(classifier.asked))
    assert got[("u", "a")] == got[("u", "b")]


def test_a_classifier_without_batch_size_and_predict_threads_agree():
    threads = [thread()]
    got = predict_stances(NoBatchSize(scripted().rows), threads, level="comment", chain=ChainSettings())
    relabelled = predict_threads(scripted(), threads, level="comment", chain=ChainSettings())[0]
    assert [got[("t", c.id)] for c in relabelled.comments] == [c.stance for c in relabelled.comments]


def test_chain_settings_are_checked():
    assert ChainSettings.from_json(None, "x") is None
    assert ChainSettings.from_json({"weight": 1, "min_agreement": 0.7}, "x") == ChainSettings(1.0, 0.7)
    with pytest.raises(ValueError, match="weight"):
        ChainSettings(weight=1.5)
    with pytest.raises(CheckpointError, match="x: settings.stance_chain.min_agreement"):
        ChainSettings.from_json({"min_agreement": -0.1}, "x")
    with pytest.raises(CheckpointError, match="must be"):
        ChainSettings.from_json({"weight": 1, "depth": 3}, "x")
    with pytest.raises(SettingsError, match="stance_chain_weight"):
        BothTask(stance_chain_weight=2.0)


def test_the_pipeline_keeps_its_chain_through_save_and_load(tmp_path):
    folder = build_pipeline(tmp_path)
    assert ArgumentMiner.from_pretrained(folder).stance_chain is None  # old checkpoints read replies directly
    miner = ArgumentMiner.from_pretrained(folder, merge_lora=False, precision="float32")
    miner.stance_chain = ChainSettings(1.0, 0.7)
    saved = miner.save_pretrained(tmp_path / "chained")
    assert ArgumentMiner.from_pretrained(saved).stance_chain == ChainSettings(1.0, 0.7)
    edit_meta(saved, **{"settings.stance_chain": {"weight": "all"}})
    with pytest.raises(CheckpointError, match="stance_chain.weight"):
        ArgumentMiner.from_pretrained(saved)


def test_a_chain_on_labels_without_support_attack_none_is_refused(tmp_path):
    folder = build_pipeline(tmp_path)
    miner = ArgumentMiner.from_pretrained(folder, merge_lora=False, precision="float32")

    class Rumours(Scripted):
        labels = ("support", "deny", "query", "comment")

    with pytest.raises(InputError, match="stance_chain needs the stance labels support, attack, none"):
        ArgumentMiner(miner.segmenter, Rumours({}), stance_chain=ChainSettings())
    with pytest.raises(InputError, match="this classifier has support, deny, query, comment"):
        predict_stances(Rumours({}), [thread()], chain=ChainSettings())
    assert predict_stances(Rumours({}), [thread()], chain=None)  # read directly, no chain asked for


def test_labelled_only_scores_the_gold_items_and_still_reads_their_unlabelled_parents():
    from dataclasses import replace

    from argmine.thread import Stance

    gold = thread()
    comments = list(gold.comments)
    comments[1] = replace(comments[1], stance=Stance("support"))  # only c2 carries a gold stance
    got = predict_stances(scripted(), [replace(gold, comments=tuple(comments))], level="comment",
                          labelled_only=True, chain=ChainSettings())
    assert list(got) == [("t", "c2")] and got[("t", "c2")].label == "support"  # through c1, read though unlabelled
