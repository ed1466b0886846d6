"""Component segmentation scores on hand-computed cases, cross-checked against seqeval and scikit-learn."""

from __future__ import annotations

import random

import pytest

from argmine.evaluation.spans import (
    component_metrics,
    macro_f1,
    message_component_metrics,
    overlap50_matches,
    token_tags,
    whitespace_tokens,
)
from argmine.thread import Comment, Post, Thread, make_component

# 0         1         2         3         4         5
# 012345678901234567890123456789012345678901234567890123
TEXT = "We should tax it because people pay. It is fair."


def c(start, end, label, ident="x"):
    return make_component(TEXT, start, end, label, ident)


def thread(components_post, components_comment, thread_id="t"):
    post = Post(
        id="op",
        author=None,
        text=TEXT,
        components=[make_component(TEXT, s, e, lab, f"pc{i}") for i, (s, e, lab) in enumerate(components_post)],
    )
    comment = Comment(
        id="r1",
        author=None,
        reply_to="op",
        text=TEXT,
        components=[make_component(TEXT, s, e, lab, f"rc{i}") for i, (s, e, lab) in enumerate(components_comment)],
    )
    return Thread(id=thread_id, post=post, comments=[comment])


def test_hand_computed_scores():
    # gold: post  [0,16) Claim, [17,35) Premise;  comment [37,48) Claim
    # pred: post  [0,16) Claim (exact), [17,31) Premise (overlap 14/18 and 14/14: overlap50 hit)
    #       comment [37,48) Premise (wrong label), [0,2) Claim (spurious)
    gold = [thread([(0, 16, "Claim"), (17, 35, "Premise")], [(37, 48, "Claim")])]
    pred = [thread([(0, 16, "Claim"), (17, 31, "Premise")], [(37, 48, "Premise"), (0, 2, "Claim")])]
    m = component_metrics(gold, pred)
    # exact: tp 1, gold 3, pred 4 → P 1/4, R 1/3, F 2/7
    assert m["components/span_exact/micro_precision"] == pytest.approx(1 / 4)
    assert m["components/span_exact/micro_recall"] == pytest.approx(1 / 3)
    assert m["components/span_exact/micro_f1"] == pytest.approx(2 / 7)
    # Claim: tp 1, gold 2, pred 2 → 0.5 / 0.5 / 0.5; Premise: tp 0, gold 1, pred 2 → 0
    assert m["components/span_exact/Claim/precision"] == pytest.approx(0.5)
    assert m["components/span_exact/Claim/recall"] == pytest.approx(0.5)
    assert m["components/span_exact/Claim/f1"] == pytest.approx(0.5)
    assert m["components/span_exact/Claim/support"] == 2
    assert m["components/span_exact/Premise/f1"] == 0.0
    assert m["components/span_exact/Premise/support"] == 1
    # overlap50: tp 2 (the Claim and the shortened Premise) → P 2/4, R 2/3, F 4/7
    assert m["components/span_overlap50/micro_precision"] == pytest.approx(0.5)
    assert m["components/span_overlap50/micro_recall"] == pytest.approx(2 / 3)
    assert m["components/span_overlap50/micro_f1"] == pytest.approx(4 / 7)
    assert m["components/support/gold"] == 3
    assert m["components/support/predicted"] == 4


def test_token_macro_f1_hand_computed():
    # whitespace tokens: We should tax it because people pay. It is fair.  (10 tokens)
    gold = [c(0, 16, "Claim"), c(17, 35, "Premise")]
    pred = [c(0, 9, "Claim"), c(10, 35, "Premise")]
    assert token_tags(TEXT, gold) == [
        "B-Claim",
        "I-Claim",
        "I-Claim",
        "I-Claim",
        "B-Premise",
        "I-Premise",
        "I-Premise",
        "O",
        "O",
        "O",
    ]
    assert token_tags(TEXT, pred) == [
        "B-Claim",
        "I-Claim",
        "B-Premise",
        "I-Premise",
        "I-Premise",
        "I-Premise",
        "I-Premise",
        "O",
        "O",
        "O",
    ]
    # per tag F1: B-Claim 1, I-Claim (tp1, g3, p1) 0.5, B-Premise (tp0, g1, p1) 0, I-Premise (tp2, g2, p4) 2/3, O 1
    expected = (1 + 0.5 + 0 + 2 / 3 + 1) / 5
    messages = [("t", "m", TEXT)]
    m = message_component_metrics(messages, [gold], [pred])
    assert m["components/token/macro_f1"] == pytest.approx(expected)


