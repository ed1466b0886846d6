"""brat reading and writing, on small documents we invent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from argmine.errors import CorpusFormatError, InputError
from argmine.readers.brat import read_brat
from argmine.readers.brat_writer import write_brat
from argmine.thread import Comment, Post, Relation, Stance, Thread, make_component

# "é" and "—" make character offsets differ from byte offsets: the reader must count characters.
TEXT = "Café owners agree — rents are too high. Cities should cap rents.\nCaps reduce supply.\n"
#       0         1         2         3         4         5         6          7
#       0123456789012345678901234567890123456789012345678901234567890123 4567890123456789


def _doc(folder: Path, name: str, text: str, ann: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.txt").write_text(text, encoding="utf-8", newline="")
    if ann is not None:
        (folder / f"{name}.ann").write_text(ann, encoding="utf-8", newline="")
    return folder / f"{name}.txt"


ANN = (
    "T1\tPremise 20 38\trents are too high\n"
    "T2\tClaim 40 63\tCities should cap rents\n"
    "T3\tPremise 0 4;20 25\tCafé rents\n"
    "T4\tPremise 65 84\tCaps reduce supply.\n"
    "A1\tStance T2 For\n"
    "A2\tVerified T1\n"
    "A3\tType T4 evidence\n"
    "R1\tsupports Arg1:T1 Arg2:T2\t\n"
    "R2\tattacks Arg1:T4 Arg2:T2\n"
    "#1\tAnnotatorNotes T2\tthe main claim\n"
    "#2\tAnnotatorNotes R2\tweak attack\n"
    "N1\tReference T3 Wiki:123\tcafe\n"
    "*\tEquiv T1 T3\n"
    "# checked twice\n"
)


def test_plain_document(tmp_path: Path) -> None:
    _doc(tmp_path, "essay1", TEXT, ANN)
    (thread,) = read_brat(tmp_path)
    assert thread.id == "essay1"
    assert thread.post.text == TEXT and thread.comments == ()
    by_id = {c.id: c for c in thread.post.components}
    assert [c.id for c in thread.post.components] == ["T1", "T2", "T3", "T4"]
    assert by_id["T1"].text == "rents are too high" and by_id["T1"].label == "Premise"
    assert by_id["T2"].stance == Stance("For") and by_id["T1"].stance is None
    assert by_id["T1"].attributes["Verified"] is True
    assert by_id["T4"].attributes["Type"] == "evidence"
    assert by_id["T2"].attributes["brat_notes"] == ["the main claim"]
    # A discontinuous span: the covering span, with its pieces kept.
    assert (by_id["T3"].start, by_id["T3"].end) == (0, 25)
    assert by_id["T3"].attributes["brat_fragments"] == [[0, 4], [20, 25]]
    assert by_id["T3"].attributes["brat_normalizations"] == [{"type": "Reference", "ref": "Wiki:123", "text": "cafe"}]
    assert thread.relations == (Relation("T1", "T2", "supports"), Relation("T4", "T2", "attacks"))
    assert thread.meta["brat_notes"] == [{"target": "R2", "text": "weak attack"}]
    assert thread.meta["brat_equivalences"] == [["Equiv", "T1", "T3"]]
    assert thread.meta["brat_comments"] == ["# checked twice"]


def test_a_span_cut_at_a_line_break_is_one_span(tmp_path: Path) -> None:
    _doc(tmp_path, "d", TEXT, "T1\tClaim 40 64;65 84\tCities should cap rents. Caps reduce supply.\n")
    (thread,) = read_brat(tmp_path)
    (component,) = thread.post.components
    assert (component.start, component.end) == (40, 84)
    assert "brat_fragments" not in component.attributes


def test_windows_line_endings_in_ann(tmp_path: Path) -> None:
    _doc(tmp_path, "d", TEXT, ANN.replace("\n", "\r\n"))
    (thread,) = read_brat(tmp_path)
    assert len(thread.post.components) == 4 and len(thread.relations) == 2


def test_txt_without_ann_is_an_unannotated_document(tmp_path: Path) -> None:
    _doc(tmp_path / "sub", "raw", "Nothing marked here.\n", None)
    (thread,) = read_brat(tmp_path)
    assert thread.id == "sub/raw"
    assert thread.post.text == "Nothing marked here.\n" and thread.post.components == ()


def test_single_file_path(tmp_path: Path) -> None:
    txt = _doc(tmp_path, "essay1", TEXT, ANN)
    assert [t.id for t in read_brat(txt)] == ["essay1"]
    assert [t.id for t in read_brat(txt.with_suffix(".ann"))] == ["essay1"]


@pytest.mark.parametrize(
    ("ann", "line", "message"),
    [
        ("T1\tClaim 40 63\tCities should cap rents\nT2\tClaim 0 4\tCafe\n", 2, "differs from the .txt"),
        ("T1\tClaim 40 200\tx\n", 1, "not a non-empty range"),
        ("T1\tClaim 5 5\t\n", 1, "not a non-empty range"),
        ("T1\tClaim forty 63\tx\n", 1, "bad span"),
        ("T1\tClaim 40 63\tCities should cap rents\nR1\tsupports Arg1:T1 Arg2:T9\n", 2, "T9 is not defined"),
        ("T1\tClaim 40 63\tCities should cap rents\nR1\tsupports T1 T1\n", 2, "expected 'LABEL Arg1:ID Arg2:ID'"),
        ("T1\tClaim 40 63\tCities should cap rents\nT1\tClaim 0 4\tCafé\n", 2, "already used on line 1"),
        ("T1\tClaim 40 63\tCities should cap rents\nE1\tClaim:T1\n", 2, "events are not supported"),
        ("T1\tClaim 40 63\tCities should cap rents\nA1\tStance T1\n", 2, "Stance needs a value"),
        ("T1\tClaim 40 63\tCities should cap rents\nA1\tStance T1 For\nA2\tStance T1 Against\n", 3, "already has"),
        ("T1\tClaim 0 4\tCafé\nT2\tClaim 40 63\tCities should cap rents\nR1\tx Arg1:T1 Arg2:T2\nA1\tNeg R1\n", 4,
         "only supported on text-bound"),
        ("just some words\n", 1, "expected 'ID<TAB>annotation'"),
        ("X1\tsomething\n", 1, "unknown annotation id"),
    ],
)
def test_bad_ann_lines_name_file_and_line(tmp_path: Path, ann: str, line: int, message: str) -> None:
    _doc(tmp_path, "bad", TEXT, ann)
    with pytest.raises(CorpusFormatError, match=message) as error:
        list(read_brat(tmp_path))
    assert error.value.source == str(tmp_path / "bad.ann")
    assert error.value.line == line


def test_ann_without_txt_and_empty_folder_are_errors(tmp_path: Path) -> None:
    with pytest.raises(CorpusFormatError, match="no brat documents"):
        list(read_brat(tmp_path))
    (tmp_path / "orphan.ann").write_text("T1\tClaim 0 1\tx\n")
    _doc(tmp_path, "fine", "x", None)
    with pytest.raises(CorpusFormatError, match="without their text file orphan.txt"):
        list(read_brat(tmp_path))
    with pytest.raises(CorpusFormatError, match="no such file"):
        read_brat(tmp_path / "nowhere")  # raised at the call, not at the first thread


def test_binary_txt_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "img.txt").write_bytes(b"\x00\x01\x02")
    with pytest.raises(CorpusFormatError, match="binary"):
        list(read_brat(tmp_path))


def test_seeded_document_split(tmp_path: Path) -> None:
    for i in range(10):
        _doc(tmp_path, f"doc{i}", f"text {i}", None)
    train = [t.id for t in read_brat(tmp_path, split="train", seed=3, dev_fraction=0.2)]
    dev = [t.id for t in read_brat(tmp_path, split="dev", seed=3, dev_fraction=0.2)]
    assert len(dev) == 2 and len(train) == 8 and not set(train) & set(dev)
    assert dev == [t.id for t in read_brat(tmp_path, split="dev", seed=3, dev_fraction=0.2)]
    assert len(list(read_brat(tmp_path, split="dev"))) == 1  # default: a tenth of the documents
    assert dev != [t.id for t in read_brat(tmp_path, split="dev", seed=4)] or True  # seeds may coincide
    with pytest.raises(InputError, match="test_fraction"):
        list(read_brat(tmp_path, split="test"))
    with pytest.raises(InputError, match="unknown split"):
        list(read_brat(tmp_path, split="validation"))


# -- writing and reading back --------------------------------------------------------------------


def _thread() -> Thread:
    post_text = "Städte sollten Mieten deckeln.\nDas schützt Familien."
    c1_text = "Caps reduce supply — builders leave.\n\nSee Berlin."
    c2_text = "But 日本 shows the opposite."
    post = Post(
        id="op", author="Ana", text=post_text, stance=Stance("support", 0.75), meta={"url": "https://example.org/p"},
        components=[
            make_component(post_text, 0, 30, "MajorClaim", "op.1"),
            # crosses a line break: written to brat as two pieces
            make_component(post_text, 15, 52, "Claim", "op.2", stance=Stance("support", 0.5), score=0.9),
        ],
    )
    c1 = Comment(
        id="c1", author="Bo", reply_to="op", text=c1_text, stance=Stance("attack", 0.25),
        meta={"brat_notes": ["checked by hand"], "age": "2d"},
        components=[
            make_component(c1_text, 0, 18, "Claim", "c1.1", stance=Stance("attack"), score=0.5,
                           attributes={"Type": "logos", "Flag": True, "weights": [1, 2], "brat_notes": ["why"]}),
            make_component(c1_text, 0, 48, "Premise", "c1.2", attributes={"brat_fragments": [[0, 18], [38, 48]]}),
        ],
    )
    c2 = Comment(id="c2", author=None, reply_to="c1", text=c2_text,
                 components=[make_component(c2_text, 4, 6, "Premise", "c2.1")])
    c3 = Comment(id="c3", author="Cy", reply_to="op", text="")
    relations = [
        Relation("c1.1", "op", "attacks", 0.8),       # to the post
        Relation("c2.1", "c1", "attacks"),            # to a comment
        Relation("c1.2", "c1.1", "supports", 0.6),    # to a component
        Relation("op.2", "op.1", "supports"),
    ]
    return Thread(id="forum/thread 7", post=post, comments=[c1, c2, c3], relations=relations,
                  meta={"source": "invented", "n": 3})


def test_round_trip_is_exact(tmp_path: Path) -> None:
    original = _thread()
    second = Thread(id="t2", post=Post(id="p", author=None, text=""), comments=[
        Comment(id="k", author="Él", reply_to="p", text="Solo un comentario.", stance=Stance("none"))])
    paths = write_brat([original, second], tmp_path)
    back = list(read_brat(tmp_path))
    by_id = {t.id: t for t in back}
    assert set(by_id) == {"forum/thread 7", "t2"}
    assert by_id["forum/thread 7"] == original
    assert by_id["forum/thread 7"].to_dict() == original.to_dict()  # scores, meta and attributes too
    assert by_id["t2"].to_dict() == second.to_dict()
    assert [p.name for p in paths] == [
        "forum_thread_7.txt", "forum_thread_7.ann", "forum_thread_7.argmine.json",
        "t2.txt", "t2.ann", "t2.argmine.json", "annotation.conf",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)  # no temporary files left


def test_written_files_are_plain_brat(tmp_path: Path) -> None:
    write_brat([_thread()], tmp_path)
    txt = (tmp_path / "forum_thread_7.txt").read_text(encoding="utf-8")
    ann = (tmp_path / "forum_thread_7.ann").read_text(encoding="utf-8").splitlines()
    assert txt.startswith("### post op (by Ana)\nStädte sollten")
    assert "### comment c2 (reply to c1)\nBut 日本" in txt
    # Read as a plain brat document (sidecar removed), every span still matches the text.
    (tmp_path / "forum_thread_7.argmine.json").unlink()
    (plain,) = read_brat(tmp_path)
    labels = sorted(c.label for c in plain.post.components)
    assert labels.count("Post") == 1 and labels.count("Comment") == 3
    # brat's own conventions: a span over a line break is two pieces, its text joined with a space.
    op2 = next(line for line in ann if line.endswith("Mieten deckeln. Das schützt Familien."))
    assert ";" in op2.split("\t")[1]
    assert "A1\tStance T1 support" in ann  # the post's stance on its anchor
    assert any(line.startswith("R") and line.endswith("Arg2:T1") for line in ann)  # a relation to the post
    assert any("\tAnnotatorNotes " in line and line.endswith("\twhy") for line in ann)
    assert any(line.split("\t")[1].startswith("Flag T") for line in ann)


def test_annotation_conf_lists_present_types(tmp_path: Path) -> None:
    write_brat([_thread()], tmp_path, entity_types=["Rebuttal"], stance_labels=["none"])
    conf = (tmp_path / "annotation.conf").read_text(encoding="utf-8")
    sections = {}
    current = None
    for line in conf.splitlines():
        if line.startswith("["):
            current = line
            sections[current] = []
        elif current and line and not line.startswith("#"):
            sections[current].append(line)
    assert sections["[entities]"] == ["Claim", "Comment", "MajorClaim", "Post", "Premise", "Rebuttal"]
    assert [line.split()[0] for line in sections["[relations]"]] == ["attacks", "supports", "<OVERLAP>"]
    assert "Arg2:Claim|Comment|MajorClaim|Post|Premise|Rebuttal" in sections["[relations]"][0]
    attributes = {line.split()[0]: line for line in sections["[attributes]"]}
    assert set(attributes) == {"Flag", "Stance", "Type"}
    assert attributes["Stance"].endswith("Value:attack|none|support")
    assert attributes["Type"].endswith("Value:logos") and "Value" not in attributes["Flag"]


def test_edits_made_in_brat_are_read(tmp_path: Path) -> None:
    write_brat([_thread()], tmp_path)
    ann_path = tmp_path / "forum_thread_7.ann"
    lines = ann_path.read_text(encoding="utf-8").splitlines()
    txt = (tmp_path / "forum_thread_7.txt").read_text(encoding="utf-8")
    claim = next(i for i, line in enumerate(lines) if line.endswith("\tCaps reduce supply"))
    lines[claim] = lines[claim].replace("\tClaim ", "\tPremise ")  # relabelled by hand
    start = txt.index("See Berlin")
    lines.append(f"T99\tClaim {start} {start + 10}\tSee Berlin")  # added by hand
    lines.append("A99\tStance T99 attack")
    ann_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    thread = next(read_brat(tmp_path))
    c1 = thread.message("c1")
    relabelled = next(c for c in c1.components if c.id == "c1.1")
    assert relabelled.label == "Premise" and relabelled.score is None  # the model's score no longer applies
    assert relabelled.attributes["weights"] == [1, 2]  # metadata kept
    added = next(c for c in c1.components if c.id == "T99")
    assert added.text == "See Berlin" and added.stance == Stance("attack")
    untouched = next(c for c in thread.post.components if c.id == "op.2")
    assert untouched.score == 0.9


def test_span_across_messages_is_an_error(tmp_path: Path) -> None:
    write_brat([_thread()], tmp_path)
    ann_path = tmp_path / "forum_thread_7.ann"
    txt = (tmp_path / "forum_thread_7.txt").read_text(encoding="utf-8")
    start, end = txt.index("Familien"), txt.index("Caps reduce")
    with ann_path.open("a", encoding="utf-8") as handle:  # a discontinuous span: end of the post + start of c1
        handle.write(f"T50\tClaim {start} {start + 9};{end} {end + 4}\tFamilien. Caps\n")
    with pytest.raises(CorpusFormatError, match="not inside one message") as error:
        list(read_brat(tmp_path))
    assert error.value.line == len(ann_path.read_text(encoding="utf-8").splitlines())


def test_changed_txt_or_bad_sidecar_is_an_error(tmp_path: Path) -> None:
    write_brat([_thread()], tmp_path)
    txt = tmp_path / "forum_thread_7.txt"
    txt.write_text(txt.read_text(encoding="utf-8") + "extra", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="has changed since it was written"):
        list(read_brat(tmp_path))
    sidecar = tmp_path / "forum_thread_7.argmine.json"
    sidecar.write_text(json.dumps({"format": "something else"}), encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="not an argmine brat sidecar"):
        list(read_brat(tmp_path))
    sidecar.write_text("{", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="malformed JSON"):
        list(read_brat(tmp_path))


def test_writer_refuses_what_brat_cannot_hold(tmp_path: Path) -> None:
    text = "A claim."
    bad_label = Thread(id="t", post=Post(id="p", author=None, text=text,
                                         components=[make_component(text, 0, 7, "Main Claim", "k")]))
    with pytest.raises(InputError, match="'Main Claim' cannot be written to brat"):
        write_brat([bad_label], tmp_path)
    bad_stance = Thread(id="t", post=Post(id="p", author=None, text=text, stance=Stance("in favour")))
    with pytest.raises(InputError, match="stance label 'in favour'"):
        write_brat([bad_stance], tmp_path)
    fine = Thread(id="t", post=Post(id="p", author=None, text=text))
    with pytest.raises(InputError, match="appears twice"):
        write_brat([fine, fine], tmp_path)
    not_json = Thread(id="u", post=Post(id="p", author=None, text=text, meta={"when": object()}))
    with pytest.raises(InputError, match="cannot be written as JSON"):
        write_brat([not_json], tmp_path / "other")
    assert not (tmp_path / "other" / "u.txt").exists()  # nothing half-written
