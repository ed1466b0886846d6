"""Inter-annotator agreement: hand-computed kappa and span F1, scikit-learn cross-check, mismatched files."""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from argmine.cli.agree import add_arguments as add_agree_arguments, run as run_agree
from argmine.errors import CorpusFormatError
from argmine.evaluation.agreement import agreement, cohen_kappa, read_pair
from argmine.readers.jsonl import write_jsonl
from argmine.thread import Comment, Post, Stance, Thread, make_component

# Ten comments; the two annotators agree on 7 (comments 4, 7 and 10 differ).
STANCES_A = ["support"] * 4 + ["attack"] * 3 + ["none"] * 3
STANCES_B = ["support"] * 3 + ["attack"] * 3 + ["none"] * 3 + ["support"]
# p_o = 7/10; both annotators: support 4, attack 3, none 3 → p_e = (16 + 9 + 9) / 100 = 0.34
KAPPA = (0.7 - 0.34) / (1 - 0.34)  # = 6/11

TEXT = "We should. Because so. And more."
#       0123456789012345678901234567890


def comment_thread(thread_id: str, stances: list[str | None]) -> Thread:
    comments = [
        Comment(id=f"{thread_id}-c{i}", author=None, text=f"reply {i}", reply_to=f"{thread_id}-op",
                stance=Stance(s) if s else None)
        for i, s in enumerate(stances)
    ]
    return Thread(id=thread_id, post=Post(id=f"{thread_id}-op", author=None, text="the post"), comments=comments)


def span_thread(spans: list[tuple[int, int, str, str | None]], text: str = TEXT) -> Thread:
    components = [
        make_component(text, start, end, label, f"k{i}", stance=Stance(stance) if stance else None)
        for i, (start, end, label, stance) in enumerate(spans)
    ]
    comment = Comment(id="c", author=None, text=text, reply_to="op", components=components)
    return Thread(id="spans", post=Post(id="op", author=None, text="the post"), comments=[comment])


def test_kappa_matches_the_hand_computed_value_and_scikit_learn() -> None:
    assert cohen_kappa(STANCES_A, STANCES_B) == pytest.approx(6 / 11)
    assert cohen_kappa(STANCES_A, STANCES_B) == pytest.approx(KAPPA)
    assert cohen_kappa(STANCES_A, STANCES_B) == pytest.approx(cohen_kappa_score(STANCES_A, STANCES_B))


def test_kappa_agrees_with_scikit_learn_on_random_label_lists() -> None:
    rng = random.Random(3)
    for _ in range(50):
        n = rng.randint(2, 40)
        a = [rng.choice("xyz") for _ in range(n)]
        b = [x if rng.random() < 0.6 else rng.choice("xyzw") for x in a]
        expected = cohen_kappa_score(a, b)
        ours = cohen_kappa(a, b)
        if math.isnan(expected):
            assert ours is None
        else:
            assert ours == pytest.approx(expected)


def test_kappa_edge_cases() -> None:
    assert cohen_kappa(["a", "b"], ["a", "b"]) == pytest.approx(1.0)
    assert cohen_kappa(["a", "b"], ["b", "a"]) == pytest.approx(-1.0)
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["a", "a"], ["a", "a"]) is None  # one label only: chance agreement is 1
    with pytest.raises(ValueError, match="2 labels .* 1"):
        cohen_kappa(["a", "b"], ["a"])


def test_comment_stance_agreement() -> None:
    a = comment_thread("t", STANCES_A + ["support", None])
    b = comment_thread("t", STANCES_B + [None, None])  # comment 11: labelled by A only; 12 by nobody
    result = agreement([a], [b])
    assert result["stance/comments/kappa"] == pytest.approx(KAPPA)
    assert result["stance/comments/n"] == 10
    assert result["stance/comments/agreement"] == pytest.approx(0.7)
    assert result["stance/comments/one_side_only"] == 1
    assert result["counts"]["a"]["comment_stances"] == {"attack": 3, "none": 3, "support": 5}
    assert result["counts"]["b"]["comment_stances"] == {"attack": 3, "none": 3, "support": 4}
    assert result["stance/components/kappa"] is None and result["stance/components/n"] == 0


