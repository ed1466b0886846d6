"""The stance behaviour cases (experiments/behaviour/stance-cases.yaml) and their runner, on a tiny pipeline."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from experiment_scripts import load_script
from tiny_models import build_pipeline_parts, build_stance

from argmine.pipeline import ArgumentMiner

REPO = Path(__file__).resolve().parent.parent
BEHAVIOUR = REPO / "experiments" / "behaviour"
CASES_FILE = BEHAVIOUR / "stance-cases.yaml"

# The capabilities issue 15 names (item 4 and the brief), each to be tested by at least MIN_CASES cases.
CAPABILITIES = (
    "explicit_agree",
    "explicit_disagree",
    "implicit_agree",
    "implicit_disagree",
    "negation",
    "question",
    "thanks",
    "off_topic",
    "long_last_paragraph",
    "reply_to_reply",
    "paraphrase",
)
NONE_CAPABILITIES = ("question", "thanks", "off_topic", "neutral_fact")  # takes no side, by definition
MIN_CASES = 4
MIN_PARAPHRASE_GROUPS = 10
MIN_TOPICS = 25


def _load_runner():
    return load_script(BEHAVIOUR / "run_behaviour.py")


runner = _load_runner()


@pytest.fixture(scope="module")
def cases() -> list:
    return runner.load_cases(CASES_FILE)


# -- the cases file ------------------------------------------------------------------------------------


def test_cases_file_parses_with_the_required_fields(cases):
    raw = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    assert len(raw) == len(cases) >= 100
    for item in raw:
        assert set(runner.REQUIRED) <= set(item) <= set(runner.REQUIRED + runner.OPTIONAL), item.get("id")
        assert item["expected"] in ("support", "attack", "none"), item["id"]
        assert all(isinstance(item[f], str) and item[f].strip() for f in runner.REQUIRED), item["id"]


def test_ids_are_unique(cases):
    repeated = [i for i, n in Counter(c.id for c in cases).items() if n > 1]
    assert not repeated


def test_every_capability_of_the_issue_has_cases(cases):
    counts = Counter(c.capability for c in cases)
    short = {name: counts[name] for name in CAPABILITIES if counts[name] < MIN_CASES}
    assert not short, f"capabilities with fewer than {MIN_CASES} cases: {short}"


def test_labels_are_balanced(cases):
    counts = Counter(c.expected for c in cases)
    for label in ("support", "attack", "none"):
        assert counts[label] >= 0.25 * len(cases), counts


def test_paraphrase_groups_have_both_variants_with_the_same_comments(cases):
    groups: dict[str, dict[str, list]] = {}
    for case in cases:
        if case.paraphrase_group is not None:
            groups.setdefault(case.paraphrase_group, {}).setdefault(case.post_variant, []).append(case)
    assert len(groups) >= MIN_PARAPHRASE_GROUPS
    for name, variants in groups.items():
        assert set(variants) == {"a", "b"}, name
        a, b = variants["a"], variants["b"]
        assert len({c.post for c in a}) == 1 and len({c.post for c in b}) == 1, name
        assert a[0].post != b[0].post, name
        assert sorted((c.parent, c.comment, c.expected) for c in a) == sorted(
            (c.parent, c.comment, c.expected) for c in b
        ), name
        assert all(c.capability == "paraphrase" for c in a + b), name


def test_capabilities_are_what_they_say(cases):
    topics = {c.post for c in cases if c.paraphrase_group is None}
    topics |= {c.paraphrase_group for c in cases if c.paraphrase_group is not None}
    assert len(topics) >= MIN_TOPICS
    for case in cases:
        if case.capability in NONE_CAPABILITIES:
            assert case.expected == "none", case.id
        assert (case.parent is not None) == (case.capability == "reply_to_reply"), case.id
        if case.capability == "question":
            assert case.comment.rstrip().endswith("?"), case.id
        if case.capability == "long_last_paragraph":
            paragraphs = [p for p in case.comment.split("\n") if p.strip()]
            assert 3 <= len(paragraphs) <= 5, case.id
            assert 250 <= len(case.comment.split()) <= 600, case.id
            assert case.expected != "none", case.id  # the last paragraph takes a side


# -- the runner on a tiny pipeline ---------------------------------------------------------------------

THREE_CASES = """
- id: t-reply
  capability: reply_to_reply
  post: &p "we should build more bike lanes because cycling is cheap and clean ."
  parent: "i disagree ."
  comment: "that is wrong , we should build more bike lanes ."
  expected: support
- id: t-para-a
  capability: paraphrase
  paraphrase_group: g
  post_variant: a
  post: *p
  comment: &c "yes , i agree ."
  expected: support
- id: t-para-b
  capability: paraphrase
  paraphrase_group: g
  post_variant: b
  post: "the town must keep its library open since children read there ."
  comment: *c
  expected: support
