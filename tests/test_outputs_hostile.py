"""Outputs that cannot clobber, inputs that cannot slip through (issue 17, items 3, 7, 8 and 13).

Each test fails on the code before the fix: special files replaced by a regular file, a folder or a
mistyped file name taken as the post, brat folders mixed with old threads or left half-written,
stale temporary files, errors naming the temporary file, empty stance labels and NaN scores accepted,
UTF-16 reported as binary data.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from argmine.cli import main
from argmine.cli.inputs import post_argument
from argmine.errors import ArgmineError, CorpusFormatError, InvalidThreadError
from argmine.io_utils import atomic_write, read_text
from argmine.readers.brat import read_brat
from argmine.readers.brat_writer import write_brat
from argmine.readers.jsonl import read_jsonl, write_jsonl
from argmine.thread import Comment, Post, Stance, Thread


def thread(tid: str = "t1", text: str = "Cars are bad.") -> Thread:
    return Thread(id=tid, post=Post(id="op", author="a", text="Ban cars."),
                  comments=[Comment(id="c1", author="b", reply_to="op", text=text, stance=Stance("support", 0.5))])


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# -- item 3: a path that is not a regular file is written by opening it --------------------------------


def test_a_fifo_stays_a_fifo_and_receives_the_output(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader is there, so opening to write does not block
    try:
        write_jsonl([thread()], fifo)
        assert stat.S_ISFIFO(os.stat(fifo).st_mode), "the FIFO was replaced by a regular file"
        received = os.read(reader, 1 << 16)
    finally:
        os.close(reader)
    assert json.loads(received)["id"] == "t1"


def test_dash_means_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    write_jsonl([thread()], "-")
    assert json.loads(capsys.readouterr().out)["id"] == "t1"
    assert not (tmp_path / "-").exists()


def test_a_symlink_to_a_file_keeps_pointing_at_it(tmp_path: Path) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    write_jsonl([thread()], link)
    assert link.is_symlink() and json.loads(real.read_text(encoding="utf-8"))["id"] == "t1"


# -- item 13: temporary files carry the process id; stale ones go; errors name the output -------------


def test_temporary_file_names_the_process_and_stale_ones_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    stale = tmp_path / f".out.jsonl.{dead_pid()}.abcd1234.tmp"
    live = tmp_path / f".out.jsonl.{os.getppid()}.abcd1234.tmp"  # a process that still runs: not ours to delete
    other = tmp_path / f".other.jsonl.{dead_pid()}.abcd1234.tmp"  # another output's
    for path in (stale, live, other):
        path.write_text("half", encoding="utf-8")
    with atomic_write(out) as handle:
        handle.write("x\n")
        temporaries = [p.name for p in tmp_path.iterdir() if p.name.startswith(f".out.jsonl.{os.getpid()}.")]
    assert len(temporaries) == 1 and temporaries[0].endswith(".tmp")
    assert not stale.exists() and live.exists() and other.exists()
    assert out.read_text(encoding="utf-8") == "x\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, live.name, other.name])


def test_a_failed_rename_names_the_output_not_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: str, dst: str) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", src, dst)

    monkeypatch.setattr(os, "replace", refuse)
    out = tmp_path / "out.jsonl"
    with pytest.raises(OSError) as caught:
        write_jsonl([thread()], out)
    assert str(out) in str(caught.value) and ".tmp" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_names_the_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "out.jsonl"
    with pytest.raises(OSError, match="No space left on device") as caught:
        write_jsonl([thread()], out)
    assert str(out) in str(caught.value)


# -- item 7: --post given a folder or a missing file name --------------------------------------------


def test_post_argument_refuses_a_folder_and_missing_file_names(tmp_path: Path) -> None:
    with pytest.raises(ArgmineError, match="is a folder"):
        post_argument(str(tmp_path))
    for missing in (str(tmp_path / "nope"), "posts/post", "post.markdown", "~/post", str(tmp_path / "My Posts/p.txt")):
        with pytest.raises(ArgmineError, match="no such file"):
            post_argument(missing)
    for text in ("Cars should be banned.", "Brexit.", "see https://example.org/a", "v2.0", "In the U.S. it works"):
        assert post_argument(text) == text
    (tmp_path / "post.txt").write_text("  The post.\n", encoding="utf-8")
    assert post_argument(str(tmp_path / "post.txt")) == "The post."


def test_convert_with_post_folder_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.txt"
    page.write_text("alice\nI disagree with this.\n", encoding="utf-8")
    code = main(["convert", "-f", "text", str(page), "--post", str(tmp_path), str(tmp_path / "out.jsonl")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "is a folder" in err


# -- item 8: brat folders are written whole, and never mixed with old threads --------------------------


def test_brat_refuses_a_folder_that_holds_files(tmp_path: Path) -> None:
    folder = tmp_path / "brat"
    write_brat([thread("old")], folder)
    with pytest.raises(ArgmineError, match="not empty.*--force"):
        write_brat([thread("new")], folder)
    assert [t.id for t in read_brat(folder)] == ["old"]


def test_brat_replace_replaces_the_folder_whole(tmp_path: Path) -> None:
    folder = tmp_path / "brat"
    write_brat([thread("old"), thread("older")], folder)
    (folder / "notes.txt.bak").write_text("mine", encoding="utf-8")
    paths = write_brat([thread("new")], folder, replace=True)
    assert [t.id for t in read_brat(folder)] == ["new"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)
    assert [p.name for p in tmp_path.iterdir()] == ["brat"]  # no staging or old folder left beside it


def test_brat_error_part_way_leaves_the_target_as_it_was(tmp_path: Path) -> None:
    def threads():
        yield thread("first")
        raise ValueError("bad thread")

    fresh = tmp_path / "fresh"
    with pytest.raises(ValueError, match="bad thread"):
        write_brat(threads(), fresh)
    assert not fresh.exists()
    used = tmp_path / "used"
    write_brat([thread("old")], used)
    with pytest.raises(ValueError, match="bad thread"):
        write_brat(threads(), used, replace=True)
    assert [t.id for t in read_brat(used)] == ["old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["used"]


def test_convert_to_brat_needs_force_for_a_used_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.jsonl"
    write_jsonl([thread("a")], source)
    folder = tmp_path / "brat"
    (folder).mkdir()
    (folder / "ghost.txt").write_text("an old thread", encoding="utf-8")
    args = ["convert", "-f", "jsonl", str(source), str(folder), "--to", "brat"]
    assert main(args) == 2
    assert "not empty" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    assert [t.id for t in read_brat(folder)] == ["a"]


# -- item 13: empty stance labels, NaN scores, UTF-16 input, errors that name their place ----------------


@pytest.mark.parametrize("stance", ["", {"label": ""}, {"label": "support", "score": float("nan")},
                                    {"label": "support", "score": float("inf")}])
def test_empty_stance_labels_and_non_finite_scores_are_refused(tmp_path: Path, stance: object) -> None:
    data = thread().to_dict()
    data["comments"][0]["stance"] = stance
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(data) + "\n", encoding="utf-8")  # json writes NaN and Infinity, which are not JSON
    with pytest.raises(InvalidThreadError, match=r"in\.jsonl:1: comments\[0\]\.stance"):
        list(read_jsonl(path))


def test_a_nan_score_cannot_be_built_so_cannot_be_written() -> None:
    with pytest.raises(InvalidThreadError, match=r"comments\[0\]\.stance\.score"):
        thread().__class__(id="t", post=Post(id="op", author=None, text="p"), comments=[
            Comment(id="c", author=None, reply_to="op", text="x", stance=Stance("support", math.nan))])


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_and_utf32_text_with_a_byte_order_mark_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "post.txt"
    path.write_bytes("Städte, 日本 🙂\n".encode(encoding))  # Python writes the byte-order mark first
    assert read_text(path) == "Städte, 日本 🙂\n"


def test_utf16_jsonl_is_named_as_utf16(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes((json.dumps(thread().to_dict()) + "\n").encode("utf-16"))
    with pytest.raises(CorpusFormatError, match=r"in\.jsonl:1: .*UTF-16"):
        list(read_jsonl(path))


def test_a_window_without_room_for_text_names_the_setting() -> None:
    from argmine.segmenter.encoding import TokenizedText, make_windows

    tokenized = TokenizedText.from_tokens("a b", [5, 6], [(0, 1), (2, 3)], [0, 1])
    with pytest.raises(ValueError, match=r"max_length 3 .*2 tokens before .*2 after"):
        make_windows(tokenized, None, max_length=3, stride=0, prefix=(1, 2), suffix=(3, 4))
