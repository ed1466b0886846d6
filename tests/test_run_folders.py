"""``argmine train|evaluate`` through the CLI: one line and exit 2 for Hydra's errors and ours, no run-folder
litter after a failure, a locked run folder, Ctrl-C as one line and exit 130, evaluation folders named
after what they evaluate; and ``argmine report`` on a malformed .hydra/config.yaml."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from argmine.cli import main

REPO = Path(__file__).resolve().parent.parent
OWN = str(REPO / "experiments" / "threads" / "own-threads.jsonl")


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Every command runs in an empty folder: runs/ lands there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARGMINE_DEBUG", raising=False)
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", "trainer.epochz=2"], "trainer.epochz: no such setting in trainer; did you mean trainer.epochs?"),
        (["train", "model.lora_rnk=2"], "did you mean model.lora_rank?"),
        (["train", "experiment=cmv_componets"], "experiment=cmv_componets: no such experiment in"),
        (["train", "experiment=nope"], "known: aae2_components, abstrc"),
        (["train", "data=nope"], "data=nope: no such data in"),
        (["evaluate", "data=nope", "checkpoint=x"], "data=nope: no such data in"),
        (["train", "trainer.epochs=[1"], "cannot parse 'trainer.epochs=[1'"),
        (["train", "data.path=x", "trainer.epochs=abc"], "trainer.epochs: expected an integer, got str 'abc'"),
        (["train", "data.path=x", "trainer.learning_rate=abc"], "trainer.learning_rate: expected a number"),
        (["evaluate", "checkpoint=x", "data=own_threads", "stance_level=comments"], "evaluate.stance_level must be"),
    ],
)
def test_config_errors_are_one_line_exit_2_and_leave_no_run_folder(argv, expected, capsys, in_tmp):
    code, out, err = run(capsys, *argv)
    assert code == 2
    line = one_line(err)
    assert line.startswith(f"argmine {argv[0]}: error: ") and expected in line
    assert expected not in out  # printed once: not also logged to the terminal
    assert not (in_tmp / "runs").exists()


def test_a_failed_train_leaves_no_run_folder_and_prints_its_error_once(capsys, in_tmp):
    code, out, err = run(capsys, "train", "experiment=cmv_components", "data.path=/no/such/corpus")
    assert code == 2
    line = one_line(err)
    assert "/no/such/corpus" in line and "/no/such/corpus" not in out
    assert not (in_tmp / "runs").exists()


def test_a_second_run_into_a_locked_run_folder_fails_at_once_and_writes_nothing_there(capsys, in_tmp):
    folder = in_tmp / "runs" / "mine"
    folder.mkdir(parents=True)
    with open(folder / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242\n")
        held.flush()
        code, _, err = run(capsys, "train", "experiment=cmv_components", f"data.path={OWN}", f"hydra.run.dir={folder}")
    assert code == 2
    assert "another run (process 4242) is using this run folder" in one_line(err)
    assert sorted(p.name for p in folder.iterdir()) == [".lock"]  # no .hydra/ or log written over the other run's


def test_the_lock_is_released_and_removed_after_a_run(capsys, in_tmp):
    folder = in_tmp / "kept"
    (folder / "state").mkdir(parents=True)  # a folder that is kept after the failure (not ours to remove)
    code, _, err = run(capsys, "train", f"data.path={OWN}", "data=own_threads", f"hydra.run.dir={folder}")
    assert code == 2 and "trainer.resume=true" in one_line(err)
    assert folder.is_dir() and not (folder / ".lock").exists()


def _interrupt(resumable: bool):
    def fake_run_train(cfg, run_dir, command):
        if resumable:  # an epoch finished: the loop wrote its state
            (run_dir / "state").mkdir()
            (run_dir / "state" / "state.json").write_text("{}")
        raise KeyboardInterrupt

    return fake_run_train


def test_ctrl_c_before_anything_was_trained_says_interrupted_and_leaves_nothing(capsys, in_tmp, monkeypatch):
    monkeypatch.setattr("argmine.cli.train.run_train", _interrupt(resumable=False))
    code, _, err = run(capsys, "train", "data=own_threads")
    assert code == 130 and one_line(err) == "argmine train: interrupted"
    assert not (in_tmp / "runs").exists()


def test_ctrl_c_during_training_says_how_to_resume(capsys, in_tmp, monkeypatch):
    monkeypatch.setattr("argmine.cli.train.run_train", _interrupt(resumable=True))
    code, _, err = run(capsys, "train", "data=own_threads", "trainer.epochs=3")
    assert code == 130
    line = one_line(err)
    (folder,) = (in_tmp / "runs" / "components-own_threads").iterdir()
    assert line == (
        "argmine train: interrupted; resumable with: argmine train data=own_threads trainer.epochs=3 "
        f"hydra.run.dir={folder.relative_to(in_tmp)} trainer.resume=true"
    )
    assert (folder / "state" / "state.json").is_file()


def test_an_evaluation_run_folder_is_named_after_its_checkpoint_and_data(capsys, in_tmp, monkeypatch):
    seen = []
    monkeypatch.setattr("argmine.cli.evaluate.run_evaluate", lambda cfg, run_dir: seen.append(run_dir) or {"n": 1})
    for checkpoint in ("models/argmine-threads-minilm/", "runs/cmv_stance/seed13/checkpoint"):
        assert run(capsys, "evaluate", f"checkpoint={checkpoint}", "data=own_threads")[0] == 0
    assert [p.relative_to(in_tmp).parent for p in seen] == [
        Path("runs/evaluate-argmine-threads-minilm-own_threads"),
        Path("runs/evaluate-cmv_stance-seed13-own_threads"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: [a\n  b: :\n", "cannot read as YAML (while parsing a flow sequence"),
        ("- a\n- b\n", "expected a mapping of settings, got a list"),
        ("a: ${oops\n", "cannot read as YAML"),
        ("checkpoint: 3\n", "checkpoint must be a folder path, got 3"),
    ],
)
def test_report_on_a_malformed_hydra_config_is_one_line(text, expected, capsys, in_tmp):
    folder = in_tmp / "r1"
    (folder / ".hydra").mkdir(parents=True)
    (folder / "metrics.json").write_text("{}")
    (folder / ".hydra" / "config.yaml").write_text(text)
    code, _, err = run(capsys, "report", str(folder))
    assert code == 2 and expected in one_line(err)
    assert os.listdir(folder) == [".hydra", "metrics.json"] or sorted(os.listdir(folder)) == [".hydra", "metrics.json"]