def test_component_spans_labels_and_stances() -> None:
    a = span_thread([(0, 9, "Claim", "support"), (11, 21, "Premise", "attack"), (22, 31, "Claim", None)])
    b = span_thread([(0, 9, "Claim", "support"), (11, 21, "Claim", "attack"), (22, 30, "Claim", None)])
    result = agreement([a], [b])
    # exact: only [0, 9) Claim is shared → P = R = F1 = 1/3
    assert result["components/span_exact/micro_f1"] == pytest.approx(1 / 3)
    # overlap-50 adds [22, 31) vs [22, 30) (same label, overlap 8 of 9 and 8); [11, 21) differs in label
    assert result["components/span_overlap50/micro_f1"] == pytest.approx(2 / 3)
    assert result["components/span_exact/Claim/f1"] == pytest.approx(2 * (1 / 3 * 1 / 2) / (1 / 3 + 1 / 2))
    assert result["components/span_exact/Premise/f1"] == 0.0
    # labels of the two same-span components: (Claim, Claim), (Premise, Claim): p_o 0.5, p_e 0.5 → kappa 0
    assert result["components/label/n"] == 2
    assert result["components/label/kappa"] == pytest.approx(0.0)
    reference = cohen_kappa_score(["Claim", "Premise"], ["Claim", "Claim"])
    assert result["components/label/kappa"] == pytest.approx(reference)
    # stances of same-span components: support/support, attack/attack → kappa 1
    assert result["stance/components/n"] == 2
    assert result["stance/components/kappa"] == pytest.approx(1.0)
    assert result["counts"]["a"]["components"] == {"Claim": 2, "Premise": 1}
    assert result["counts"]["b"]["components"] == {"Claim": 3}


def write(path: Path, threads: list[Thread]) -> Path:
    write_jsonl(threads, path)
    return path


def test_read_pair_accepts_another_thread_order(tmp_path: Path) -> None:
    one, two = comment_thread("t1", ["support"]), comment_thread("t2", ["attack"])
    a = write(tmp_path / "a.jsonl", [one, two])
    b = write(tmp_path / "b.jsonl", [two, one])
    threads_a, threads_b = read_pair(a, b)
    assert [t.id for t in threads_a] == [t.id for t in threads_b] == ["t1", "t2"]


def test_read_pair_names_the_file_and_thread_that_differ(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", [comment_thread("t1", ["support"]), comment_thread("t2", ["attack"])])
    b = write(tmp_path / "b.jsonl", [comment_thread("t1", ["support"])])
    with pytest.raises(CorpusFormatError, match=r"b\.jsonl: thread 't2' of .*a\.jsonl is missing here"):
        read_pair(a, b)
    with pytest.raises(CorpusFormatError, match=r"a\.jsonl: thread 't2' is not in .*b\.jsonl"):
        read_pair(b, a)

    other_text = span_thread([(0, 2, "Claim", None)], text="We should not. Because so.")
    with pytest.raises(CorpusFormatError, match=r"b\.jsonl: thread 'spans', message 'c': the text differs"):
        read_pair(write(tmp_path / "a.jsonl", [span_thread([])]), write(tmp_path / "b.jsonl", [other_text]))

    extra_comment = comment_thread("t1", ["support", "none"])
    with pytest.raises(CorpusFormatError, match=r"thread 't1' holds other messages .*'t1-c1'"):
        read_pair(write(tmp_path / "a.jsonl", [comment_thread("t1", ["support"])]),
                  write(tmp_path / "b.jsonl", [extra_comment]))

    twice = write(tmp_path / "twice.jsonl", [comment_thread("t1", ["x"]), comment_thread("t1", ["y"])])
    with pytest.raises(CorpusFormatError, match=r"twice\.jsonl: thread id 't1' appears twice"):
        read_pair(twice, twice)


def test_the_command_prints_a_table_or_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "ann1.jsonl", [comment_thread("t", STANCES_A)])
    b = write(tmp_path / "ann2.jsonl", [comment_thread("t", STANCES_B)])
    parser = argparse.ArgumentParser()
    add_agree_arguments(parser)
    assert run_agree(parser.parse_args([str(a), str(b)])) == 0
    table = capsys.readouterr().out
    assert "comment stance" in table and f"{KAPPA:.4f}" in table and "ann1.jsonl"[:10] in table
    assert run_agree(parser.parse_args([str(a), str(b), "--json"])) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stance/comments/kappa"] == pytest.approx(KAPPA)
    assert data["stance/components/kappa"] is None
