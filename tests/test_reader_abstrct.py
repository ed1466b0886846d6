"""The AbstRCT reader on small invented abstracts written to ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest

from argmine.cli import main
from argmine.errors import CorpusFormatError, InputError
from argmine.readers import read_threads
from argmine.readers.abstrct import read_abstrct

# Abstracts as sentences of (token, tag); the relation file is generated from their components.
ABSTRACT_1 = [
    [("Pain", "O"), ("after", "O"), ("surgery", "O"), ("is", "O"), ("common", "O"), (".", "O")],
    [("Drug", "B-Premise"), ("X", "I-Premise"), ("cut", "I-Premise"), ("pain", "I-Premise"), ("(", "I-Premise"),
     ("p", "I-Premise"), ("<", "I-Premise"), ("0.05", "I-Premise"), (")", "I-Premise"), (".", "I-Premise")],
    [("Nausea", "B-Premise"), ("rose", "I-Premise"), ('";"', "O"), ("it", "O"), ("faded", "O"), (".", "O")],
    [("Drug", "B-Claim"), ("X", "I-Claim"), ("helps", "I-Claim"), (".", "I-Claim")],
    [("This", "O"), ("trial", "O"), ("is", "O"), ("registered", "O"), (",", "O"), ("ISRCTN1", "O"), (".", "O")],
]
ABSTRACT_2 = [
    [("Sleep", "O"), ("matters", "O"), (".", "O")],
    [("Y", "B-Premise"), ("improved", "I-Premise"), ("sleep", "I-Premise"), ("[", "I-Premise"), ("n", "I-Premise"),
     ("=", "I-Premise"), ("9", "I-Premise"), ("]", "I-Premise"), (".", "I-Premise")],
    [("Y", "B-Claim"), ("is", "I-Claim"), ("useful", "I-Claim"), (".", "I-Claim")],
]
TEXT_1 = ("Pain after surgery is common. Drug X cut pain (p < 0.05). Nausea rose; it faded. Drug X helps. "
          "This trial is registered, ISRCTN1.")
COMPONENTS_1 = ["Drug X cut pain (p < 0.05).", "Nausea rose", "Drug X helps."]
COMPONENTS_2 = ["Y improved sleep [n = 9].", "Y is useful."]
RELATIONS = {("Drug X cut pain (p<0.05).", "Drug X helps."): "Support", ("Nausea rose", "Drug X helps."): "Attack",
             ("Y improved sleep [n = 9].", "Y is useful."): "Support"}


def bio(abstracts) -> str:
    return "".join("".join(f"{t} {g}\n" for t, g in sentence) + "\n" for a in abstracts for sentence in a)


def relation_rows(groups=(COMPONENTS_1, COMPONENTS_2), relations=RELATIONS) -> str:
    lines = []
    spaced = {(a.replace(" ", ""), b.replace(" ", "")): label for (a, b), label in relations.items()}
    for texts in groups:
        for a in texts:
            for b in texts:
                if a != b:
                    label = spaced.get((a.replace(" ", ""), b.replace(" ", "")), "noRel")
                    lines.append(f"__label__{label}\t{a}\t{b}")
    return "\n".join(lines) + "\n"


def make_corpus(root: Path, *, train: str | None = None, relations: str | None = None, dev: bool = True) -> Path:
    components = root / "EN" / "argument_components" / "original_data"
    relation_dir = root / "EN" / "argument_relations"
    components.mkdir(parents=True, exist_ok=True)
    relation_dir.mkdir(parents=True, exist_ok=True)
    (components / "neoplasm_train.tsv").write_text(train or bio([ABSTRACT_1, ABSTRACT_2]), encoding="utf-8")
    (relation_dir / "neoplasm_relations_train.tsv").write_text(relations or relation_rows(), encoding="utf-8")
    if dev:
        (components / "neoplasm_dev.tsv").write_text(bio([ABSTRACT_2]), encoding="utf-8")
        (relation_dir / "neoplasm_relations_dev.tsv").write_text(relation_rows([COMPONENTS_2]), encoding="utf-8")
    return root


def test_abstracts_text_offsets_and_relations(tmp_path):
    first, second = read_abstrct(make_corpus(tmp_path), split="train")
    assert first.post.text == TEXT_1
    assert [c.text for c in first.post.components] == COMPONENTS_1
    assert [c.label for c in first.post.components] == ["Premise", "Premise", "Claim"]
    for thread in (first, second):
        assert all(thread.post.text[c.start : c.end] == c.text for c in thread.post.components)
    # The registration sentence closes abstract 1; the component-free opening sentence opens abstract 2.
    assert second.post.text == "Sleep matters. Y improved sleep [n = 9]. Y is useful."
    assert [(r.source, r.target, r.label) for r in first.relations] == [
        ("neoplasm_train_001/c1", "neoplasm_train_001/c3", "Support"),
        ("neoplasm_train_001/c2", "neoplasm_train_001/c3", "Attack"),
    ]
    assert first.meta["sentence_spans"][1] == [30, 57] and first.meta["split"] == "train"
    assert first.meta["repaired"] == {'quoted ";" tokens read as ;': 1}
    assert first.meta["bio_lines"] == [1, 37]


def test_release_splits_and_no_seed(tmp_path):
    root = make_corpus(tmp_path)
    assert [t.id for t in read_threads("abstrct", root, split="dev")] == ["neoplasm_dev_001"]
    assert len(list(read_threads("abstrct", root))) == 3
    assert len(list(read_abstrct(root / "EN", split="train"))) == 2
    with pytest.raises(CorpusFormatError, match="split 'test' needs neoplasm_test.tsv"):
        read_abstrct(root, split="test")
    with pytest.raises(InputError, match="takes no seed option"):
        read_threads("abstrct", root, seed=13)


def test_one_o_token_inside_a_span_is_bridged_and_counted(tmp_path, caplog):
    gap = [[("Z", "B-Claim"), ("works", "I-Claim"), (")", "O"), ("well", "I-Claim"), (".", "I-Claim")]]
    root = make_corpus(tmp_path, train=bio([gap]), relations="\n", dev=False)  # one component: no pairs
    (thread,) = read_abstrct(root)
    assert [c.text for c in thread.post.components] == ["Z works) well."]
    assert thread.meta["repaired"] == {"BIO gaps of one O token bridged": 1}
    assert "bridged" in caplog.text


def test_near_miss_relation_text_is_matched_and_counted(tmp_path):
    relations = relation_rows().replace("Y improved sleep [n = 9].", "Y improved sleep [n = 0.9].")
    first, second = read_abstrct(make_corpus(tmp_path, relations=relations), split="train")
    assert second.meta["repaired"] == {"relation texts matched by similarity": 1}
    assert [r.label for r in second.relations] == ["Support"]


BAD = {
    "I- after O": (bio([[[("Pain", "O"), ("hurts", "I-Claim")]]]), None, "neoplasm_train.tsv", 2,
                   "tag I-Claim after O: a span must begin with B-Claim"),
    "I- at sentence start": (bio([ABSTRACT_1[:1], [[("Pain", "I-Premise")]]]), None, "neoplasm_train.tsv", 8,
                             "tag I-Premise at the start of a sentence"),
    "I- continues another label": (bio([[[("A", "B-Claim"), ("b", "I-Premise")]]]), None, "neoplasm_train.tsv", 2,
                                   "tag I-Premise after B-Claim"),
    "unknown tag": (bio([[[("Pain", "B-Evidence")]]]), None, "neoplasm_train.tsv", 1, "tag 'B-Evidence' is not one of"),
    "one field": ("Pain\n", None, "neoplasm_train.tsv", 1, "expected 'TOKEN TAG'"),
    "unknown relation label": (None, "__label__Rebut\tA\tB\n", "neoplasm_relations_train.tsv", 1,
                               "relation label '__label__Rebut' is not one of"),
    "two relation fields": (None, "__label__noRel\tA\n", "neoplasm_relations_train.tsv", 1,
                            "expected 3 tab-separated fields"),
    "abstract split by another": (
        bio([ABSTRACT_1[:2], ABSTRACT_2[1:2], ABSTRACT_1[2:4]]),
        relation_rows([COMPONENTS_1, COMPONENTS_2[:1] + ["Unrelated text here."]]),
        "neoplasm_train.tsv", 29, "belongs to the abstract of line 8",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_located_error(case, tmp_path):
    train, relations, file, line, message = BAD[case]
    root = make_corpus(tmp_path, train=train, relations=relations, dev=False)
    with pytest.raises(CorpusFormatError) as caught:
        list(read_abstrct(root))
    assert message in str(caught.value)
    assert Path(caught.value.source).name == file and caught.value.line == line


def test_cli_stats_and_exit_2(tmp_path, capsys):
    root = make_corpus(tmp_path)
    assert main(["stats", "--format", "abstrct", str(root)]) == 0
    out = capsys.readouterr().out
    assert "relations          4  (Attack 1, Support 3)" in out and "repaired" in out
    (root / "EN" / "argument_components" / "original_data" / "neoplasm_dev.tsv").write_text("a O\nb I-Claim\n")
    assert main(["stats", "--format", "abstrct", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "neoplasm_dev.tsv:2: tag I-Claim after O" in err


def test_relation_text_that_is_no_component_is_skipped_and_counted(tmp_path, caplog):
    extra = "__label__Support\tGhost text.\tDrug X helps.\n__label__noRel\tDrug X helps.\tGhost text.\n"
    first, _ = read_abstrct(make_corpus(tmp_path, relations=relation_rows() + extra), split="train")
    assert first.meta["skipped"] == {"relations to a text the BIO file tags as no component": 1}
    assert len(first.relations) == 2 and "is no component" in caplog.text


def test_wrong_relation_file_is_an_error(tmp_path):
    wrong = relation_rows([["Alpha beta gamma.", "Delta epsilon."], ["Zeta eta.", "Theta iota."]], {})
    with pytest.raises(CorpusFormatError, match="is it that file's relation file"):
        list(read_abstrct(make_corpus(tmp_path, relations=wrong, dev=False)))
