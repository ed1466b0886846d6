"""Unit tests of the CMV modes reader on small brat file sets written here (invented text)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from argmine.errors import CorpusFormatError, InputError
from argmine.readers.cmv import locate_span, read_cmv
from argmine.readers.jsonl import read_jsonl, write_jsonl
from argmine.thread import Comment

TITLE = "CMV: Café culture is overrated."
OP_BODY = "I think “third places” are mostly marketing.\nCoffee at home costs less, façade aside."
REPLY = "You’re ignoring the social side. People meet there, naïve or not. Nobody meets friends in a kitchen."
ANSWER = "Fair point about meeting people. ∆"


@dataclass
class Span:
    """One brat T line: ``where`` is 0 for the post (title + body), i for the i-th reply."""

    tid: str
    label: str
    where: int
    text: str
    offsets: str = "chars"  # "chars", "bytes" (UTF-8 byte offsets) or "space" (stray leading space)
    attributes: dict[str, str] = field(default_factory=dict)


def byte_len(text: str) -> int:
    return len(text.encode("utf-8"))


def write_branch(
    root: Path,
    name: str,
    *,
    op: tuple[str, str] = ("op1abc", "alice"),
    title: str = TITLE,
    body: str = OP_BODY,
    replies: list[tuple[str, str, str]] | None = None,
    spans: list[Span] | None = None,
    relations: Sequence[tuple[str, str, str]] = (),
    linked: Sequence[Sequence[str]] = (),
    delta: str = "Yes",
    trailer: str = "\n",
) -> Path:
    """Write ``name``.{txt,ann,metadata} the way the corpus lays them out; returns the .ann path.

    The .txt is title, blank line, OP body, then each reply after two blank lines. Metadata
    offsets are UTF-8 byte offsets whose boundaries sit on the separating newlines, with the
    title range overlapping the OP body range by one character, as in the released files.
    """
    replies = [("rep1xy", "bob_r", REPLY), ("rep2xy", "alice", ANSWER)] if replies is None else replies
    spans = [] if spans is None else spans
    text = title + "\n\n" + body
    starts = [0]  # character offset of each message's first character
    for _, _, reply in replies:
        text += "\n\n\n"
        starts.append(len(text))
        text += reply
    text += trailer

    # Byte boundaries: a message range ends on the newline after its text (the next begins there).
    title_end = byte_len(title) + 1
    bounds = [byte_len(title)]
    for start in starts[1:]:
        bounds.append(byte_len(text[: start - 2]))
    bounds.append(byte_len(text[: len(text) - len(trailer)]))  # the corpus's last range stops before the final newline

    metadata = [f"Title 0 {title_end} ", "Source http://www.reddit.com/r/changemyview/comments/op1abc/fake/ "]
    authors = [op] + [(rid, author) for rid, author, _ in replies]
    for (rid, author), start, end in zip(authors, bounds[:-1], bounds[1:], strict=True):
        metadata.append(f"Content {rid} {author} {start} {end} ")

    raw: dict[str, tuple[int, int]] = {}
    ann_lines = []
    attribute_number = 0
    for span in spans:
        start = text.index(span.text, starts[span.where])
        end = start + len(span.text)
        written = span.text
        if span.offsets == "bytes":
            start, end = byte_len(text[:start]), byte_len(text[:end])
        elif span.offsets == "space":
            written, start = " " + span.text, start - 1  # covers the preceding whitespace character
            if start < 0:  # at the very start, brat's extra character is the one after the span
                start, end = 0, end + 1
        raw[span.tid] = (start, end)
        ann_lines.append(f"{span.tid}\t{span.label} {start} {end}\t{written}")
        for attribute, value in span.attributes.items():
            attribute_number += 1
            ann_lines.append(f"A{attribute_number}\t{attribute} {span.tid} {value}")
    for number, (label, source, target) in enumerate(relations, start=1):
        ann_lines.append(f"R{number}\t{label} Arg1:{source} Arg2:{target}")
    for group in linked:
        metadata.append("Linked Premise " + " ".join(f"{raw[t][0]} {raw[t][1]}" for t in group) + " ")
    metadata.append(f"Delta {delta}")

    folder = root / name.split("/")[0]
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / name.split("/")[1]
    stem.with_suffix(".txt").write_text(text, encoding="utf-8")
    stem.with_suffix(".ann").write_text("\n".join(ann_lines) + "\n", encoding="utf-8")
    stem.with_suffix(".metadata").write_text("\n".join(metadata) + "\n", encoding="utf-8")
    return stem.with_suffix(".ann")


SPANS = [
    Span("T1", "main_claim", 0, TITLE, "space", {"Type1": "interpretation"}),
    Span("T2", "claim", 0, "“third places” are mostly marketing", "bytes", {"Type2": "evaluation_rational"}),
    Span("T3", "premise", 0, "Coffee at home costs less, façade aside.", "chars", {"Type3": "logos"}),
    Span("T4", "claim", 1, "You’re ignoring the social side.", "chars", {"Type2": "disagreement"}),
    Span("T5", "premise", 1, "People meet there, naïve or not.", "bytes", {"Type3": "pathos"}),
    Span("T6", "premise", 1, "Nobody meets friends in a kitchen.", "bytes", {"Type3": "logos_pathos"}),
    Span("T7", "claim", 2, "Fair point about meeting people.", "chars", {"Type2": "agreement"}),
]
RELATIONS = [
    ("agreement", "T2", "T1"),
    ("support", "T3", "T2"),
    ("rebuttal", "T4", "T1"),
    ("support", "T5", "T4"),
    ("support", "T6", "T4"),
    ("understand", "T7", "T4"),
]


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    write_branch(tmp_path, "positive/0", spans=SPANS, relations=RELATIONS, linked=[["T5", "T6"]])
    write_branch(
        tmp_path,
        "negative/3",
        replies=[("rep9zz", "carol", "Home coffee is bland; “convenience” isn’t everything.")],
        spans=[SPANS[0], Span("T2", "claim", 1, "Home coffee is bland", "chars")],
        relations=[("rebuttal", "T2", "T1")],
    )
    return tmp_path


# -- structure --------------------------------------------------------------------


def test_one_thread_per_file_with_post_and_reply_chain(corpus: Path) -> None:
    threads = list(read_cmv(corpus))
    assert [t.id for t in threads] == ["positive/0", "negative/3"]
    thread = threads[0]
    assert thread.post.id == "op1abc"
    assert thread.post.author == "alice"
    assert thread.post.text == TITLE + "\n\n" + OP_BODY  # title + body, whitespace around stripped
    expected = [("rep1xy", "bob_r", REPLY), ("rep2xy", "alice", ANSWER)]
    assert [(c.id, c.author, c.text) for c in thread.comments] == expected
    assert all(isinstance(c, Comment) for c in thread.comments)
    assert [c.reply_to for c in thread.comments] == ["op1abc", "rep1xy"]
    assert thread.depth(thread.comments[1]) == 2


def test_meta_records_source_delta_file_op_and_links(corpus: Path) -> None:
    positive, negative = read_cmv(corpus)
    assert positive.meta["source_url"] == "http://www.reddit.com/r/changemyview/comments/op1abc/fake/"
    assert positive.meta["file"] == "positive/0.ann"
    assert positive.meta["op_id"] == negative.meta["op_id"] == "op1abc"
    # The branch's delta comes from the folder; the metadata line (always "Yes" in the corpus) is kept apart.
    assert (positive.meta["delta"], negative.meta["delta"]) == (True, False)
    assert negative.meta["metadata_delta"] is True
    assert positive.meta["linked_premises"] == [["T5", "T6"]]
    assert negative.meta["linked_premises"] == []


def test_delta_no_in_metadata_is_read(tmp_path: Path) -> None:
    write_branch(tmp_path, "positive/0", delta="No")
    write_branch(tmp_path, "negative/0")
    assert [t.meta["metadata_delta"] for t in read_cmv(tmp_path)] == [False, True]


# -- spans and offset repair ------------------------------------------------------------


def test_components_recover_annotated_text_in_their_message(corpus: Path) -> None:
    thread = next(read_cmv(corpus))
    found = {c.id: (m.id, c.text) for m, c in thread.components()}
    assert found == {
        "T1": ("op1abc", TITLE),
        "T2": ("op1abc", "“third places” are mostly marketing"),
        "T3": ("op1abc", "Coffee at home costs less, façade aside."),
        "T4": ("rep1xy", "You’re ignoring the social side."),
        "T5": ("rep1xy", "People meet there, naïve or not."),
        "T6": ("rep1xy", "Nobody meets friends in a kitchen."),
        "T7": ("rep2xy", "Fair point about meeting people."),
    }
    title = thread.post.components[0]
    assert (title.start, title.end) == (0, len(TITLE))
    reply = thread.comments[0]
    assert [(c.start, c.end) for c in reply.components] == [(0, 32), (33, 65), (66, 100)]


def test_repaired_offsets_are_counted(corpus: Path) -> None:
    positive, negative = read_cmv(corpus)
    # T1 (stray space) and T2, T5, T6 (byte offsets after non-ASCII characters); T3, T4, T7 are exact.
    assert positive.meta["offsets_repaired"] == 4
    assert negative.meta["offsets_repaired"] == 1


def test_byte_offsets_in_an_ascii_prefix_need_no_repair(tmp_path: Path) -> None:
    # Byte and character offsets agree before the first non-ASCII character.
    title = "CMV: plain title"
    write_branch(tmp_path, "positive/0", title=title, spans=[Span("T1", "main_claim", 0, title, "bytes")])
    write_branch(tmp_path, "negative/0")
    assert next(read_cmv(tmp_path)).meta["offsets_repaired"] == 0


def test_labels_attributes_and_relations_are_kept(corpus: Path) -> None:
    thread = next(read_cmv(corpus))
    components = {c.id: c for _, c in thread.components()}
    assert {i: c.label for i, c in components.items()} == {span.tid: span.label for span in SPANS}
    assert {c.label for c in components.values()} == {"main_claim", "claim", "premise"}
    assert components["T1"].attributes == {"Type1": "interpretation"}
    assert components["T5"].attributes == {"Type3": "pathos"}
    assert [(r.label, r.source, r.target) for r in thread.relations] == RELATIONS


def test_jsonl_round_trip_gives_equal_threads(corpus: Path, tmp_path: Path) -> None:
    threads = list(read_cmv(corpus))
    out = tmp_path / "out" / "cmv.jsonl"
    assert write_jsonl(threads, out) == 2
    again = list(read_jsonl(out))
    assert again == threads
    assert [t.meta for t in again] == [t.meta for t in threads]
    assert [c.attributes for t in again for _, c in t.components()] == [
        c.attributes for t in threads for _, c in t.components()
    ]


# -- locate_span -----------------------------------------------------------------------------


TEXT = "Déjà vu: “quoted” words. Plain words. Plain words again."


@pytest.mark.parametrize(
    ("start", "end", "span", "expected"),
    [
        (9, 17, "“quoted”", (9, 17, "exact")),
        (11, 23, "“quoted”", (9, 17, "bytes")),  # é and à take 2 bytes each, “ and ” 3 each
        (25, 38, " Plain words.", (25, 37, "whitespace")),  # stray space, offsets cover the space after
        (31, 43, "Plain words.", (25, 37, "bytes")),
        (30, 42, "Plain words.", (25, 37, "search")),  # neither reading fits: nearest occurrence
        (55, 60, "again.", (50, 56, "search")),  # end beyond the text
    ],
)
def test_locate_span(start: int, end: int, span: str, expected: tuple[int, int, str]) -> None:
    assert locate_span(TEXT, start, end, span) == expected
    assert TEXT[expected[0] : expected[1]] == span.strip()


def test_locate_span_refuses_what_it_cannot_place() -> None:
    with pytest.raises(CorpusFormatError, match="not within"):
        locate_span(TEXT, 0, 5, "absent words")
    with pytest.raises(CorpusFormatError, match="equally near"):
        locate_span("ab xx ab", 3, 5, "ab")
    with pytest.raises(CorpusFormatError, match="whitespace"):
        locate_span(TEXT, 0, 2, "  ")


# -- bad input ------------------------------------------------------------------------------


def test_unlocatable_span_names_file_line_and_id(tmp_path: Path) -> None:
    ann = write_branch(tmp_path, "positive/0", spans=SPANS[:3])
    write_branch(tmp_path, "negative/0")
    lines = ann.read_text(encoding="utf-8").split("\n")
    lines[4] = lines[4].replace("Coffee at home", "Tea in the garden")  # T3's line
    ann.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CorpusFormatError) as error:
        list(read_cmv(tmp_path))
    assert error.value.source == str(ann)
    assert error.value.line == 5
    assert "T3" in str(error.value)


def test_span_across_a_message_boundary_is_an_error(tmp_path: Path) -> None:
    ann = write_branch(tmp_path, "positive/0")
    write_branch(tmp_path, "negative/0")
    text = ann.with_suffix(".txt").read_text(encoding="utf-8")
    # Move the OP/reply boundary back to the space before "façade", then annotate across it.
    metadata = ann.with_suffix(".metadata")
    lines = metadata.read_text(encoding="utf-8").split("\n")
    boundary = str(byte_len(text[: text.index(" façade")]))
    op_line, reply_line = lines[2].split(), lines[3].split()
    op_line[4], reply_line[3] = boundary, boundary
    lines[2], lines[3] = " ".join(op_line), " ".join(reply_line)
    metadata.write_text("\n".join(lines), encoding="utf-8")
    start = text.index("less, façade")
    ann.write_text(f"T1\tclaim {start} {start + 12}\tless, façade\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="T1.*inside one message") as error:
        list(read_cmv(tmp_path))
    assert error.value.line == 1
    # The same span inside the (moved) reply is fine: the boundary itself was accepted.
    start = text.index("façade aside")
    ann.write_text(f"T1\tclaim {start} {start + 12}\tfaçade aside\n", encoding="utf-8")
    thread = next(read_cmv(tmp_path))
    assert thread.comments[0].text.startswith("façade aside.\n\n\nYou’re")
    assert thread.comments[0].components[0].text == "façade aside"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("R1\tsupport Arg1:T1 Arg2:T9", "unknown span T9"),
        ("A9\tType1 T9 interpretation", "unknown span T9"),
        ("T2\tclaim 0 3;5 8\tCMV Caf", "discontinuous"),
        ("#1\tAnnotatorNotes T1\tnote", "unsupported"),
        ("T1\tclaim 0 4\tCMV:", "used twice"),
    ],
)
def test_bad_ann_lines_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    ann = write_branch(tmp_path, "positive/0", spans=[SPANS[0]])
    write_branch(tmp_path, "negative/0")
    ann.write_text(ann.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=message) as error:
        list(read_cmv(tmp_path))
    assert error.value.source == str(ann)
    assert error.value.line == 3  # T1 and its attribute come first


def test_bad_metadata_line_names_the_line(tmp_path: Path) -> None:
    ann = write_branch(tmp_path, "positive/0")
    write_branch(tmp_path, "negative/0")
    metadata = ann.with_suffix(".metadata")
    lines = metadata.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].replace("alice", "alice extra")
    metadata.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="unexpected metadata line") as error:
        read_cmv(tmp_path)  # metadata is read up front, for the split
    assert (error.value.source, error.value.line) == (str(metadata), 3)


def test_missing_metadata_field_is_an_error(tmp_path: Path) -> None:
    ann = write_branch(tmp_path, "positive/0")
    write_branch(tmp_path, "negative/0")
    metadata = ann.with_suffix(".metadata")
    metadata.write_text(metadata.read_text(encoding="utf-8").replace("Delta Yes", ""), encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="no Delta line"):
        read_cmv(tmp_path)


def test_content_ranges_separated_by_text_are_an_error(tmp_path: Path) -> None:
    ann = write_branch(tmp_path, "positive/0")
    write_branch(tmp_path, "negative/0")
    metadata = ann.with_suffix(".metadata")
    lines = metadata.read_text(encoding="utf-8").split("\n")
    fields = lines[3].split()  # the first reply: move its start 10 bytes into its own text
    fields[3] = str(int(fields[3]) + 10)
    lines[3] = " ".join(fields)
    metadata.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="previous one ends") as error:
        list(read_cmv(tmp_path))
    assert error.value.line == 4


def test_unannotated_text_after_the_last_message_is_an_error(tmp_path: Path) -> None:
    write_branch(tmp_path, "positive/0", trailer="\nstray words\n")
    write_branch(tmp_path, "negative/0")
    with pytest.raises(CorpusFormatError, match="after the last Content"):
        list(read_cmv(tmp_path))


def test_component_id_equal_to_a_message_id_is_an_error(tmp_path: Path) -> None:
    write_branch(tmp_path, "positive/0", replies=[("T1", "bob_r", REPLY)], spans=[SPANS[0]])
    write_branch(tmp_path, "negative/0")
    with pytest.raises(CorpusFormatError, match="also message ids"):
        list(read_cmv(tmp_path))


def test_linked_premise_without_its_span_is_an_error(tmp_path: Path) -> None:
    ann = write_branch(tmp_path, "positive/0", spans=SPANS, linked=[["T5", "T6"]])
    write_branch(tmp_path, "negative/0")
    kept = [line for line in ann.read_text(encoding="utf-8").split("\n") if "T6" not in line]
    ann.write_text("\n".join(kept), encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="Linked Premise offsets .* match no span"):
        list(read_cmv(tmp_path))


def test_missing_folders_and_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(CorpusFormatError, match="not found"):
        read_cmv(tmp_path / "nowhere")
    (tmp_path / "positive").mkdir()
    with pytest.raises(CorpusFormatError, match="'negative'"):
        read_cmv(tmp_path)
    (tmp_path / "negative").mkdir()
    with pytest.raises(CorpusFormatError, match="no .ann files"):
        read_cmv(tmp_path)
    ann = write_branch(tmp_path, "positive/0")
    ann.with_suffix(".metadata").unlink()
    with pytest.raises(CorpusFormatError, match="no .metadata") as error:
        read_cmv(tmp_path)
    assert error.value.source == str(ann)


# -- splits -----------------------------------------------------------------------------------


def write_many(root: Path, n_ops: int) -> None:
    for i in range(n_ops):
        op = (f"op{i:03d}", "alice")
        write_branch(root, f"positive/{i}", op=op, spans=[SPANS[0]])
        write_branch(root, f"negative/{2 * i}", op=op)
        write_branch(root, f"negative/{2 * i + 1}", op=op)


def test_splits_partition_threads_and_keep_each_op_on_one_side(tmp_path: Path) -> None:
    write_many(tmp_path, 20)
    everything = {t.id for t in read_cmv(tmp_path)}
    sides = {split: list(read_cmv(tmp_path, split=split)) for split in ("train", "dev", "test")}
    ids = [t.id for threads in sides.values() for t in threads]
    assert sorted(ids) == sorted(everything) and len(everything) == 60
    ops = {split: {t.meta["op_id"] for t in threads} for split, threads in sides.items()}
    assert not ops["train"] & ops["dev"] and not ops["train"] & ops["test"] and not ops["dev"] & ops["test"]
    assert (len(ops["train"]), len(ops["dev"]), len(ops["test"])) == (14, 3, 3)
    assert all(len(threads) == 3 * len(ops[split]) for split, threads in sides.items())


def test_splits_depend_on_the_seed(tmp_path: Path) -> None:
    write_many(tmp_path, 20)
    dev = {seed: {t.meta["op_id"] for t in read_cmv(tmp_path, split="dev", seed=seed)} for seed in (1, 2, 13)}
    assert dev[13] == {t.meta["op_id"] for t in read_cmv(tmp_path, split="dev")}
    assert len({frozenset(ops) for ops in dev.values()}) > 1


def test_bad_split_arguments_raise_before_iteration(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown split 'validation'"):
        read_cmv(tmp_path, split="validation")
    with pytest.raises(InputError, match="dev_fraction"):
        read_cmv(tmp_path, dev_fraction=1.5)
    with pytest.raises(InputError, match="below 1"):
        read_cmv(tmp_path, dev_fraction=0.5, test_fraction=0.5)