"""


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("behaviour-tiny")
    _, segmenter, stance = build_pipeline_parts(folder)
    return ArgumentMiner.from_parts(segmenter, stance).save_pretrained(folder / "pipeline")


@pytest.mark.usefixtures("one_torch_thread")
def test_runner_prints_a_line_per_case_and_the_rates(checkpoint, tmp_path, capsys):
    cases_file = tmp_path / "three.yaml"
    cases_file.write_text(THREE_CASES, encoding="utf-8")
    out_json = tmp_path / "out.json"
    argv = ["--checkpoint", str(checkpoint), "--cases", str(cases_file), "--json", str(out_json)]
    code = runner.main([*argv, "--threads", "1", "--precision", "float32"])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    for case_id in ("t-reply", "t-para-a", "t-para-b"):
        (line,) = [x for x in lines if x.startswith(case_id + " ")]
        assert line.split()[-1] in ("PASS", "FAIL")
    assert any(x.split()[:1] == ["overall"] for x in lines)
    assert any(x.startswith("paraphrase flip rate: ") and "/1 " in x for x in lines)

    # The runner reports what mining each case as its own thread gives.
    record = json.loads(out_json.read_text(encoding="utf-8"))
    miner = ArgumentMiner.from_pretrained(checkpoint, precision="float32")  # as the runner was asked
    for result, case in zip(record["results"], runner.load_cases(cases_file), strict=True):
        stance = miner.mine(runner.case_thread(case)).comments[-1].stance
        assert (result["id"], result["predicted"]) == (case.id, stance.label)
        assert result["passed"] == (stance.label == case.expected)
    assert record["summary"]["overall"]["total"] == 3
    assert record["summary"]["paraphrase"]["pairs"] == 1


def test_reply_case_is_a_reply_to_the_parent():
    case = runner.Case(id="x", capability="c", post="p", comment="c", expected="none", parent="q")
    thread = runner.case_thread(case)
    assert [(c.id, c.reply_to) for c in thread.comments] == [("parent", "post"), ("comment", "parent")]
    plain = runner.case_thread(runner.Case(id="y", capability="c", post="p", comment="c", expected="none"))
    assert [(c.id, c.reply_to) for c in plain.comments] == [("comment", "post")]


GOOD = {"id": "ok-1", "capability": "question", "post": "a post .", "comment": "why ?", "expected": "none"}


def _variant(case_id: str, variant: str, post: str, comment: str = "yes .") -> dict:
    return {**GOOD, "id": case_id, "paraphrase_group": "g", "post_variant": variant, "post": post,
            "comment": comment, "expected": "support"}


@pytest.mark.parametrize(
    ("items", "where"),
    [
        ([{**GOOD, "expected": "agree"}], "case ok-1: field expected"),
        ([{k: v for k, v in GOOD.items() if k != "comment"}], "case ok-1: field comment"),
        ([{**GOOD, "post": "  "}], "case ok-1: field post"),
        ([{**GOOD, "parent": 3}], "case ok-1: field parent"),
        ([{**GOOD, "stance": "none"}], "case ok-1: field stance"),
        ([{k: v for k, v in GOOD.items() if k != "id"}], "case #1: field id"),
        ([GOOD, GOOD], "case ok-1: field id"),
        ([{**GOOD, "paraphrase_group": "g"}], "case ok-1: field post_variant"),
        ([_variant("v-a", "a", "one ."), _variant("v-c", "c", "two .")], "case v-c: field post_variant"),
        ([_variant("v-a", "a", "one .")], "case v-a: field paraphrase_group"),
        ([_variant("v-a", "a", "one ."), _variant("v-b", "b", "two .", "no .")], "field comment"),
        ([_variant("v-a", "a", "one ."), _variant("v-b", "b", "one .")], "case v-b: field post"),
        (["just a string"], "case #1: field (case)"),
    ],
)
def test_malformed_cases_file_exits_2_with_one_line(tmp_path, capsys, items, where):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(items), encoding="utf-8")
    # The cases are checked before the checkpoint is even looked at.
    code = runner.main(["--checkpoint", str(tmp_path / "no-such-checkpoint"), "--cases", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1, err
    assert str(path) in err and where in err, err


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("broken.yaml", "- id: x\n  post: [unclosed\n", "line "),
        ("top.yaml", "id: x\n", "a non-empty list of cases"),
        ("broken.jsonl", json.dumps(GOOD) + "\n{not json\n", "line 2: not valid JSON"),
        ("cases.txt", "", "unknown cases format"),
    ],
)
def test_unreadable_cases_file_exits_2_with_one_line(tmp_path, capsys, name, text, where):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code = runner.main(["--checkpoint", str(tmp_path), "--cases", str(path)])
    _, err = capsys.readouterr()
    assert code == 2 and len(err.splitlines()) == 1 and where in err and str(path) in err, err


def test_jsonl_cases_are_read_too(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + json.dumps({**GOOD, "id": "ok-2"}) + "\n", encoding="utf-8")
    assert [c.id for c in runner.load_cases(path)] == ["ok-1", "ok-2"]


def test_missing_checkpoint_exits_2(tmp_path, capsys):
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump([GOOD]), encoding="utf-8")
    code = runner.main(["--checkpoint", str(tmp_path / "absent"), "--cases", str(path)])
    _, err = capsys.readouterr()
    assert code == 2 and len(err.splitlines()) == 1 and "absent" in err


@pytest.mark.usefixtures("one_torch_thread")
def test_checkpoint_with_other_stance_labels_exits_2(checkpoint, tmp_path, capsys):
    # A RumourEval-style stance head (support / deny / query / comment) cannot be scored on these cases.
    encoder = checkpoint.parent / "encoder"  # the tiny encoder build_pipeline_parts saved
    stance = build_stance(encoder, labels=("support", "deny", "query", "comment")).save_pretrained(tmp_path / "st")
    other = ArgumentMiner.from_parts(checkpoint / "components", stance).save_pretrained(tmp_path / "pipeline")
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump([GOOD]), encoding="utf-8")
    code = runner.main(["--checkpoint", str(other), "--cases", str(path), "--threads", "1"])
    _, err = capsys.readouterr()
    assert code == 2 and len(err.splitlines()) == 1 and "stance labels" in err, err
