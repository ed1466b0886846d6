"""The command line: convert and stats, and one clear error line for every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from argmine.cli import main
from argmine.readers.jsonl import read_jsonl

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "experiments" / "threads" / "market-comments.txt"
POST = REPO / "experiments" / "threads" / "market-post.txt"

BRAT_TXT = "Schools should start later. Teenagers sleep badly before eight."
BRAT_ANN = "T1\tClaim 0 27\tSchools should start later.\nT2\tPremise 28 63\tTeenagers sleep badly before eight.\nR1\tsupports Arg1:T2 Arg2:T1\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_convert_text_page_then_jsonl_back_is_lossless(tmp_path, capsys):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    code, out, _ = run(capsys, "convert", "--format", "text", str(PAGE), "--post", str(POST), str(first))
    assert code == 0 and "wrote 1 threads (7 messages" in out
    assert run(capsys, "convert", "--format", "jsonl", str(first), str(second))[0] == 0
    assert first.read_bytes() == second.read_bytes()
    (thread,) = read_jsonl(second)
    assert thread.post.text.startswith("Our town should turn")
    assert [c.author for c in thread.comments][:2] == ["Priya Raman", "Tom Okafor"]


def test_post_given_as_text(tmp_path, capsys):
    out_file = tmp_path / "t.jsonl"
    assert run(capsys, "convert", "-f", "text", str(PAGE), "--post", "Markets are good.", str(out_file))[0] == 0
    (thread,) = read_jsonl(out_file)
    assert thread.post.text == "Markets are good."


def test_stats_json(tmp_path, capsys):
    (tmp_path / "doc.txt").write_text(BRAT_TXT, encoding="utf-8")
    (tmp_path / "doc.ann").write_text(BRAT_ANN, encoding="utf-8")
    code, out, _ = run(capsys, "stats", "--format", "brat", str(tmp_path), "--json")
    stats = json.loads(out)
    assert code == 0
    assert stats["threads"] == 1 and stats["components"] == {"Claim": 1, "Premise": 1}
    assert stats["relations"] == {"supports": 1}


def _bad_inputs(tmp: Path) -> dict[str, tuple[list[str], str]]:
    good = {"id": "t", "post": {"id": "p", "author": None, "text": "abc", "components": []}, "comments": []}
    (tmp / "malformed.jsonl").write_text(json.dumps(good) + "\n{\"id\": \n", encoding="utf-8")
    bad_offset = json.loads(json.dumps(good))
    bad_offset["post"]["components"] = [{"id": "k", "start": 1, "end": 9, "label": "Claim", "text": "bc"}]
    (tmp / "offset.jsonl").write_text(json.dumps(bad_offset) + "\n", encoding="utf-8")
    (tmp / "latin1.jsonl").write_bytes(json.dumps(good).replace("abc", "caf\u00e9").encode("latin-1") + b"\n")
    (tmp / "page.txt").write_bytes("Ren\u00e9e's avatar\n\nBonjour \u00e0 tous\n".encode("latin-1"))
    (tmp / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")
    brat = tmp / "brat"
    brat.mkdir()
    (brat / "doc.txt").write_text(BRAT_TXT, encoding="utf-8")
    (brat / "doc.ann").write_text(BRAT_ANN.replace("Arg1:T2", "Arg1:T7"), encoding="utf-8")
    return {
        "malformed JSON line": (["stats", "-f", "jsonl", str(tmp / "malformed.jsonl")], "malformed.jsonl:2: malformed JSON"),
        "offset out of range": (["stats", "-f", "jsonl", str(tmp / "offset.jsonl")], "offset.jsonl:1: post.components[0].end"),
        "missing file": (["stats", "-f", "jsonl", str(tmp / "nope.jsonl")], "nope.jsonl: no such file"),
        "wrong encoding (jsonl)": (["stats", "-f", "jsonl", str(tmp / "latin1.jsonl")], "latin1.jsonl:1: not valid UTF-8"),
        "wrong encoding (page)": (["stats", "-f", "text", str(tmp / "page.txt")], "page.txt:1: not valid UTF-8"),
        "binary file": (["stats", "-f", "text", str(tmp / "binary.txt")], "binary.txt: looks like a binary file"),
        "missing span in .ann": (["stats", "-f", "brat", str(brat)], "doc.ann:3"),
        "option a format does not take": (["stats", "-f", "jsonl", str(tmp / "offset.jsonl"), "--post", "x"], "takes no post"),
        "missing --post file": (["stats", "-f", "text", str(PAGE), "--post", "post.txt"], "--post post.txt: no such file"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "malformed JSON line",
        "offset out of range",
        "missing file",
        "wrong encoding (jsonl)",
        "wrong encoding (page)",
        "binary file",
        "missing span in .ann",
        "option a format does not take",
        "missing --post file",
    ],
)
def test_bad_input_gives_one_error_line_and_exit_2(case, tmp_path, capsys):
    argv, expected = _bad_inputs(tmp_path)[case]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("argmine stats: error: ")
    assert expected in err
    assert "Traceback" not in err


def test_unknown_format_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["stats", "--format", "xml", "x"])
    assert caught.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "missing"),
    [
        (["train", "experiment=cmv_components"], "missing setting data.path: "),
        (["train", "experiment=threads_default"], "missing setting data_root: "),
        (["train", "experiment=threads_default", "data_root=/x", "data.extra_train.lei2022.path=???"],
         "missing setting data.extra_train.lei2022.path: "),
        (["evaluate", "checkpoint=/x", "data=aae2"], "missing setting data.path: "),
    ],
)
def test_a_required_path_left_out_is_named_not_a_traceback(argv, missing, tmp_path, capsys):
    # Hydra's own logging setup would leave handlers on capsys's stream, closed after this test.
    quiet = ["hydra/job_logging=none", "hydra/hydra_logging=none"]
    code, out, err = run(capsys, *argv, f"hydra.run.dir={tmp_path}", *quiet)
    assert code == 2
    assert f"argmine {argv[0]}: error: " in err and missing in err
    assert "Traceback" not in err
