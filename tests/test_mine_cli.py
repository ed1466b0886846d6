"""``argmine mine`` end to end on a tiny pipeline checkpoint: formats, outputs, and every kind of bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tiny_models import TEXTS, build_pipeline_parts, edit_meta, mine_cli

import argmine.cli.mine as mine_module
from argmine.checkpoint import META_FILE
from argmine.cli.mine import input_format_of, output_format, run as run_mine
from argmine.pipeline import ArgumentMiner
from argmine.thread import Comment, Post, Thread

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def keep_torch_threads(monkeypatch):
    # run_mine asks for every core; in tests the tiny models run faster on one
    monkeypatch.setattr("argmine.runtime.use_cpu_threads", lambda n=None: 1)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mine-cli")
    _, segmenter, stance = build_pipeline_parts(folder)
    return ArgumentMiner.from_parts(segmenter, stance).save_pretrained(folder / "pipeline")


def one_line_error(code: int, err: str, expected: str) -> None:
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("argmine mine: error: ") and "Traceback" not in err
    assert expected in lines[0], lines[0]


def thread(i: int, comments: int = 2, *, text: str | None = None) -> Thread:
    return Thread(
        id=f"t{i}",
        post=Post(id="p", author="op", text=TEXTS[i % 4]),
        comments=[
            Comment(id=f"c{j}", author=f"u{j}", reply_to="p" if j == 0 else f"c{j - 1}",
                    text=text if text is not None else TEXTS[(i + j + 1) % 4])
            for j in range(comments)
        ],
    )


def write_jsonl(path: Path, threads: list[Thread]) -> Path:
    path.write_text("".join(json.dumps(t.to_dict()) + "\n" for t in threads), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


PAGE = """3 Comments
Ann Lee's avatar
Ann Lee
2h

{}

Expand full comment
Reply
Bo Chen's avatar
Bo Chen
1h

{}

Expand full comment
Reply
Cy Diaz's avatar
Cy Diaz
5m

{}

