"""Evaluation reports (definitions, bootstrap, confusion PNGs, errors.html) and ``argmine report`` over run folders."""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import yaml

from argmine.errors import ArgmineError
from argmine.cli.report import add_arguments as add_report_arguments, run as run_report
from argmine.evaluation.bootstrap import bootstrap_intervals, thread_statistics
from argmine.evaluation.disagreements import error_rows
from argmine.evaluation.glossary import HEADLINE, describe_metric
from argmine.evaluation.report import write_evaluation_report
from argmine.evaluation.runs import find_runs, fold_extra_train, group_runs, summarize
from argmine.evaluation.spans import component_metrics, token_confusion
from argmine.evaluation.stance import stance_metrics
from argmine.thread import Comment, Post, Stance, Thread, make_component

STANCES = ["support", "attack", "none"]
LABELS = ["Claim", "Premise"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_thread(
    thread_id: str,
    stances: list[str | None],
    spans: list[tuple[int, int, str]] = (),  # type: ignore[assignment]
    *,
    text: str = "one two three four five six",
    post_text: str = "the original post",
    post_stance: str | None = None,
) -> Thread:
    """A thread whose comments all hold ``text`` with the same ``spans``, one comment per stance."""
    comments = []
    for i, stance in enumerate(stances):
        components = [
            make_component(text, start, end, label, f"{thread_id}-c{i}-k{k}", stance=Stance(stance) if stance else None)
            for k, (start, end, label) in enumerate(spans)
        ]
        comments.append(Comment(id=f"{thread_id}-c{i}", author=None, text=text, reply_to=f"{thread_id}-op",
                                stance=Stance(stance) if stance else None, components=components))
    post = Post(id=f"{thread_id}-op", author=None, text=post_text, stance=Stance(post_stance) if post_stance else None)
    return Thread(id=thread_id, post=post, comments=comments)


# -- definitions -------------------------------------------------------------


def test_every_metric_key_has_a_definition() -> None:
    gold = [make_thread("t", ["support", "attack"], [(0, 3, "Claim"), (4, 13, "Premise")], post_stance="none")]
    pred = [make_thread("t", ["attack", "attack"], [(0, 3, "Claim")], post_stance="none")]
    keys = list(component_metrics(gold, pred, labels=LABELS))
    keys += list(stance_metrics(gold, pred, STANCES, include_posts=True))
    keys += ["checkpoint", "data", "split", "threads", "train/best_epoch", "train/seconds"]
    undefined = [key for key in keys if not describe_metric(key)]
    assert not undefined
    assert "exact character boundaries" in describe_metric("components/span_exact/Premise/recall")
    assert "gold Premise" in describe_metric("components/span_exact/Premise/recall")
    assert "reply comments and posts" in describe_metric("stance/messages/accuracy")
    assert describe_metric("something/else") == ""


# -- bootstrap ---------------------------------------------------------------


def test_one_thread_gives_a_degenerate_interval_at_the_metric_value() -> None:
    gold = [make_thread("t", ["support", "attack", "none", "none"], [(0, 3, "Claim"), (4, 13, "Premise")])]
    pred = [make_thread("t", ["support", "none", "none", "attack"], [(0, 3, "Claim"), (4, 7, "Premise")])]
    stance = stance_metrics(gold, pred, STANCES)
    ci = bootstrap_intervals(gold, pred, kind="stance", labels=STANCES, samples=50)
    for key in ("stance/comments/macro_f1", "stance/components/macro_f1"):
        assert ci[key] == (pytest.approx(stance[key]), pytest.approx(stance[key]))
    spans = component_metrics(gold, pred, labels=LABELS)
    ci = bootstrap_intervals(gold, pred, kind="components", labels=LABELS, samples=50)
    assert set(ci) == {"components/span_exact/micro_f1", "components/span_overlap50/micro_f1"}
    for key, (low, high) in ci.items():
        assert low == pytest.approx(spans[key]) and high == pytest.approx(spans[key])


def renamed(thread: Thread, suffix: str) -> Thread:
    """The same thread under other ids (so it can appear twice in a metric call)."""
    def ids(message: Post) -> Post:
        components = [replace(c, id=c.id + suffix) for c in message.components]
        extra = {"reply_to": message.reply_to + suffix} if isinstance(message, Comment) else {}
        return replace(message, id=message.id + suffix, components=components, **extra)

    return replace(thread, id=thread.id + suffix, post=ids(thread.post), comments=[ids(c) for c in thread.comments])


def test_a_resample_scores_like_the_metric_functions_on_the_drawn_threads() -> None:
    """Drawing thread 0 twice and thread 2 once must score as the metrics score those three threads."""
    rng = random.Random(5)
    gold, pred = [], []
    for i in range(3):
        g = [rng.choice(STANCES) for _ in range(4)]
        p = [s if rng.random() < 0.5 else rng.choice(STANCES) for s in g]
        gold.append(make_thread(f"t{i}", g, [(0, 3, "Claim"), (8, 13, "Premise")][: 1 + i % 2], post_stance="none"))
        pred.append(make_thread(f"t{i}", p, [(0, 3, "Claim"), (8, 18, "Premise"), (19, 23, "Claim")][i:],
                                post_stance=rng.choice(STANCES)))
    draw = np.array([0, 0, 2])
    drawn_gold = [gold[0], renamed(gold[0], "'"), gold[2]]
    drawn_pred = [pred[0], renamed(pred[0], "'"), pred[2]]

    pairs = list(zip(gold, pred))
    spans = thread_statistics(pairs, kind="components", labels=LABELS, include_posts=False)
    expected = component_metrics(drawn_gold, drawn_pred, labels=LABELS)
    for key in ("components/span_exact/micro_f1", "components/span_overlap50/micro_f1"):
        assert spans[key](draw) == pytest.approx(expected[key])

    stances = thread_statistics(pairs, kind="stance", labels=STANCES, include_posts=True)
    expected = stance_metrics(drawn_gold, drawn_pred, STANCES, include_posts=True)
    assert set(stances) == {"stance/comments/macro_f1", "stance/components/macro_f1", "stance/messages/macro_f1"}
    for key, statistic in stances.items():
        assert statistic(draw) == pytest.approx(expected[key])


def test_bootstrap_is_seeded_and_covers_the_spread_between_threads() -> None:
    perfect = make_thread("good", ["support", "attack"])
    wrong_gold = make_thread("bad", ["support", "attack"])
    wrong_pred = make_thread("bad", ["attack", "support"])
    gold, pred = [perfect, wrong_gold], [perfect, wrong_pred]
    labels = ["support", "attack"]
    first = bootstrap_intervals(gold, pred, kind="stance", labels=labels, samples=400, seed=1)
    assert first == bootstrap_intervals(gold, pred, kind="stance", labels=labels, samples=400, seed=1)
    low, high = first["stance/comments/macro_f1"]
    # resamples: {good, good} scores 1, {bad, bad} scores 0, mixed 0.5; each drawn about 1/4, 1/4, 1/2 of the time
    assert low == 0.0 and high == 1.0
    narrow = bootstrap_intervals(gold, pred, kind="stance", labels=labels, samples=400, seed=1, level=0.4)
    assert narrow["stance/comments/macro_f1"] == (0.5, 0.5)


def test_bootstrap_rejects_bad_input() -> None:
    gold = [make_thread("t", ["support"])]
    with pytest.raises(ValueError, match="differ"):
        bootstrap_intervals(gold, [make_thread("u", ["support"])], kind="stance", labels=STANCES)
    with pytest.raises(ValueError, match="at least 1"):
        bootstrap_intervals(gold, gold, kind="stance", labels=STANCES, samples=0)
    with pytest.raises(ValueError, match="kind"):
        bootstrap_intervals(gold, gold, kind="relations", labels=STANCES)


# -- confusion, errors -------------------------------------------------------


def test_token_confusion_counts_whitespace_tokens() -> None:
    # tokens: one two three four five six; gold Claim = "one two", Premise = "four five"; predicted Claim = "one"
    gold = [make_thread("t", [None], [(0, 7, "Claim"), (14, 23, "Premise")])]
    pred = [make_thread("t", [None], [(0, 3, "Claim")])]
    tags, matrix = token_confusion(gold, pred, LABELS)
    assert tags == ["O", "B-Claim", "I-Claim", "B-Premise", "I-Premise"]
    cell = {(g, p): matrix[i][j] for i, g in enumerate(tags) for j, p in enumerate(tags) if matrix[i][j]}
    # post: 3 tokens O/O; comment: one B/B, two I/O, three O/O, four B-Premise/O, five I-Premise/O, six O/O
    assert cell == {("O", "O"): 5, ("B-Claim", "B-Claim"): 1, ("I-Claim", "O"): 1, ("B-Premise", "O"): 1,
                    ("I-Premise", "O"): 1}


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


HOSTILE = 'Look <script>alert("x")</script> and <img src=x onerror="alert(1)"> "quoted" & more'


def test_errors_html_escapes_everything_and_puts_disagreements_first(tmp_path: Path) -> None:
    label = 'Claim" onmouseover="alert(1)'
    gold = [
        make_thread("agree", ["support"], text=HOSTILE),
        make_thread("<b>t</b>", ["attack"], [(0, 4, label)], text=HOSTILE, post_text=HOSTILE),
    ]
    pred = [
        make_thread("agree", ["support"], text=HOSTILE),
        make_thread("<b>t</b>", ["support"], [(0, 4, label)], text=HOSTILE, post_text=HOSTILE),
    ]
    metrics = stance_metrics(gold, pred, STANCES)
    write_evaluation_report(tmp_path, gold, pred, metrics, kind="stance", labels=STANCES, checkpoint="<ck>",
                            data_name="fake<script>", split="dev", bootstrap=20)
    page = (tmp_path / "errors.html").read_text(encoding="utf-8")
    parser = Collector()
    parser.feed(page)
    names = [tag for tag, _ in parser.tags]
    assert "script" not in names and "img" not in names and "b" not in names
    attributes = [name for _, attrs in parser.tags for name, _ in attrs]
    assert not [a for a in attributes if a.startswith("on")]
    assert not {"src", "href"} & set(attributes)  # self-contained: nothing is fetched
    text = "".join(parser.text)
    assert HOSTILE in text and "<b>t</b>" in text  # shown as text, not markup
    # the disagreeing thread (stance attack → support, twice: comment and its component) comes first
    sections = [i for i, (tag, attrs) in enumerate(parser.tags) if tag == "section"]
    classes = [dict(parser.tags[i][1])["class"] for i in sections]
    assert classes[0] == "disagree" and classes.count("disagree") == 1
    assert "stance attack → support" in text


def test_error_rows_for_components_list_missed_and_extra_spans() -> None:
    gold = [make_thread("t", [None], [(0, 7, "Claim")])]
    pred = [make_thread("t", [None], [(0, 3, "Claim"), (8, 13, "Premise")])]
    rows, bad = error_rows(gold, pred, kind="components")
    assert bad == 1
    assert rows[0].message.id == "t-c0"
    assert rows[0].problems == ("missed Claim [0, 7)", "extra Claim [0, 3)", "extra Premise [8, 13)")
    assert rows[1].problems == ()  # the post: no components on either side


# -- the evaluation report ---------------------------------------------------


def read_png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_stance_report_files(tmp_path: Path) -> None:
    rng = random.Random(2)
    gold, pred = [], []
    for i in range(8):
        g = [rng.choice(STANCES) for _ in range(5)]
        gold.append(make_thread(f"t{i}", g, [(0, 3, "Claim")], post_stance="support"))
        pred.append(make_thread(f"t{i}", [s if rng.random() < 0.6 else "none" for s in g], [(0, 3, "Claim")],
                                post_stance="none"))
    metrics = stance_metrics(gold, pred, STANCES, include_posts=True)
    ci = write_evaluation_report(tmp_path, gold, pred, metrics, kind="stance", labels=STANCES,
                                 checkpoint="runs/x/checkpoint", data_name="fake", split="test", bootstrap=200,
                                 include_posts=True)
    assert set(ci) == {f"stance/{level}/macro_f1/ci95" for level in ("comments", "components", "messages")}
    for key, (low, high) in ci.items():
        assert low <= metrics[key.removesuffix("/ci95")] <= high
    for level in ("comments", "components", "messages"):
        width, height = read_png_size(tmp_path / f"confusion_stance_{level}.png")
        assert width > 100 and height > 100
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "`runs/x/checkpoint`" in report and "split `test`" in report and "200 resamples of the 8 threads" in report
    low, high = ci["stance/comments/macro_f1/ci95"]
    assert f"[{low:.4f}, {high:.4f}]" in report
    for key, value in metrics.items():
        if not isinstance(value, dict):
            assert f"`{key}`" in report
    assert "![stance/comments" in report and "| support |" in report  # image and the same matrix as a table


def test_components_report_has_the_token_confusion(tmp_path: Path) -> None:
    gold = [make_thread("t", [None], [(0, 7, "Claim"), (14, 23, "Premise")])]
    pred = [make_thread("t", [None], [(0, 3, "Claim")])]
    metrics = component_metrics(gold, pred, labels=LABELS)
    ci = write_evaluation_report(tmp_path, gold, pred, metrics, kind="components", labels=LABELS,
                                 checkpoint="ck", data_name="fake", split="dev", bootstrap=0)
    assert ci == {}
    assert read_png_size(tmp_path / "confusion_components_tokens.png")[0] > 100
    assert not list(tmp_path.glob("confusion_stance_*"))
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "IOB2" in report and "| I-Claim | 0 | 0 | 0 | 0 | 0 |" not in report
    assert "| I-Claim | 1 | 0 | 0 | 0 | 0 |" in report  # "two": gold I-Claim, predicted O
    assert "no bootstrap intervals" in report


def write_tiny_corpus(path: Path, seed: int, noise: float) -> None:
    from argmine.readers.jsonl import write_jsonl

    rng = random.Random(seed)
    words = {"support": "agree yes right true", "attack": "wrong false disagree bad", "none": "weather lunch blue"}
    threads = []
    for i in range(10):
        comments = []
        for j in range(4):
            label = rng.choice(STANCES)
            source = rng.choice(STANCES) if rng.random() < noise else label
            text = " ".join(rng.choice(words[source].split()) for _ in range(5))
            comments.append(Comment(id=f"t{i}c{j}", author=None, text=text, reply_to=f"t{i}op", stance=Stance(label)))
        threads.append(Thread(id=f"t{i}", post=Post(id=f"t{i}op", author=None, text="<script>post</script>"),
                              comments=comments))
    write_jsonl(threads, path)


def test_argmine_evaluate_writes_the_report_and_intervals_into_metrics_json(tmp_path: Path) -> None:
    """The Hydra entry point end to end, with the scikit-learn stance baseline (no encoder needed)."""
    from argmine.cli.hydra_app import main

    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    write_tiny_corpus(train, seed=0, noise=0.0)
    write_tiny_corpus(test, seed=1, noise=0.5)
    common = ["data=jsonl", "task=stance", "task.level=comment", "model=sklearn", "model.sklearn_c=[1.0]"]
    main("train", [*common, f"data.path={train}", "name=tiny", f"hydra.run.dir={tmp_path / 'train'}"])
    run = tmp_path / "evaluate"
    main("evaluate", ["data=jsonl", f"data.path={test}", f"checkpoint={tmp_path / 'train' / 'checkpoint'}",
                      "bootstrap=100", f"hydra.run.dir={run}"])
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    low, high = metrics["stance/comments/macro_f1/ci95"]
    assert low <= metrics["stance/comments/macro_f1"] <= high and low < high
    assert (run / "confusion_stance_comments.png").read_bytes()[:8] == PNG_MAGIC
    assert "stance/comments/macro_f1" in (run / "report.md").read_text(encoding="utf-8")
    assert "&lt;script&gt;post" in (run / "errors.html").read_text(encoding="utf-8")


# -- argmine report over run folders ---------------------------------------


def fake_run(folder: Path, *, name: str, seed: int, lr: float, f1: float, command: str | None = None,
             extra: dict | None = None) -> Path:
    """A run folder as `argmine train` leaves it: metrics.json, .hydra/{config,overrides}.yaml, checkpoint/."""
    (folder / ".hydra").mkdir(parents=True)
    config = {
        "name": name,
        "data": {"name": "cmv", "path": "/data/cmv", "dev_split": "dev", "component_labels": {"claim": "Claim"}},
        "task": {"kind": "components"},
        "trainer": {"seed": seed, "learning_rate": lr, "threads": 2, "resume": False},
        **(extra or {}),
    }
    (folder / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    overrides = [f"experiment={name}", f"trainer.seed={seed}"]
    (folder / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides), encoding="utf-8")
    metrics = {"components/span_exact/micro_f1": f1, "components/token/macro_f1": f1 / 2, "train/steps": 10.0}
    (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    if command is not None:
        (folder / "checkpoint").mkdir()
        meta = {"kind": "components", "labels": ["Claim"], "training": {"command": command, "seed": seed}}
        (folder / "checkpoint" / "argmine.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def test_summarize_uses_sample_std_and_student_t() -> None:
    s = summarize([0.5, 0.6, 0.7])
    assert s.mean == pytest.approx(0.6) and s.std == pytest.approx(0.1)
    half = 4.302652729911275 * 0.1 / math.sqrt(3)  # t(0.975, df=2)
    assert s.ci95 == (pytest.approx(0.6 - half), pytest.approx(0.6 + half))
    one = summarize([0.4])
    assert one.std is None and one.ci95 is None and one.mean == 0.4


def sweep(tmp_path: Path) -> Path:
    root = tmp_path / "multirun" / "cmv_components" / "2024-01-01_00-00-00"
    command = "argmine train experiment=cmv_components -m trainer.seed=1,2,3"
    for job, (seed, f1) in enumerate([(1, 0.5), (2, 0.6), (3, 0.7)]):
        fake_run(root / str(job), name="cmv_components", seed=seed, lr=5e-4, f1=f1, command=command)
    other = tmp_path / "multirun" / "cmv_components" / "2024-01-02_00-00-00"
    for job, (seed, f1) in enumerate([(1, 0.3), (2, 0.4)]):
        fake_run(other / str(job), name="cmv_components", seed=seed, lr=1e-3, f1=f1)  # no checkpoint: no command
    fake_run(tmp_path / "runs" / "aae" / "x", name="aae2_components", seed=13, lr=5e-4, f1=0.6,
             command="argmine train experiment=aae2_components")
    (tmp_path / "multirun" / "notes").mkdir()
    (tmp_path / "multirun" / "notes" / "metrics.json").write_text("{}", encoding="utf-8")  # not a run folder
    return tmp_path


def test_runs_are_grouped_by_everything_but_the_seed(tmp_path: Path) -> None:
    runs = find_runs([sweep(tmp_path)])
    assert len(runs) == 6
    groups = group_runs(runs)
    assert [(g.name, len(g.runs), dict(g.setting)) for g in groups] == [
        ("aae2_components", 1, {}),
        ("cmv_components", 3, {"trainer.learning_rate": 0.0005}),
        ("cmv_components", 2, {"trainer.learning_rate": 0.001}),
    ]
    three = groups[1]
    assert sorted(three.seeds) == [1, 2, 3]
    assert three.summary["components/span_exact/micro_f1"].mean == pytest.approx(0.6)
    assert three.summary["components/span_exact/micro_f1"].std == pytest.approx(0.1)
    assert three.summary["components/token/macro_f1"].mean == pytest.approx(0.3)


def test_a_setting_added_later_as_null_joins_the_runs_made_before_it(tmp_path: Path) -> None:
    fake_run(tmp_path / "old", name="x", seed=1, lr=1e-3, f1=0.5)
    fake_run(tmp_path / "new", name="x", seed=2, lr=1e-3, f1=0.6, extra={"task": {"kind": "components", "max_length": None}})
    fake_run(tmp_path / "set", name="x", seed=3, lr=1e-3, f1=0.7, extra={"task": {"kind": "components", "max_length": 128}})
    groups = group_runs(find_runs([tmp_path]))
    assert sorted((len(g.runs), dict(g.setting).get("task.max_length")) for g in groups) == [(1, 128), (2, None)]


def test_argmine_report_writes_tables_plot_and_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = sweep(tmp_path)
    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    out, results = tmp_path / "out", tmp_path / "experiments" / "RESULTS.md"
    args = parser.parse_args([str(root / "multirun"), str(root / "runs"), "--out", str(out), "--results", str(results)])
    assert run_report(args) == 0
    assert "6 runs in 3 settings" in capsys.readouterr().out

    rows = list(csv.DictReader((out / "runs_summary.csv").open(encoding="utf-8")))
    row = next(r for r in rows if r["metric"] == "components/span_exact/micro_f1" and r["n"] == "3")
    assert float(row["mean"]) == pytest.approx(0.6) and float(row["std"]) == pytest.approx(0.1)
    half = 4.302652729911275 * 0.1 / math.sqrt(3)
    assert float(row["ci95_low"]) == pytest.approx(0.6 - half)
    assert json.loads(row["values"]) == pytest.approx([0.5, 0.6, 0.7])
    assert json.loads(row["setting"]) == {"trainer.learning_rate": 0.0005}
    single = next(r for r in rows if r["experiment"] == "aae2_components" and r["metric"].endswith("micro_f1"))
    assert single["std"] == "" and single["ci95_low"] == ""

    summary = (out / "runs_summary.md").read_text(encoding="utf-8")
    assert f"0.6000 ± 0.1000 [{0.6 - half:.4f}, {0.6 + half:.4f}]" in summary
    assert (out / "runs_headline.png").read_bytes()[:8] == PNG_MAGIC

    text = results.read_text(encoding="utf-8")
    assert "argmine train experiment=cmv_components -m trainer.seed=1,2,3" in text  # recorded in argmine.json
    assert "argmine train experiment=cmv_components trainer.seed=1  # from .hydra/overrides.yaml" in text
    assert "cmv / dev" in text and "[1, 2, 3]" in text and "0.6000 ± 0.1000" in text
    assert "do not edit by hand" in text
    assert run_report(args) == 0
    assert results.read_text(encoding="utf-8") == text  # regenerated, not appended to


def test_evaluate_runs_take_the_seed_and_setting_from_their_checkpoint(tmp_path: Path) -> None:
    trained = [fake_run(tmp_path / "train" / str(s), name="cmv_components", seed=s, lr=5e-4, f1=0.5, command="c")
               for s in (1, 2)]
    for i, run in enumerate(trained):
        (tmp_path / "eval" / str(i) / ".hydra").mkdir(parents=True)
        config = {"name": "evaluate-cmv", "checkpoint": str(run / "checkpoint"),
                  "data": {"name": "cmv", "split": "test"}, "batch_size": 32}
        (tmp_path / "eval" / str(i) / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        (tmp_path / "eval" / str(i) / "metrics.json").write_text(
            json.dumps({"components/span_exact/micro_f1": 0.4 + i / 10,
                        "components/span_exact/micro_f1/ci95": [0.1, 0.9]}), encoding="utf-8")
    groups = group_runs(find_runs([tmp_path / "eval"]))
    assert len(groups) == 1
    (group,) = groups
    assert group.command_kind == "evaluate" and sorted(group.seeds) == [1, 2]
    assert group.runs[0].split == "test"
    assert "components/span_exact/micro_f1/ci95" not in group.summary
    assert group.summary["components/span_exact/micro_f1"].mean == pytest.approx(0.45)


def test_report_errors(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    with pytest.raises(ArgmineError, match="no such folder"):
        run_report(parser.parse_args([str(tmp_path / "absent")]))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArgmineError, match="no run folder"):
        run_report(parser.parse_args([str(tmp_path / "empty")]))
    bad = fake_run(tmp_path / "bad", name="x", seed=1, lr=1.0, f1=0.1)
    (bad / "metrics.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ArgmineError, match=r"metrics\.json: not valid JSON"):
        run_report(parser.parse_args([str(tmp_path / "bad")]))


def test_headline_keys_are_what_the_metrics_produce() -> None:
    gold = [make_thread("t", ["support"], [(0, 3, "Claim")], post_stance="none")]
    produced = set(component_metrics(gold, gold)) | set(stance_metrics(gold, gold, STANCES, include_posts=True))
    assert set(HEADLINE) <= produced


def test_extra_training_corpora_show_as_one_setting_without_their_paths():
    flat = {
        "name": "threads_default",
        "data.path": "/cmv",
        "data.extra_train.rumoureval.name": "rumoureval2019_3way",
        "data.extra_train.rumoureval.path": "/somewhere/rumoureval",
        "data.extra_train.rumoureval.use": "stance",
        "data.extra_train.aae2.name": "aae2",
        "data.extra_train.aae2.use": "components",
    }
    assert fold_extra_train(flat) == {
        "name": "threads_default",
        "data.path": "/cmv",
        "data.extra_train": "aae2=aae2 (components), rumoureval=rumoureval2019_3way (stance)",
    }
    assert fold_extra_train({"name": "x"}) == {"name": "x"}


def test_results_merge_by_run_into_an_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 17, item 9: reporting new runs into a results file keeps the rows of the runs already in it."""
    import shutil

    root = sweep(tmp_path)
    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    results = tmp_path / "RESULTS.md"
    report = lambda *dirs, force=False: run_report(parser.parse_args(  # noqa: E731
        [*map(str, dirs), "--out", str(tmp_path / "out"), "--results", str(results), *(["--force"] if force else [])]))
    assert report(root / "multirun") == 0
    assert report(root / "runs") == 0  # the aae run only: the cmv rows stay
    text = results.read_text(encoding="utf-8")
    assert "merged: 5 runs kept from it" in capsys.readouterr().out
    assert "aae2_components" in text and "0.6000 ± 0.1000" in text and "| cmv_components [" in text
    assert f"--results {results}" in text and "multirun" in text.split("\n")[2] and "runs" in text.split("\n")[2]

    everything = tmp_path / "everything.md"
    run_report(parser.parse_args([str(root / "multirun"), str(root / "runs"), "--out", str(tmp_path / "out"),
                                  "--results", str(everything)]))
    assert text.replace(str(results), "X") == everything.read_text(encoding="utf-8").replace(str(everything), "X")
    assert report(root / "runs") == 0
    assert results.read_text(encoding="utf-8") == text  # merging the same runs again changes nothing

    # A run deleted below a folder reported again is gone from the file; runs elsewhere stay.
    shutil.rmtree(root / "multirun" / "cmv_components" / "2024-01-02_00-00-00")
    assert report(root / "multirun") == 0
    text = results.read_text(encoding="utf-8")
    assert "2 dropped" in capsys.readouterr().out  # the two runs of that folder
    assert "trainer.learning_rate=0.001" not in text and "aae2_components" in text


def test_results_without_run_records_are_replaced_only_with_force(tmp_path: Path) -> None:
    root = sweep(tmp_path)
    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\nNotes written by hand, 258 lines of them.\n", encoding="utf-8")
    args = [str(root / "runs"), "--out", str(tmp_path / "out"), "--results", str(results)]
    with pytest.raises(ArgmineError, match="RESULTS.md: exists and holds no run records.*--force"):
        run_report(parser.parse_args(args))
    assert "by hand" in results.read_text(encoding="utf-8")
    assert run_report(parser.parse_args([*args, "--force"])) == 0
    assert "aae2_components" in results.read_text(encoding="utf-8")


def test_every_headline_key_is_described_and_the_suite_mean_is_one() -> None:
    """A dev-suite evaluation (experiment=stance_dev_suite) quotes its mean in RESULTS files, not "–"."""
    from argmine.evaluation.glossary import RUN_HEADLINE

    assert {"stance/suite/mean_macro_f1", "stance/dev/mean_macro_f1"} <= set(RUN_HEADLINE)
    assert [key for key in RUN_HEADLINE if not describe_metric(key)] == []