def test_overlap50_needs_half_of_both_spans_and_matches_once():
    g = ("t", "m", 0, 10, "Claim")
    assert overlap50_matches({g}, {("t", "m", 0, 5, "Claim")}) == 1  # 5 of 10 and 5 of 5
    assert overlap50_matches({g}, {("t", "m", 0, 4, "Claim")}) == 0  # 4 of 10
    assert overlap50_matches({g}, {("t", "m", 0, 22, "Claim")}) == 0  # 10 of 22
    assert overlap50_matches({g}, {("t", "m", 0, 10, "Premise")}) == 0  # label
    assert overlap50_matches({g}, {("t", "other", 0, 10, "Claim")}) == 0  # message
    # two predictions, each covering exactly half of the gold: only one may match it
    assert overlap50_matches({g}, {("t", "m", 0, 5, "Claim"), ("t", "m", 5, 10, "Claim")}) == 1
    # one prediction, two gold halves: it matches one of them only
    assert overlap50_matches({("t", "m", 0, 5, "Claim"), ("t", "m", 5, 10, "Claim")}, {g}) == 1


def test_overlap50_per_label_counts_each_labels_matches():
    # gold: Claim 0-16, Premise 24-35, Claim 37-48; predicted: Claim 0-12 (12 of 16: a match), Premise 24-35
    # (exact), Premise 37-48 (right span, wrong label: no match for either label)
    gold = [c(0, 16, "Claim"), c(24, 35, "Premise", "y"), c(37, 48, "Claim", "z")]
    pred = [c(0, 12, "Claim"), c(24, 35, "Premise", "y"), c(37, 48, "Premise", "z")]
    m = message_component_metrics([("t", "m", TEXT)], [gold], [pred])
    assert m["components/span_overlap50/Claim/precision"] == 1.0  # 1 of 1 predicted claims
    assert m["components/span_overlap50/Claim/recall"] == 0.5  # 1 of 2 gold claims
    assert m["components/span_overlap50/Premise/precision"] == 0.5
    assert m["components/span_overlap50/Premise/recall"] == 1.0
    assert m["components/span_overlap50/micro_recall"] == pytest.approx(2 / 3)  # the labels' matches sum up


def test_empty_inputs_and_zero_division():
    m = message_component_metrics([("t", "m", TEXT)], [[]], [[]], labels=["Claim"])
    assert m["components/span_exact/micro_f1"] == 0.0
    assert m["components/span_exact/Claim/f1"] == 0.0
    assert m["components/token/macro_f1"] == 1.0  # all O, all right
    m = message_component_metrics([], [], [])
    assert m["components/token/macro_f1"] == 0.0
    assert macro_f1([], []) == 0.0


def test_duplicates_count_once_and_labels_fix_the_keys():
    gold = [c(0, 16, "Claim"), c(0, 16, "Claim", "y")]
    m = message_component_metrics([("t", "m", TEXT)], [gold], [[c(0, 16, "Claim")]], labels=["Claim", "Premise"])
    assert m["components/span_exact/micro_f1"] == 1.0
    assert m["components/span_exact/Premise/support"] == 0
    assert not any("MajorClaim" in key for key in m)


