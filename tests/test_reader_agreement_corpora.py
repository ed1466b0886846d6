"""The DEBAGREEMENT and Lei et al. (2022) readers on tiny hand-written CSV files (no corpus row is copied here)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from argmine.cli import main
from argmine.errors import CorpusFormatError, InputError
from argmine.readers import read_threads
from argmine.readers.csvpairs import decode_csv
from argmine.readers.debagreement import read_debagreement
from argmine.readers.lei2022 import read_lei2022
from argmine.thread import Thread

DEBAGREEMENT_HEADER = [
    "Unnamed: 0",
    "label",
    "msg_id_parent",
    "msg_id_child",
    "submission_id",
    "body_parent",
    "body_child",
    "submission_text",
    "subreddit",
    "author_parent",
    "author_child",
    "datetime",
]


def deb_row(label: str, parent: str, child: str, submission: str, /, **fields: str) -> dict[str, str]:
    row = {
        "Unnamed: 0": "0",
        "label": label,
        "msg_id_parent": parent,
        "msg_id_child": child,
        "submission_id": submission,
        "body_parent": f"Parent {parent} says taxes should go up.",
        "body_child": f"Reply {child}: I think so too, with a line break\ninside the quoted field.",
        "submission_text": f"Submission {submission}: should taxes go up?",
        "subreddit": "politics",
        "author_parent": f"author_{parent}",
        "author_child": f"author_{child}",
        "datetime": "01/01/2021 10:00",
    }
    row.update(fields)
    return row


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def deb_release(folder: Path) -> Path:
    """Two files; parent p1 has two replies, one of them in the other file; submission s1 holds two parents."""
    write_csv(
        folder / "dev.csv",
        DEBAGREEMENT_HEADER,
        [
            deb_row("2", "p1", "c1", "s1"),
            deb_row("0", "p2", "c2", "s1", body_child="No, that is wrong."),
            deb_row("1", "p3", "c3", "s2", body_child="[deleted]"),
        ],
    )
    write_csv(
        folder / "test.csv",
        DEBAGREEMENT_HEADER,
        [deb_row("0", "p1", "c4", "s1", body_child="Absolutely not."), deb_row("2", "p4", "c5", "s3")],
    )
    (folder / "README.md").write_text("not a CSV file of the release\n")
    return folder


def by_id(threads: list[Thread]) -> dict[str, Thread]:
    return {t.id: t for t in threads}


# -- DEBAGREEMENT: the normal case ---------------------------------------------------------------------


def test_debagreement_one_thread_per_parent_with_every_reply(tmp_path: Path) -> None:
    threads = by_id(list(read_threads("debagreement", deb_release(tmp_path / "deb"))))
    assert sorted(threads) == ["p1", "p2", "p3", "p4"]
    p1 = threads["p1"]
    assert p1.post.text == "Parent p1 says taxes should go up." and p1.post.author == "author_p1"
    replies = [(c.id, c.reply_to, c.stance.label) for c in p1.comments]
    assert replies == [("c1", "p1", "agree"), ("c4", "p1", "disagree")]
    assert p1.comments[0].text.endswith("line break\ninside the quoted field.")
    assert [(c.meta["file"], c.meta["line"]) for c in p1.comments] == [("dev.csv", 2), ("test.csv", 2)]
    assert p1.comments[0].meta["datetime"] == "01/01/2021 10:00"
    assert p1.meta["submission_id"] == "s1" and p1.meta["submission_text"] == "Submission s1: should taxes go up?"
    assert p1.meta["subreddit"] == "politics" and p1.meta["files"] == ["dev.csv", "test.csv"]
    assert p1.meta["encodings"] == {"dev.csv": "utf-8 (valid UTF-8)", "test.csv": "utf-8 (valid UTF-8)"}
    # The line break inside c1's quoted body moves the next row down one line.
    assert threads["p2"].comments[0].meta["line"] == 4
    assert threads["p2"].comments[0].stance.label == "disagree"
    assert threads["p3"].comments[0].stance.label == "neutral"


def test_debagreement_deleted_reply_is_kept_flagged_and_counted(tmp_path: Path, capsys) -> None:
    folder = deb_release(tmp_path / "deb")
    deleted = by_id(list(read_debagreement(folder)))["p3"].comments[0]
    assert deleted.text == "[deleted]" and deleted.meta["deleted"] is True and deleted.stance.label == "neutral"
    assert main(["stats", "--format", "debagreement", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "comment stances    5  (agree 2, disagree 2, neutral 1)" in out
    assert "deleted texts      1" in out
    assert "encoding           dev.csv: utf-8 (valid UTF-8)" in out


def test_debagreement_one_file(tmp_path: Path) -> None:
    folder = deb_release(tmp_path / "deb")
    threads = list(read_debagreement(folder / "test.csv"))
    assert [t.id for t in threads] == ["p1", "p4"] and [c.id for c in threads[0].comments] == ["c4"]


def test_debagreement_stance_map_of_the_data_config(tmp_path: Path) -> None:
    from omegaconf import OmegaConf

    from argmine.jobs.data import load_gold
    from argmine.cli.hydra_app import CONF_DIR

    data = OmegaConf.load(CONF_DIR / "data" / "debagreement.yaml")
    assert data.format == "debagreement" and data.seed == 13
    gold = load_gold(data.format, deb_release(tmp_path / "deb"), seed=data.seed, stance_map=dict(data.stance_map))
    labels = Counter(c.stance.label for t in gold for c in t.comments)
    assert labels == {"support": 2, "attack": 2, "none": 1}
    assert set(labels) <= set(data.stance_labels)


# -- DEBAGREEMENT: the split --------------------------------------------------------------------------


def deb_many(folder: Path, submissions: int = 40) -> Path:
    rows = []
    for s in range(submissions):
        for p in range(2):  # two parents per submission, each with two replies
            for c in range(2):
                rows.append(deb_row(str((s + p + c) % 3), f"p{s}_{p}", f"c{s}_{p}_{c}", f"s{s}"))
    half = len(rows) // 2  # the release's dev/test files cut through submissions: the split must not care
    write_csv(folder / "dev.csv", DEBAGREEMENT_HEADER, rows[: half + 1])
    write_csv(folder / "test.csv", DEBAGREEMENT_HEADER, rows[half + 1 :])
    return folder


def sides(threads: list[Thread], key) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for thread in threads:
        out.setdefault(key(thread), set()).add(thread.meta["split"])
    return out


def test_debagreement_split_by_submission_covers_every_row_once(tmp_path: Path) -> None:
    folder = deb_many(tmp_path / "deb")
    parts = {split: list(read_debagreement(folder, split=split)) for split in ("train", "dev", "test")}
    every = list(read_debagreement(folder))
    assert sum(len(t.comments) for t in every) == 160
    assert sorted(c.id for t in every for c in t.comments) == sorted(
        c.id for part in parts.values() for t in part for c in t.comments
    )
    assert all(len(found) == 1 for found in sides(every, lambda t: t.meta["submission_id"]).values())
    submissions = {split: {t.meta["submission_id"] for t in part} for split, part in parts.items()}
    assert [len(submissions[s]) for s in ("train", "dev", "test")] == [28, 6, 6]  # 70 / 15 / 15 of 40
    assert not (submissions["train"] & submissions["dev"]) and not (submissions["dev"] & submissions["test"])
    assert {t.meta["split"] for t in parts["dev"]} == {"dev"}


def test_debagreement_split_is_deterministic_by_seed(tmp_path: Path) -> None:
    folder = deb_many(tmp_path / "deb")

    def dev(seed: int) -> list[str]:
        return [t.id for t in read_threads("debagreement", folder, split="dev", seed=seed)]

    assert dev(13) == dev(13) == [t.id for t in read_debagreement(folder, split="dev")]  # 13 is the default
    assert dev(13) != dev(14)


# -- DEBAGREEMENT: bad input, one line naming file, line, row and field --------------------------------


def deb_bad(tmp_path: Path, **fields: str) -> Path:
    rows = [deb_row("2", "p1", "c1", "s1"), deb_row("0", "p2", "c2", "s1", **fields)]
    return write_csv(tmp_path / "deb" / "dev.csv", DEBAGREEMENT_HEADER, rows)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"label": "3"}, "dev.csv:4: row 2, field 'label': '3' is not one of 0 (disagree), 1 (neutral), 2 (agree)"),
        ({"label": "agree"}, "dev.csv:4: row 2, field 'label': 'agree' is not one of"),
        ({"body_child": "  "}, "dev.csv:4: row 2, field 'body_child': is empty"),
        ({"body_parent": ""}, "dev.csv:4: row 2, field 'body_parent': is empty"),
        ({"msg_id_child": ""}, "dev.csv:4: row 2, field 'msg_id_child': is empty"),
        ({"msg_id_child": "c1"}, "dev.csv:4: row 2, field 'msg_id_child': 'c1' is already at dev.csv:2"),
        ({"msg_id_child": "p2"}, "dev.csv:4: row 2, field 'msg_id_child': 'p2' is also this row's msg_id_parent"),
        ({"msg_id_parent": "p1"}, "dev.csv:4: row 2, field 'body_parent': differs for parent 'p1' from dev.csv:2"),
        (
            {"msg_id_parent": "p1", "body_parent": "Parent p1 says taxes should go up.", "submission_id": "s9"},
            "dev.csv:4: row 2, field 'submission_id': differs for parent 'p1' from dev.csv:2",
        ),
        ({"submission_text": "other"}, "dev.csv:4: row 2, field 'submission_text': differs for submission 's1'"),
    ],
)
def test_debagreement_bad_row(tmp_path: Path, fields: dict[str, str], message: str) -> None:
    path = deb_bad(tmp_path, **fields)
    with pytest.raises(CorpusFormatError) as error:
        read_debagreement(path)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert str(error.value).startswith(str(path))


def test_debagreement_missing_column(tmp_path: Path) -> None:
    header = [name for name in DEBAGREEMENT_HEADER if name != "body_child"]
    rows = [{k: v for k, v in deb_row("2", "p1", "c1", "s1").items() if k != "body_child"}]
    path = write_csv(tmp_path / "dev.csv", header, rows)
    expected = r"dev\.csv:1: header: no column 'body_child' \(found Unnamed: 0, label"
    with pytest.raises(CorpusFormatError, match=expected):
        read_debagreement(path)


def test_debagreement_short_row_and_unclosed_quote(tmp_path: Path) -> None:
    path = deb_bad(tmp_path)
    good = path.read_bytes()
    path.write_bytes(good + b"1,p9,c9\r\n")
    with pytest.raises(CorpusFormatError, match=r"dev\.csv:6: row 3: 3 fields, but the header has 12"):
        read_debagreement(path)
    path.write_bytes(good + b'0,1,p9,"c9,s1\r\n')  # an unclosed quote swallows the rest of the file
    with pytest.raises(CorpusFormatError, match=r"dev\.csv:6: row 3: 4 fields, but the header has 12"):
        read_debagreement(path)


def test_debagreement_wrong_encoding(tmp_path: Path) -> None:
    path = deb_bad(tmp_path, body_child="Caf\u00e9 \u201cquoted\u201d")
    raw = path.read_bytes().replace("Caf\u00e9 \u201cquoted\u201d".encode(), b"Caf\xe9 \x93quoted\x9d")
    path.write_bytes(raw)
    with pytest.raises(CorpusFormatError) as error:
        read_debagreement(path)
    assert str(error.value) == (
        f"{path}:4: row 2, field 'body_child': neither UTF-8 nor Windows-1252: byte 0x9d is in neither"
    )


def test_debagreement_folder_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusFormatError, match="no DEBAGREEMENT file"):
        read_debagreement(tmp_path / "empty")
    with pytest.raises(CorpusFormatError, match="no such file or folder"):
        read_debagreement(tmp_path / "nope")
    with pytest.raises(InputError, match="unknown split 'val'"):
        read_debagreement(tmp_path / "empty", split="val")
    with pytest.raises(InputError, match="takes no post"):
        read_threads("debagreement", tmp_path / "empty", post="x")


def test_debagreement_cli_bad_input_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    path = deb_bad(tmp_path, label="7")
    assert main(["stats", "--format", "debagreement", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith(f"argmine stats: error: {path}:4: row 2, field 'label': '7' is not one of")


# -- decoding ---------------------------------------------------------------------------------------------


def test_decode_utf8_with_bom_and_cp1252(tmp_path: Path) -> None:
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfa,b\r\n\xe2\x80\x99,x\r\n")
    decoded = decode_csv(bom)
    assert (decoded.encoding, decoded.text) == ("utf-8-sig", "a,b\r\n\u2019,x\r\n")
    windows = tmp_path / "windows.csv"
    windows.write_bytes(b'a,b\r\n"one\rtwo",x\r\n"don\x92t \x85 \xa3200 caf\xe9",y\r\n')
    decoded = decode_csv(windows)
    assert decoded.encoding == "cp1252" and decoded.report == (
        "cp1252 (not UTF-8 (byte 0x92, line 4); valid Windows-1252)"  # a lone \r ends a line too
    )
    assert "don\u2019t \u2026 \u00a3200 caf\u00e9" in decoded.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'a,b\r\nx,"caf\xc3\xa9 \x92"\r\n', ":2: row 1, field 'b': mixes encodings: UTF-8 sequence 0xc3 0xa9 here"),
        (b"a,b\r\nx,\x81\r\n", ":2: row 1, field 'b': neither UTF-8 nor Windows-1252: byte 0x81"),
        (b"\xef\xbb\xbfa,b\r\nx,y\r\n\x92,z\r\n", ":3: row 2, field 'a': not valid UTF-8 after a UTF-8 BOM: byte 0x92"),
        (b"a,\x9d\r\nx,y\r\n", ":1: header: neither UTF-8 nor Windows-1252: byte 0x9d"),
        (b"a,b\r\nx,y\x00\r\n", ":2: looks like a binary file"),
    ],
)
def test_decode_failures_name_line_and_field(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(CorpusFormatError) as error:
        decode_csv(path)
    assert f"{path}{message}" in str(error.value)


# -- Lei et al. 2022 ---------------------------------------------------------------------------------------

LEI_HEADER = ["quote_text", "response_text", "relation"]


def lei_release(folder: Path) -> Path:
    """Windows-1252 files as released (0x92 for ’, a lone \\r inside a quoted field); one quote answered twice."""
    write_csv(
        folder / "SubReddit-CovidVaccine.csv",
        LEI_HEADER,
        [
            {"quote_text": "Vaccines don’t work.", "response_text": "They do; the trials show it.", "relation": "0"},
            {"quote_text": "I felt fine after\rmy second dose.", "response_text": "Same here!", "relation": "2"},
            {"quote_text": "Vaccines don’t work.", "response_text": "Where did you read that?", "relation": "1"},
        ],
        encoding="cp1252",
    )
    write_csv(
        folder / "SubReddit-MaskMandate.csv",
        LEI_HEADER,
        [{"quote_text": "Masks cost £2 – cheap.", "response_text": "Agreed, café owners too.", "relation": "2"}],
        encoding="cp1252",
    )
    (folder / "README.md").write_text("not read\n")
    return folder


def test_lei_one_thread_per_quote_and_the_encoding_reported(tmp_path: Path) -> None:
    threads = list(read_threads("lei2022", lei_release(tmp_path / "lei")))
    quotes = [t.post.text for t in threads]
    assert quotes == ["Vaccines don’t work.", "I felt fine after\rmy second dose.", "Masks cost £2 – cheap."]
    first = threads[0]
    assert [(c.text, c.stance.label, c.reply_to) for c in first.comments] == [
        ("They do; the trials show it.", "disagree", first.post.id),
        ("Where did you read that?", "neutral", first.post.id),
    ]
    assert [c.meta["line"] for c in first.comments] == [2, 5]  # the lone \r of row 2 ends line 3
    assert threads[1].comments[0].stance.label == "agree" and threads[1].post.meta["line"] == 3
    assert first.id.startswith("CovidVaccine-") and first.meta["topic"] == "CovidVaccine"
    assert threads[2].meta["topic"] == "MaskMandate"
    report = "cp1252 (not UTF-8 (byte 0x92, line 2); valid Windows-1252)"
    assert first.meta["encodings"] == {"SubReddit-CovidVaccine.csv": report}
    mask = threads[2].meta["encodings"]["SubReddit-MaskMandate.csv"]
    assert mask.startswith("cp1252 (not UTF-8 (byte 0xa3, line 2)")
    assert threads[2].comments[0].text == "Agreed, café owners too."


def test_lei_utf8_file_is_read_as_utf8(tmp_path: Path) -> None:
    row = {"quote_text": "Don’t.", "response_text": "Do.", "relation": "0"}
    path = write_csv(tmp_path / "SubReddit-Other.csv", LEI_HEADER, [row])
    (thread,) = read_lei2022(path)
    assert thread.post.text == "Don’t." and thread.meta["encodings"] == {"SubReddit-Other.csv": "utf-8 (valid UTF-8)"}


def test_lei_stats_print_encodings_and_splits(tmp_path: Path, capsys) -> None:
    assert main(["stats", "--format", "lei2022", str(lei_release(tmp_path / "lei"))]) == 0
    out = capsys.readouterr().out
    assert "comment stances    4  (agree 2, disagree 1, neutral 1)" in out
    assert "encoding           SubReddit-CovidVaccine.csv: cp1252 (not UTF-8 (byte 0x92, line 2)" in out
    assert "encoding           SubReddit-MaskMandate.csv: cp1252" in out
    assert "split " in out


def lei_many(folder: Path, quotes: int = 200) -> Path:
    rows = []
    for q in range(quotes):
        for r in range(1 + q % 3):
            rows.append({"quote_text": f"Quote number {q}.", "response_text": f"Response {r}.", "relation": str(r % 3)})
    write_csv(folder / "SubReddit-A.csv", LEI_HEADER, rows)
    # The same quotes, spaced and cased differently, in a second file: they must land where their twins do.
    twins = [{"quote_text": f"  QUOTE  number {q}. ", "response_text": "Twin.", "relation": "1"} for q in range(50)]
    write_csv(folder / "SubReddit-B.csv", LEI_HEADER, twins)
    return folder


def test_lei_split_by_quote_no_quote_on_two_sides(tmp_path: Path) -> None:
    folder = lei_many(tmp_path / "lei")
    every = list(read_lei2022(folder))
    parts = {split: list(read_lei2022(folder, split=split)) for split in ("train", "dev", "test")}
    assert sum(len(t.comments) for t in every) == sum(len(t.comments) for p in parts.values() for t in p) == 449
    by_key = sides(every, lambda t: " ".join(t.post.text.split()).casefold())
    assert len(by_key) == 200 and all(len(found) == 1 for found in by_key.values())
    counts = {split: len({t.post.text for t in part if t.meta["topic"] == "A"}) for split, part in parts.items()}
    assert sum(counts.values()) == 200 and 110 <= counts["train"] <= 170
    assert counts["dev"] >= 15 and counts["test"] >= 15
    assert {t.meta["split"] for t in parts["test"]} == {"test"}


def test_lei_split_is_deterministic_by_seed(tmp_path: Path) -> None:
    from argmine.readers.lei2022 import quote_side

    folder = lei_many(tmp_path / "lei")

    def dev(seed: int) -> list[str]:
        return [t.id for t in read_threads("lei2022", folder, split="dev", seed=seed)]

    assert dev(13) == dev(13) == [t.id for t in read_lei2022(folder, split="dev")]
    assert dev(13) != dev(14)
    # A quote's side depends on the quote and the seed only, not on the other rows.
    assert quote_side("Quote number 7.", seed=13) == quote_side("quote   NUMBER 7.", seed=13)
    row = {"quote_text": "Quote number 7.", "response_text": "x", "relation": "1"}
    alone = write_csv(tmp_path / "SubReddit-One.csv", LEI_HEADER, [row])
    (thread,) = read_lei2022(alone)
    assert thread.meta["split"] == quote_side("Quote number 7.", seed=13)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"relation": "3"}, ":3: row 2, field 'relation': '3' is not one of 0 (disagree), 1 (neutral), 2 (agree)"),
        ({"relation": ""}, ":3: row 2, field 'relation': '' is not one of"),
        ({"quote_text": " "}, ":3: row 2, field 'quote_text': is empty"),
        ({"response_text": ""}, ":3: row 2, field 'response_text': is empty"),
    ],
)
def test_lei_bad_row(tmp_path: Path, fields: dict[str, str], message: str) -> None:
    rows = [
        {"quote_text": "Q.", "response_text": "R.", "relation": "2"},
        {"quote_text": "Q2.", "response_text": "R2.", "relation": "0"},
    ]
    rows[1].update(fields)
    path = write_csv(tmp_path / "SubReddit-T.csv", LEI_HEADER, rows, encoding="cp1252")
    with pytest.raises(CorpusFormatError) as error:
        read_lei2022(path)
    assert str(error.value).startswith(f"{path}{message}") and "\n" not in str(error.value)


def test_lei_missing_column_wrong_encoding_and_cli(tmp_path: Path, capsys) -> None:
    path = tmp_path / "SubReddit-T.csv"
    path.write_bytes(b"quote_text,response\r\nQ.,R.\r\n")
    expected = r"SubReddit-T\.csv:1: header: no column 'response_text', 'relation' \(found quote_text, response\)"
    with pytest.raises(CorpusFormatError, match=expected):
        read_lei2022(path)
    path.write_bytes(b'quote_text,response_text,relation\r\nQ.,R.,2\r\n"Don\x92t",\x90R,1\r\n')
    assert main(["stats", "--format", "lei2022", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err == (
        f"argmine stats: error: {path}:3: row 2, field 'response_text': "
        "neither UTF-8 nor Windows-1252: byte 0x90 is in neither\n"
    )
    (tmp_path / "SubReddit-T.csv").unlink()
    with pytest.raises(CorpusFormatError, match=r"no SubReddit-\*\.csv file in this folder"):
        read_lei2022(tmp_path)


def test_lei_stance_map_of_the_data_config(tmp_path: Path) -> None:
    from omegaconf import OmegaConf

    from argmine.jobs.data import load_gold
    from argmine.cli.hydra_app import CONF_DIR

    data = OmegaConf.load(CONF_DIR / "data" / "lei2022.yaml")
    assert data.format == "lei2022" and data.seed == 13
    gold = load_gold(data.format, lei_release(tmp_path / "lei"), seed=data.seed, stance_map=dict(data.stance_map))
    assert Counter(c.stance.label for t in gold for c in t.comments) == {"support": 2, "attack": 1, "none": 1}
