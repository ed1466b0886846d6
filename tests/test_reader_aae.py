"""The AAE brat reader on small invented essays written to ``tmp_path``."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from argmine.errors import CorpusFormatError, InputError
from argmine.readers.aae import read_aae
from argmine.readers.jsonl import read_jsonl, write_jsonl

TITLE = "Should towns plant more trees?"
PARAGRAPHS = [
    "Towns keep growing every year. In my view, every town should plant many more trees.",
    "First, trees cool the streets in summer. Shade lowers the heat on pavements by several degrees. "
    "Cooler streets also mean fewer people fall ill.",
    "Some say trees cost too much to maintain. Yet pruning costs far less than air conditioning.",
    "To sum up, more trees make towns better places to live.",
]
# (brat id, label, text, paragraph index 1..4) — the text is located in the essay to get offsets.
SPANS = [
    ("T1", "MajorClaim", "every town should plant many more trees", 1),
    ("T2", "Claim", "trees cool the streets in summer", 2),
    ("T3", "Premise", "Shade lowers the heat on pavements by several degrees", 2),
    ("T4", "Premise", "Cooler streets also mean fewer people fall ill", 2),
    ("T5", "Claim", "trees cost too much to maintain", 3),
    ("T6", "Premise", "pruning costs far less than air conditioning", 3),
    ("T7", "MajorClaim", "more trees make towns better places to live", 4),
]
STANCES = [("A1", "T2", "For"), ("A2", "T5", "Against")]
RELATIONS = [("R1", "supports", "T3", "T2"), ("R2", "supports", "T4", "T2"), ("R3", "attacks", "T6", "T5")]


def essay_text(title: str = TITLE, paragraphs: list[str] = PARAGRAPHS) -> str:
    return title + "\n\n" + "\n".join(paragraphs) + "\n"


def ann_text(text: str, spans=SPANS, stances=STANCES, relations=RELATIONS, *, trailing_tab: bool = True) -> str:
    lines = []
    for brat_id, label, span, _ in spans:
        start = text.index(span)
        lines.append(f"{brat_id}\t{label} {start} {start + len(span)}\t{span}")
    lines += [f"{a}\tStance {t} {v}" for a, t, v in stances]
    # The release ends relation lines with a tab; so do we.
    tab = "\t" if trailing_tab else ""
    lines += [f"{r}\t{label} Arg1:{s} Arg2:{t}{tab}" for r, label, s, t in relations]
    return "\n".join(lines) + "\n"


def write_essay(folder: Path, essay_id: str, text: str, ann: str) -> None:
    (folder / f"{essay_id}.txt").write_text(text, encoding="utf-8")
    (folder / f"{essay_id}.ann").write_text(ann, encoding="utf-8")


def make_corpus(
    root: Path, essays: dict[str, tuple[str, str]] | None = None, sets: dict[str, str] | None = None
) -> Path:
    """An AAE-shaped folder; by default essays e01..e10 (TRAIN) and e11 (TEST), all the same essay."""
    brat = root / "brat-project-final"
    brat.mkdir(parents=True)
    if essays is None:
        text = essay_text()
        essays = {f"e{i:02d}": (text, ann_text(text)) for i in range(1, 12)}
    for essay_id, (text, ann) in essays.items():
        write_essay(brat, essay_id, text, ann)
    if sets is None:
        sets = {e: ("TEST" if e == "e11" else "TRAIN") for e in essays}
    rows = ['"ID";"SET"'] + [f'"{e}";"{s}"' for e, s in sets.items()]
    (root / "train-test-split.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    return make_corpus(tmp_path / "aae")


# -- units ------------------------------------------------------------------------------


def test_essay_unit_keeps_whole_text_components_stances_and_relations(corpus: Path) -> None:
    threads = list(read_aae(corpus, unit="essay"))
    assert [t.id for t in threads] == [f"e{i:02d}" for i in range(1, 12)]
    thread = threads[0]
    assert thread.post.text == essay_text()
    assert thread.comments == ()
    labels = [c.label for c in thread.post.components]
    assert labels == ["MajorClaim", "Claim", "Premise", "Premise", "Claim", "Premise", "MajorClaim"]
    stances = {c.id: c.stance.label for c in thread.post.components if c.stance}
    assert stances == {"e01/T2": "For", "e01/T5": "Against"}
    # The trailing tab of each R line is not part of the label or the target.
    assert [(r.source, r.target, r.label) for r in thread.relations] == [
        ("e01/T3", "e01/T2", "supports"),
        ("e01/T4", "e01/T2", "supports"),
        ("e01/T6", "e01/T5", "attacks"),
    ]
    assert thread.post.components[0].attributes == {"brat_id": "T1"}
    assert thread.meta["title"] == TITLE
    assert thread.meta["set"] == "TRAIN"
    assert thread.meta["prompt"] is None  # no prompts.csv in this fixture
    assert len(thread.meta["paragraph_spans"]) == 4


def test_paragraph_unit_one_thread_per_body_paragraph_title_not_a_unit(corpus: Path) -> None:
    threads = [t for t in read_aae(corpus, unit="paragraph") if t.meta["essay_id"] == "e01"]
    assert [t.id for t in threads] == ["e01/p1", "e01/p2", "e01/p3", "e01/p4"]
    assert [t.post.text for t in threads] == PARAGRAPHS
    assert [t.meta["paragraph"] for t in threads] == [1, 2, 3, 4]
    assert all(t.meta["title"] == TITLE and t.meta["n_paragraphs"] == 4 for t in threads)
    assert [len(t.post.components) for t in threads] == [1, 3, 2, 1]
    assert [len(t.relations) for t in threads] == [0, 2, 1, 0]
    assert all(t.meta["cross_unit_relations"] == [] for t in threads)
    text = essay_text()
    for thread in threads:
        for component in thread.post.components:
            start = thread.meta["essay_offset"] + component.start
            assert text[start : start + len(component.text)] == component.text


def test_units_hold_the_same_components_and_relations(corpus: Path) -> None:
    def essay_level(unit: str) -> tuple[set, list]:
        comps, rels = set(), []
        for thread in read_aae(corpus, unit=unit):
            offset = thread.meta.get("essay_offset", 0)
            comps |= {(c.id, c.label, offset + c.start, c.stance) for c in thread.post.components}
            rels += [(r.source, r.target, r.label) for r in thread.relations]
        return comps, sorted(rels)

    assert essay_level("essay") == essay_level("paragraph")


def test_cross_paragraph_relation_is_kept_in_meta_with_a_warning(tmp_path: Path, caplog) -> None:
    text = essay_text()
    ann = ann_text(text, relations=RELATIONS + [("R4", "supports", "T2", "T1")])
    root = make_corpus(tmp_path / "aae", {"e01": (text, ann)})
    with caplog.at_level(logging.WARNING, logger="argmine.readers.aae"):
        paragraphs = list(read_aae(root))
    assert "joins paragraphs 2 and 1" in caplog.text
    p2 = paragraphs[1]
    assert p2.meta["cross_unit_relations"] == [
        {"source": "e01/T2", "target": "e01/T1", "label": "supports", "target_unit": "e01/p1"}
    ]
    assert sum(len(t.relations) for t in paragraphs) == 3
    (essay,) = read_aae(root, unit="essay")
    assert ("e01/T2", "e01/T1", "supports") in {(r.source, r.target, r.label) for r in essay.relations}


def test_component_in_title_makes_the_title_a_unit(tmp_path: Path, caplog) -> None:
    text = essay_text()
    ann = ann_text(text, spans=SPANS + [("T8", "MajorClaim", "towns plant more trees", 0)])
    root = make_corpus(tmp_path / "aae", {"e01": (text, ann)})
    with caplog.at_level(logging.WARNING, logger="argmine.readers.aae"):
        threads = list(read_aae(root))
    assert "title holds annotated components" in caplog.text
    assert threads[0].id == "e01/p0"
    assert threads[0].post.text == TITLE
    assert [c.text for c in threads[0].post.components] == ["towns plant more trees"]
    assert sum(len(t.post.components) for t in threads) == 8


def test_component_outside_every_paragraph_fails_in_paragraph_unit_only(tmp_path: Path) -> None:
    # A whitespace-only line is no paragraph; a span on it fits in no unit and must not vanish.
    text = "A title\n\nFirst paragraph here.\n   \nSecond paragraph here.\n"
    start = text.index("   ")
    ann = "T1\tPremise 9 14\tFirst\n" + f"T2\tPremise {start} {start + 3}\t   \n"
    root = make_corpus(tmp_path / "aae", {"e01": (text, ann)})
    (essay,) = read_aae(root, unit="essay")
    assert len(essay.post.components) == 2
    with pytest.raises(CorpusFormatError, match="fits in no paragraph") as error:
        list(read_aae(root, unit="paragraph"))
    assert error.value.line == 2 and "e01.ann" in str(error.value)


def test_mismatching_span_text_names_file_and_line(tmp_path: Path) -> None:
    text = essay_text()
    lines = ann_text(text).splitlines()
    lines[2] = lines[2].replace("Shade lowers", "Shade raises")  # T3, third line
    root = make_corpus(tmp_path / "aae", {"e01": (text, "\n".join(lines) + "\n")})
    with pytest.raises(CorpusFormatError) as error:
        list(read_aae(root, unit="essay"))
    assert error.value.source is not None and error.value.source.endswith("e01.ann")
    assert error.value.line == 3
    assert "e01.ann:3" in str(error.value) and "T3" in str(error.value)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("T9\tStatement 0 5\tShoul", "label 'Statement'"),
        ("A9\tStance T3 For", "only Claims"),
        ("A9\tStance T2 Maybe", "Stance T<n> For|Against"),
        ("R9\tsupports Arg1:T3 Arg2:T99\t", "unknown component T99"),
        ("R9\tcontradicts Arg1:T3 Arg2:T2", "relation label 'contradicts'"),
        ("T2\tClaim 0 5\tShoul", "id used twice"),
        ("E1\tEvent:T2", "only T, A and R"),
        ("T9\tPremise 0 5;7 9\tShoul ow", "discontinuous"),
        ("T9\tPremise 0 99999\tx", "outside the essay"),
    ],
)
def test_bad_annotation_lines_are_errors_with_their_line(tmp_path: Path, line: str, message: str) -> None:
    text = essay_text()
    ann = ann_text(text) + line + "\n"
    root = make_corpus(tmp_path / "aae", {"e01": (text, ann)})
    with pytest.raises(CorpusFormatError, match=message) as error:
        list(read_aae(root, unit="essay"))
    assert error.value.line == len(ann.splitlines())


def test_missing_txt_is_an_error(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "aae")
    (root / "brat-project-final" / "e03.txt").unlink()
    with pytest.raises(CorpusFormatError, match="e03.ann has no matching e03.txt"):
        read_aae(root)


def test_bad_arguments_fail_at_call_time(corpus: Path) -> None:
    with pytest.raises(InputError, match="unit"):
        read_aae(corpus, unit="sentence")
    with pytest.raises(InputError, match="split"):
        read_aae(corpus, split="validation")
    with pytest.raises(InputError, match="dev_fraction"):
        read_aae(corpus, dev_fraction=1.0)
    with pytest.raises(CorpusFormatError, match="no such folder"):
        read_aae(corpus / "nowhere")


# -- splits -----------------------------------------------------------------------------


def test_train_dev_are_a_seeded_split_of_train_essays(corpus: Path) -> None:
    def essays(split: str, seed: int = 13) -> set[str]:
        return {t.meta["essay_id"] for t in read_aae(corpus, split=split, seed=seed)}

    train, dev, test = essays("train"), essays("dev"), essays("test")
    assert len(dev) == 1 and not train & dev  # round(10 * 0.1) essays
    assert train | dev == {f"e{i:02d}" for i in range(1, 11)}
    assert test == {"e11"}
    assert essays("dev") == dev  # same seed, same split
    assert {frozenset(essays("dev", seed)) for seed in range(10)} != {frozenset(dev)}
    # All paragraphs of a dev essay are dev.
    assert all(t.meta["split"] == "dev" for t in read_aae(corpus, split="dev"))
    assert len(list(read_aae(corpus, split="dev"))) == 4


def test_test_split_without_test_essays_is_empty_with_a_warning(tmp_path: Path, caplog) -> None:
    text = essay_text()
    root = make_corpus(tmp_path / "aae", {"e01": (text, ann_text(text))})
    with caplog.at_level(logging.WARNING, logger="argmine.readers.aae"):
        assert list(read_aae(root, split="test")) == []
    assert "split 'test' is empty" in caplog.text


def test_splits_need_the_split_file_and_every_essay_listed(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "aae")
    (root / "train-test-split.csv").write_text('"ID";"SET"\n"e01";"TRAIN"\n', encoding="utf-8")
    assert len(list(read_aae(root, unit="essay"))) == 11  # "all" needs no split
    with pytest.raises(CorpusFormatError, match="not listed"):
        read_aae(root, split="train")
    (root / "train-test-split.csv").unlink()
    with pytest.raises(CorpusFormatError, match="needs train-test-split.csv"):
        read_aae(root, split="dev")
    assert {t.meta["split"] for t in read_aae(root)} == {None}


def test_bad_split_file_names_its_line(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "aae")
    (root / "train-test-split.csv").write_text('"ID";"SET"\n"e01";"TRAIN"\n"e02";"VALID"\n', encoding="utf-8")
    with pytest.raises(CorpusFormatError) as error:
        read_aae(root, split="train")
    assert error.value.line == 3


# -- prompts, layout, JSONL ---------------------------------------------------------------


def test_prompts_in_the_released_mac_roman_form(corpus: Path) -> None:
    rows = ["ESSAY;PROMPT", "e01.txt;Do trees help the town\u2019s people?\u00a0", '"e02.txt";"Say ""yes"" or no"']
    (corpus / "prompts.csv").write_bytes("\r".join(rows).encode("mac_roman") + b"\r")
    prompts = {t.id: t.meta["prompt"] for t in read_aae(corpus, unit="essay")}
    assert prompts["e01"] == "Do trees help the town\u2019s people?"
    assert prompts["e02"] == 'Say "yes" or no'
    assert prompts["e03"] is None


def test_prompts_in_utf8_and_unknown_encodings(corpus: Path) -> None:
    (corpus / "prompts.csv").write_text("ESSAY;PROMPT\ne01.txt;Caf\u00e9 trees?\n", encoding="utf-8")
    assert next(read_aae(corpus, unit="essay")).meta["prompt"] == "Caf\u00e9 trees?"
    (corpus / "prompts.csv").write_bytes("ESSAY;PROMPT\ne01.txt;Caf\u00e9?\n".encode("latin-1"))
    with pytest.raises(CorpusFormatError, match="UTF-8"):
        read_aae(corpus, unit="essay")


def test_brat_folder_itself_is_accepted(corpus: Path) -> None:
    direct = list(read_aae(corpus / "brat-project-final", split="test", unit="essay"))
    assert [t.id for t in direct] == ["e11"]


def test_jsonl_round_trip(corpus: Path, tmp_path: Path) -> None:
    for unit in ("essay", "paragraph"):
        threads = list(read_aae(corpus, unit=unit))
        out = tmp_path / f"{unit}.jsonl"
        assert write_jsonl(threads, out) == len(threads)
        back = list(read_jsonl(out))
        assert back == threads
        assert [t.to_dict() for t in back] == [t.to_dict() for t in threads]