def test_mismatched_threads_are_refused():
    gold = [thread([(0, 16, "Claim")], [])]
    with pytest.raises(ValueError, match="missing"):
        component_metrics(gold, [thread([], [], thread_id="other")])
    other_text = Thread(id="t", post=Post(id="op", author=None, text="different"), comments=[])
    with pytest.raises(ValueError):
        component_metrics(gold, [other_text])
    with pytest.raises(ValueError):
        message_component_metrics([("t", "m", TEXT)], [[]], [])


def test_whitespace_tokens():
    assert whitespace_tokens("  a bc\n\td ") == [(2, 3), (4, 6), (8, 9)]


# -- cross-checks ---------------------------------------------------------------------


def random_case(rng: random.Random, n_messages: int = 30):
    """Messages of whitespace tokens with random token-aligned, non-overlapping components."""
    labels = ["Claim", "Premise", "MajorClaim"]
    messages, gold, pred = [], [], []
    for i in range(n_messages):
        words = [rng.choice(["we", "tax", "it", "because", "fair", "x"]) for _ in range(rng.randint(1, 25))]
        text = " " * rng.randint(0, 2) + (" " * rng.randint(1, 3)).join(words)
        tokens = whitespace_tokens(text)

        def components(text=text, tokens=tokens):
            out, position = [], 0
            while position < len(tokens):
                if rng.random() < 0.4:
                    length = rng.randint(1, 5)
                    last = min(len(tokens), position + length) - 1
                    out.append(
                        make_component(text, tokens[position][0], tokens[last][1], rng.choice(labels), f"c{len(out)}")
                    )
                    position = last + 1
                else:
                    position += 1
            return out

        g = components()
        # predictions: mostly copies of gold with some boundary / label noise, plus random ones
        p = [comp for comp in g if rng.random() < 0.6] + (components() if rng.random() < 0.5 else [])
        p = sorted({(x.start, x.end, x.label): x for x in p}.values(), key=lambda x: x.start)
        cleaned, end = [], -1  # keep predictions non-overlapping, as a BIO tagger's are
        for comp in p:
            if comp.start >= end:
                cleaned.append(comp)
                end = comp.end
        messages.append(("t", str(i), text))
        gold.append(g)
        pred.append(cleaned)
    return messages, gold, pred


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_span_exact_agrees_with_seqeval_strict_iob2(seed):
    from seqeval.metrics import classification_report, f1_score
    from seqeval.scheme import IOB2

    messages, gold, pred = random_case(random.Random(seed))
    ours = message_component_metrics(messages, gold, pred)
    y_true = [token_tags(text, g) for (_, _, text), g in zip(messages, gold)]
    y_pred = [token_tags(text, p) for (_, _, text), p in zip(messages, pred)]
    assert ours["components/span_exact/micro_f1"] == pytest.approx(
        f1_score(y_true, y_pred, mode="strict", scheme=IOB2, zero_division=0)
    )
    report = classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    for label in ("Claim", "Premise", "MajorClaim"):
        assert ours[f"components/span_exact/{label}/f1"] == pytest.approx(report[label]["f1-score"])
        assert ours[f"components/span_exact/{label}/precision"] == pytest.approx(report[label]["precision"])
        assert ours[f"components/span_exact/{label}/recall"] == pytest.approx(report[label]["recall"])
        assert ours[f"components/span_exact/{label}/support"] == report[label]["support"]


@pytest.mark.parametrize("seed", [0, 1])
def test_token_macro_f1_agrees_with_scikit_learn(seed):
    from sklearn.metrics import f1_score

    messages, gold, pred = random_case(random.Random(seed))
    ours = message_component_metrics(messages, gold, pred)
    y_true = [t for (_, _, text), g in zip(messages, gold) for t in token_tags(text, g)]
    y_pred = [t for (_, _, text), p in zip(messages, pred) for t in token_tags(text, p)]
    assert ours["components/token/macro_f1"] == pytest.approx(
        f1_score(y_true, y_pred, average="macro", zero_division=0)
    )
