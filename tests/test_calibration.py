"""Calibration of stance scores: ECE and the reliability table, hand-computed, and how report.md shows them."""

from __future__ import annotations

from pathlib import Path

import pytest

from argmine.evaluation.stance import calibration, stance_metrics
from argmine.evaluation.glossary import describe_metric
from argmine.evaluation.report import write_evaluation_report
from argmine.thread import Comment, Post, Stance, Thread, make_component

LABELS = ["support", "attack", "none"]

# Six items: (confidence of the predicted label, is it right). Bins of width 0.1:
#   bin 9 [0.9, 1.0]: 0.95 right, 1.0 right  → n 2, confidence 0.975, accuracy 1.0, gap 0.025
#   bin 8 [0.8, 0.9): 0.85 right, 0.82 wrong → n 2, confidence 0.835, accuracy 0.5, gap 0.335
#   bin 5 [0.5, 0.6): 0.55 wrong             → n 1, confidence 0.55,  accuracy 0.0, gap 0.55
#   bin 4 [0.4, 0.5): 0.45 right             → n 1, confidence 0.45,  accuracy 1.0, gap 0.55
# ECE = (2 * 0.025 + 2 * 0.335 + 0.55 + 0.55) / 6 = 1.82 / 6
ITEMS = [(0.95, True), (0.85, True), (0.82, False), (0.55, False), (0.45, True), (1.0, True)]
ECE = 1.82 / 6


def test_hand_computed_ece_and_reliability_table() -> None:
    ece, table = calibration([c for c, _ in ITEMS], [ok for _, ok in ITEMS])
    assert ece == pytest.approx(ECE)
    assert [row["count"] for row in table] == [0, 0, 0, 0, 1, 1, 0, 0, 2, 2]
    assert table[9] == {"low": 0.9, "high": 1.0, "count": 2, "confidence": pytest.approx(0.975), "accuracy": 1.0}
    assert table[8]["confidence"] == pytest.approx(0.835) and table[8]["accuracy"] == 0.5
    assert table[0] == {"low": 0.0, "high": 0.1, "count": 0, "confidence": None, "accuracy": None}


def test_calibrated_and_overconfident_extremes() -> None:
    assert calibration([0.75] * 4, [True, True, True, False])[0] == pytest.approx(0.0)
    assert calibration([1.0, 1.0], [False, False])[0] == pytest.approx(1.0)
    assert calibration([0.0], [True])[1][0]["count"] == 1  # 0.0 in the first bin, 1.0 in the last
    ece, table = calibration([0.3, 0.8], [True, False], bins=2)
    assert ece == pytest.approx((0.7 + 0.8) / 2) and [row["count"] for row in table] == [1, 1]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        calibration([1.2], [True])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        calibration([float("nan")], [True])
    with pytest.raises(ValueError, match="2 confidences but 1"):
        calibration([0.5, 0.5], [True])
    with pytest.raises(ValueError, match="no predictions"):
        calibration([], [])
    with pytest.raises(ValueError, match="bins"):
        calibration([0.5], [True], bins=0)


def scored_threads(items: list[tuple[float, bool]], *, score: bool = True) -> tuple[Thread, Thread]:
    """Gold: every comment ``support``; predicted: ``support`` when right, else ``attack``, with the confidence."""
    def comment(i: int, stance: Stance) -> Comment:
        return Comment(id=f"c{i}", author=None, text=f"reply {i}", reply_to="op", stance=stance)

    post = Post(id="op", author=None, text="the post")
    gold = Thread(id="t", post=post, comments=[comment(i, Stance("support")) for i in range(len(items))])
    predicted = [
        comment(i, Stance("support" if ok else "attack", c if score else None)) for i, (c, ok) in enumerate(items)
    ]
    return gold, Thread(id="t", post=post, comments=predicted)


def test_stance_metrics_report_calibration_per_level() -> None:
    gold, pred = scored_threads(ITEMS)
    m = stance_metrics([gold], [pred], LABELS)
    assert m["stance/comments/ece"] == pytest.approx(ECE)
    assert [row["count"] for row in m["stance/comments/reliability"]["bins"]] == [0, 0, 0, 0, 1, 1, 0, 0, 2, 2]
    assert describe_metric("stance/comments/ece").startswith("expected calibration error")
    # A prediction without a score: no calibration for that level, the other metrics unchanged.
    unscored = stance_metrics([gold], [scored_threads(ITEMS, score=False)[1]], LABELS)
    assert "stance/comments/ece" not in unscored
    assert unscored["stance/comments/accuracy"] == m["stance/comments/accuracy"]


def test_a_missed_component_has_no_confidence_and_is_left_out() -> None:
    text = "Dogs are loyal. Cats ignore you."

    def build(spans: list[tuple[int, int, Stance]]) -> Thread:
        components = [make_component(text, s, e, "claim", f"k{i}", stance=x) for i, (s, e, x) in enumerate(spans)]
        comment = Comment(id="c", author=None, text=text, reply_to="op", stance=Stance("attack", 0.9),
                          components=components)
        return Thread(id="t", post=Post(id="op", author=None, text="post"), comments=[comment])

    gold = build([(0, 15, Stance("attack")), (16, 32, Stance("support"))])
    pred = build([(0, 15, Stance("attack", 0.6)), (16, 30, Stance("support", 0.9))])  # the second span is missed
    m = stance_metrics([gold], [pred], LABELS)
    assert m["stance/components/missing"] == 1
    assert m["stance/components/ece"] == pytest.approx(0.4)  # one item: confidence 0.6, right
    assert sum(row["count"] for row in m["stance/components/reliability"]["bins"]) == 1


def test_report_shows_ece_beside_macro_f1_and_the_reliability_table(tmp_path: Path) -> None:
    gold, pred = scored_threads(ITEMS)
    metrics = stance_metrics([gold], [pred], LABELS)
    write_evaluation_report(tmp_path, [gold], [pred], metrics, kind="stance", labels=LABELS, checkpoint="ck",
                            data_name="fake", split="dev", bootstrap=0)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    headline = report.split("## Headline")[1].split("## Every metric")[0].splitlines()
    rows = [line for line in headline if line.startswith("| `stance/comments/")]
    assert [row.split("`")[1] for row in rows] == ["stance/comments/macro_f1", "stance/comments/ece"]
    assert f"| {ECE:.4f} |" in rows[1]
    calibration_part = report.split("## Calibration")[1]
    assert f"### stance/comments (ece {ECE:.4f})" in calibration_part
    assert "| [0.9, 1.0] | 2 | 0.9750 | 1.0000 | +0.0250 |" in calibration_part
    assert "| [0.8, 0.9) | 2 | 0.8350 | 0.5000 | -0.3350 |" in calibration_part
    assert "| [0.0, 0.1) | 0 | – | – | – |" in calibration_part
