"""Stance metrics: hand-computed cases, and a cross-check against scikit-learn."""

from __future__ import annotations

import random

import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from argmine.evaluation.stance import label_metrics, stance_metrics
from argmine.thread import Comment, Post, Stance, Thread, make_component

LABELS = ["support", "attack", "none"]


def threads_with(
    gold: list[str], pred: list[str | None], *, post: tuple[str, str] | None = None
) -> tuple[Thread, Thread]:
    """A gold and a predicted thread with one comment per label; ``post`` = (gold, predicted) post stance."""

    def build(labels: list[str | None], post_label: str | None) -> Thread:
        comments = [
            Comment(id=f"c{i}", author=None, text=f"reply {i}", reply_to="op", stance=Stance(x) if x else None)
            for i, x in enumerate(labels)
        ]
        return Thread(
            id="t",
            post=Post(id="op", author=None, text="post", stance=Stance(post_label) if post_label else None),
            comments=comments,
        )

    return build(gold, post[0] if post else None), build(pred, post[1] if post else None)


GOLD = ["support", "support", "attack", "attack", "none", "none", "none", "none"]
PRED = ["support", "attack", "attack", "attack", "none", "none", "support", "none"]


def test_hand_computed_comment_scores() -> None:
    gold, pred = threads_with(GOLD, PRED)
    m = stance_metrics([gold], [pred], LABELS)
    assert m["stance/comments/n"] == 8
    assert m["stance/comments/accuracy"] == pytest.approx(6 / 8)
    assert m["stance/comments/support/precision"] == pytest.approx(1 / 2)
    assert m["stance/comments/support/recall"] == pytest.approx(1 / 2)
    assert m["stance/comments/attack/precision"] == pytest.approx(2 / 3)
    assert m["stance/comments/attack/recall"] == pytest.approx(1.0)
    assert m["stance/comments/attack/f1"] == pytest.approx(0.8)
    assert m["stance/comments/none/f1"] == pytest.approx(6 / 7)
    assert m["stance/comments/macro_f1"] == pytest.approx((0.5 + 0.8 + 6 / 7) / 3)
    assert m["stance/comments/confusion"] == {"labels": LABELS, "matrix": [[1, 1, 0], [0, 2, 0], [1, 0, 3]]}
    assert m["stance/comments/none/support"] == 4
    assert not any(k.startswith(("stance/messages", "stance/components")) for k in m)


def test_a_label_never_seen_counts_zero_in_the_macro_average() -> None:
    gold, pred = threads_with(["support", "attack"], ["support", "attack"])
    m = stance_metrics([gold], [pred], LABELS)
    assert m["stance/comments/none/f1"] == 0.0
    assert m["stance/comments/macro_f1"] == pytest.approx(2 / 3)


def test_posts_are_scored_with_comments_only_when_asked() -> None:
    gold, pred = threads_with(["support", "none"], ["support", "none"], post=("support", "attack"))
    m = stance_metrics([gold], [pred], LABELS, include_posts=True)
    assert m["stance/comments/accuracy"] == 1.0  # replies only
    assert m["stance/messages/n"] == 3
    assert m["stance/messages/accuracy"] == pytest.approx(2 / 3)
    assert m["stance/messages/confusion"]["matrix"] == [[1, 1, 0], [0, 0, 0], [0, 0, 1]]
    assert "stance/messages/n" not in stance_metrics([gold], [pred], LABELS)


def test_unlabelled_gold_comments_are_not_scored() -> None:
    gold, pred = threads_with(["support", None, "attack"], ["support", "none", "attack"])  # type: ignore[list-item]
    m = stance_metrics([gold], [pred], LABELS)
    assert m["stance/comments/n"] == 2 and m["stance/comments/accuracy"] == 1.0


def component_threads() -> tuple[Thread, Thread]:
    text = "Dogs are loyal. Cats ignore you. Birds sing."

    def build(spans: list[tuple[int, int, str | None]]) -> Thread:
        components = [
            make_component(text, s, e, "claim", f"k{i}", stance=Stance(x) if x else None)
            for i, (s, e, x) in enumerate(spans)
        ]
        comment = Comment(id="c", author=None, text=text, reply_to="op", stance=Stance("attack"), components=components)
        return Thread(id="t", post=Post(id="op", author=None, text="post"), comments=[comment])

    gold = build([(0, 15, "attack"), (16, 32, "support"), (33, 44, "none")])
    pred = build([(0, 15, "attack"), (16, 32, "attack"), (33, 38, "none")])  # the third span is not the gold one
    return gold, pred


def test_components_matched_by_span_and_misses_counted() -> None:
    gold, pred = component_threads()
    m = stance_metrics([gold], [pred], LABELS)
    assert m["stance/components/n"] == 3
    assert m["stance/components/missing"] == 1
    assert m["stance/components/accuracy"] == pytest.approx(1 / 3)
    assert m["stance/components/none/recall"] == 0.0  # the missed span counts against its gold label
    assert m["stance/components/attack/precision"] == pytest.approx(1 / 2)
    assert m["stance/components/confusion"]["matrix"] == [[0, 1, 0], [0, 1, 0], [0, 0, 0]]


def test_missing_predictions_are_errors() -> None:
    gold, pred = threads_with(["support"], ["support"])
    with pytest.raises(ValueError, match="no predicted thread"):
        stance_metrics([gold], [], LABELS)
    _, unpredicted = threads_with(["support"], [None])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="'c0' has no stance"):
        stance_metrics([gold], [unpredicted], LABELS)
    with pytest.raises(ValueError, match="thread id 't' twice"):
        stance_metrics([gold], [pred, pred], LABELS)
    other, _ = threads_with([], [])
    with pytest.raises(ValueError, match="not in the prediction"):
        stance_metrics([gold], [other], LABELS)


def test_labels_outside_the_label_set_are_errors() -> None:
    gold, pred = threads_with(["support"], ["deny"])
    with pytest.raises(ValueError, match=r"predicted labels \['deny'\]"):
        stance_metrics([gold], [pred], LABELS)
    with pytest.raises(ValueError, match="no stance labels"):
        stance_metrics([threads_with([], [])[0]], [threads_with([], [])[1]], LABELS)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_scikit_learn(seed: int) -> None:
    rng = random.Random(seed)
    labels = ["support", "deny", "query", "comment"]
    weights = [1, 1, 1, 6]
    gold = rng.choices(labels, weights, k=300)
    pred = rng.choices(labels[:3] + labels, k=300)
    m = label_metrics(gold, pred, labels, "x")
    assert m["x/macro_f1"] == pytest.approx(f1_score(gold, pred, labels=labels, average="macro", zero_division=0))
    assert m["x/accuracy"] == pytest.approx(accuracy_score(gold, pred))
    assert m["x/confusion"]["matrix"] == confusion_matrix(gold, pred, labels=labels).tolist()
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    for i, label in enumerate(labels):
        assert m[f"x/{label}/precision"] == pytest.approx(p[i])
        assert m[f"x/{label}/recall"] == pytest.approx(r[i])
        assert m[f"x/{label}/f1"] == pytest.approx(f[i])
        assert m[f"x/{label}/support"] == s[i]