Expand full comment
""".format(*TEXTS[1:4])


# -- outputs --------------------------------------------------------------------------------------


def test_jsonl_in_jsonl_out_keeps_every_comment(checkpoint, tmp_path, capsys):
    threads = [thread(i, comments=i % 4) for i in range(7)]
    source = write_jsonl(tmp_path / "in.jsonl", threads)
    code, out, err = mine_cli(
        [str(source), "--checkpoint", str(checkpoint), "--output", str(tmp_path / "out.jsonl")], capsys
    )
    assert code == 0, err
    mined = read_jsonl(tmp_path / "out.jsonl")
    assert [t["id"] for t in mined] == [t.id for t in threads]
    assert [len(t["comments"]) for t in mined] == [len(t.comments) for t in threads]
    assert sum(len(t["comments"]) for t in mined) == sum(len(t.comments) for t in threads) == 9
    assert all(c["stance"]["label"] in ("support", "attack", "none") for t in mined for c in t["comments"])
    assert any(comp["label"] == "Claim" for t in mined for c in t["comments"] for comp in c["components"])
    assert "mined 7 threads (9 comments" in out and "out.jsonl (jsonl)" in out
    assert [Thread.from_dict(t).id for t in mined]  # valid threads


def test_text_page_with_post_to_html(checkpoint, tmp_path, capsys):
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    post = tmp_path / "post.txt"
    post.write_text(TEXTS[0], encoding="utf-8")
    code, out, err = mine_cli(
        [str(page), "--post", str(post), "--checkpoint", str(checkpoint), "-o", str(tmp_path / "x.html")], capsys
    )
    assert code == 0, err
    html = (tmp_path / "x.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    assert all(name in html for name in ("Ann Lee", "Bo Chen", "Cy Diaz"))
    assert html.count('<article class="msg comment"') == 3 and '<span class="badge none">' not in html
    assert "(html)" in out


def test_text_page_without_post_has_no_stance_and_says_why(checkpoint, tmp_path, capsys):
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    code, out, err = mine_cli([str(page), "--checkpoint", str(checkpoint), "--to", "text"], capsys)
    assert code == 0, err
    assert out.count(": no stance") == 3 and "note: stance not predicted" in out


def test_summary_on_stdout_shows_authors_stances_and_components(checkpoint, tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", [thread(0, comments=3)])
    code, out, err = mine_cli([str(source), "--checkpoint", str(checkpoint), "--to", "text"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "thread t0: 3 comments · " + lines[0].split(" · ", 1)[1]
    assert [line.split(" [")[0] for line in lines if line.lstrip().startswith("- u")] == ["  - u0", "    - u1", "      - u2"]
    assert any(line.strip().startswith("claim (") for line in lines)
    assert any(line.strip().startswith("premise (") for line in lines)


@pytest.mark.parametrize("precision", ["float32", "bfloat16", "auto"])
def test_precision_option(checkpoint, tmp_path, capsys, precision):
    source = write_jsonl(tmp_path / "in.jsonl", [thread(3, comments=3)])
    args = [str(source), "--checkpoint", str(checkpoint), "--precision", precision, "--to", "jsonl"]
    code, out, err = mine_cli(args, capsys)
    assert code == 0, err
    (mined,) = [json.loads(line) for line in out.splitlines()]
    assert len(mined["comments"]) == 3 and all(c["stance"] for c in mined["comments"])


def test_piped_stdout_defaults_to_jsonl(checkpoint, tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", [thread(1), thread(2)])
    code, out, err = mine_cli([str(source), "--checkpoint", str(checkpoint)], capsys)
    assert code == 0, err
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["t1", "t2"]


@pytest.mark.parametrize("suffix", [".json", ".md", ".txt"])
def test_output_format_follows_the_suffix(checkpoint, tmp_path, capsys, suffix):
    source = write_jsonl(tmp_path / "in.jsonl", [thread(1), thread(2, comments=0)])
    target = tmp_path / f"out{suffix}"
    code, _, err = mine_cli([str(source), "--checkpoint", str(checkpoint), "-o", str(target)], capsys)
    assert code == 0, err
    written = target.read_text(encoding="utf-8")
    if suffix == ".json":
        data = json.loads(written)
        assert [t["id"] for t in data] == ["t1", "t2"] and [len(t["comments"]) for t in data] == [2, 0]
    elif suffix == ".md":
        assert written.count("## Thread t") == 2 and "\n---\n" in written and "*(no comments)*" in written
    else:
        assert written.count("thread t") == 2 and "(no comments)" in written


def test_thread_without_comments_is_mined(checkpoint, tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", [thread(0, comments=0)])
    code, _, err = mine_cli([str(source), "--checkpoint", str(checkpoint), "-o", str(tmp_path / "o.jsonl")], capsys)
    assert code == 0, err
    (mined,) = read_jsonl(tmp_path / "o.jsonl")
    assert mined["comments"] == [] and [c["label"] for c in mined["post"]["components"]] == ["Claim", "Premise"]


def test_long_and_odd_comments(checkpoint, tmp_path, capsys):
    long_text = (" ".join(TEXTS) + " ") * 700
    odd = thread(0, comments=1, text=long_text[:50_000])
    extra = [Comment(id="x1", author="ü", reply_to="p", text="Ça coûte trop cher — нет. 🙅"),
             Comment(id="x2", author=None, reply_to="p", text="")]
    odd = Thread(id=odd.id, post=odd.post, comments=[*odd.comments, *extra])
    source = write_jsonl(tmp_path / "in.jsonl", [odd])
    code, _, err = mine_cli([str(source), "--checkpoint", str(checkpoint), "-o", str(tmp_path / "o.jsonl")], capsys)
    assert code == 0, err
    (mined,) = read_jsonl(tmp_path / "o.jsonl")
    assert [c["text"] for c in mined["comments"]] == [c.text for c in odd.comments]
    assert len(mined["comments"][0]["text"]) == 50_000 and len(mined["comments"][0]["components"]) > 100
    assert mined["comments"][2]["stance"] is None and mined["comments"][2]["components"] == []


# -- bad input: one line, exit 2, no file ---------------------------------------------------------


def test_empty_input_is_an_error(checkpoint, tmp_path, capsys):
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    code, _, err = mine_cli(
        [str(tmp_path / "empty.jsonl"), "--checkpoint", str(checkpoint), "-o", str(tmp_path / "o.jsonl")], capsys
    )
    one_line_error(code, err, "no threads to mine")
    assert not (tmp_path / "o.jsonl").exists()
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    code, _, err = mine_cli([str(tmp_path / "empty.txt"), "--checkpoint", str(checkpoint)], capsys)
    one_line_error(code, err, "empty comment page")


@pytest.mark.parametrize("name", ["blob.jsonl", "blob.txt"])
def test_binary_input_is_an_error(checkpoint, tmp_path, capsys, name):
    (tmp_path / name).write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    code, _, err = mine_cli([str(tmp_path / name), "--checkpoint", str(checkpoint)], capsys)
    one_line_error(code, err, name)
    assert "binary" in err


def test_a_failure_midway_leaves_no_partial_file(checkpoint, tmp_path, capsys):
    threads = [thread(i, comments=3) for i in range(150)]  # 4 messages each: several chunks of 64 threads
    lines = [json.dumps(t.to_dict()) for t in threads]
    lines.insert(140, '{"id": "broken", "post": ')  # malformed, read after the first chunks were mined
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    target.write_text("the previous result\n", encoding="utf-8")
    code, _, err = mine_cli([str(source), "--checkpoint", str(checkpoint), "-o", str(target)], capsys)
    one_line_error(code, err, "in.jsonl:141")
    assert target.read_text(encoding="utf-8") == "the previous result\n"  # untouched, not half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]  # no temporary file left


def test_bad_options(checkpoint, tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", [thread(0)])
    base = ["--checkpoint", str(checkpoint)]
    cases = [
        ([str(tmp_path / "nope.jsonl"), *base], "no such file"),
        ([str(tmp_path), *base], "is a folder: give --format"),
        ([str(source.rename(tmp_path / "in.data")), *base], "give --format"),
        ([str(tmp_path / "in.data"), "--format", "jsonl", *base, "-o", str(tmp_path / "o.xyz")], "give --to"),
        ([str(tmp_path / "in.data"), "--format", "jsonl", "--post", "A post.", *base], "takes no post option"),
        ([str(tmp_path / "in.data"), "--format", "jsonl", *base, "-o", str(tmp_path / "in.data"), "--to", "jsonl"],
         "is the input file"),
        ([str(tmp_path / "in.data"), "--format", "jsonl", *base, "--batch-size", "0"], "--batch-size"),
        ([str(tmp_path / "in.data"), "--format", "jsonl", "--post", "missing-post.txt", *base], "no such file"),
    ]
    for argv, expected in cases:
        code, _, err = mine_cli(argv, capsys)
        one_line_error(code, err, expected)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda d: shutil.rmtree(d / "components"), "missing the folder components/"),
        (lambda d: (d / META_FILE).unlink(), "not an argmine checkpoint"),
        (lambda d: edit_meta(d, argmine_version="3.0"), "written by argmine 3.0"),
        (lambda d: edit_meta(d / "stance", labels=["support", "attack"]), "stance"),  # label map vs weights
        (lambda d: edit_meta(d / "components", labels=["Claim", "Premise", "MajorClaim"],
                             **{"settings.tags": ["O", "B-Claim", "I-Claim", "B-Premise", "I-Premise", "B-MajorClaim",
                                                  "I-MajorClaim"]}), "head predicts 5 tags"),
        (lambda d: (d / "components" / "tokenizer.json").unlink(), "tokenizer.json"),
    ],
    ids=["no-components", "no-meta", "version", "stance-labels", "segmenter-labels", "no-tokenizer"],
)
def test_broken_checkpoints_are_one_line_errors(checkpoint, tmp_path, capsys, damage, expected):
    folder = tmp_path / "ckpt"
    shutil.copytree(checkpoint, folder)
    damage(folder)
    source = write_jsonl(tmp_path / "in.jsonl", [thread(0)])
    code, _, err = mine_cli([str(source), "--checkpoint", str(folder), "-o", str(tmp_path / "o.jsonl")], capsys)
    one_line_error(code, err, expected)
    assert not (tmp_path / "o.jsonl").exists()


def test_missing_default_checkpoint_says_how_to_train_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(mine_module, "DEFAULT_CHECKPOINT", tmp_path / "models" / "argmine-threads-minilm")
    source = write_jsonl(tmp_path / "in.jsonl", [thread(0)])
    code, _, err = mine_cli([str(source)], capsys)
    one_line_error(code, err, "argmine train experiment=threads_default")
    assert "argmine-threads-minilm" in err and "--checkpoint" in err


def test_default_checkpoint_is_under_the_repository():
    repo = Path(__file__).resolve().parent.parent
    assert mine_module.DEFAULT_CHECKPOINT == repo / "models" / "argmine-threads-minilm"


def test_format_inference():
    assert input_format_of(Path("a.TXT")) == "text" and input_format_of(Path("a.jsonl")) == "jsonl"
    with pytest.raises(ValueError, match="--format"):
        input_format_of(Path("a.csv"))
    assert output_format(None, None, terminal=True) == "text"
    assert output_format(None, None, terminal=False) == "jsonl"
    assert output_format(None, Path("x.HTML"), terminal=True) == "html"
    assert output_format("md", Path("x.html"), terminal=True) == "md"  # --to wins
    with pytest.raises(ValueError, match="--to"):
        output_format(None, Path("x"), terminal=False)


def test_wired_into_the_argmine_command(checkpoint, tmp_path, capsys):
    from argmine.cli import main

    source = write_jsonl(tmp_path / "in.jsonl", [thread(0)])
    assert main(["mine", str(source), "--checkpoint", str(checkpoint), "-o", str(tmp_path / "o.md")]) == 0
    assert (tmp_path / "o.md").read_text(encoding="utf-8").startswith("## Thread t0")
    assert main(["mine", str(tmp_path / "missing.jsonl"), "--checkpoint", str(checkpoint)]) == 2
    assert run_mine is not None


def test_brat_output_reads_back_as_the_same_predictions(checkpoint, tmp_path, capsys):
    from argmine.readers import read_threads

    source = write_jsonl(tmp_path / "in.jsonl", [thread(1, comments=3), thread(2)])
    code, out, err = mine_cli([str(source), "--checkpoint", str(checkpoint), "--to", "jsonl"], capsys)
    assert code == 0, err
    expected = [Thread.from_dict(json.loads(line)) for line in out.splitlines()]
    folder = tmp_path / "to-correct"
    code, out, err = mine_cli([str(source), "--checkpoint", str(checkpoint), "--to", "brat", "--output", str(folder)],
                              capsys)
    assert code == 0, err
    assert "brat files in" in out and (folder / "annotation.conf").is_file()
    back = list(read_threads("brat", folder))
    assert [t.id for t in back] == [t.id for t in expected]
    for ours, theirs in zip(back, expected):
        assert [(c.id, c.stance.label if c.stance else None) for c in ours.comments] == [
            (c.id, c.stance.label if c.stance else None) for c in theirs.comments
        ]
        spans = lambda t: [(m.id, k.start, k.end, k.label, k.stance and k.stance.label)  # noqa: E731
                           for m in t.messages() for k in m.components]
        assert spans(ours) == spans(theirs)


def test_brat_output_needs_a_folder(checkpoint, tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", [thread(1)])
    code, _, err = mine_cli([str(source), "--checkpoint", str(checkpoint), "--to", "brat"], capsys)
    assert code == 2 and "give --output FOLDER" in err
    (tmp_path / "file.txt").write_text("x")
    code, _, err = mine_cli([str(source), "--checkpoint", str(checkpoint), "--to", "brat", "--output",
                             str(tmp_path / "file.txt")], capsys)
    assert code == 2 and "is a file" in err
