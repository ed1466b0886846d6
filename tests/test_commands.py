"""Recorded commands are shown without the paths of the machine they ran on (results files, model cards)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
import yaml

from argmine.cli.report import add_arguments as add_report_arguments, run as run_report
from argmine.commands import portable_command

REPO = Path(__file__).resolve().parent.parent
TRAINED = (
    "argmine train experiment=threads_default data.path=/work/shared/data/cmv-modes-v2 "
    "data.extra_train.rumoureval.path=/work/shared/data/rumoureval2019 trainer.seed=13 "
    "hydra.run.dir=/work/main/runs/threads_default/v3-seed13"
)
# What an absolute or out-of-repository path looks like in a key=value override.
MACHINE_PATH = re.compile(r"=(/|\.\./|~)")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (TRAINED, "argmine train experiment=threads_default data.path=<CMV v2.0> "
                  "data.extra_train.rumoureval.path=<RumourEval 2019> trainer.seed=13 "
                  "hydra.run.dir=runs/threads_default/v3-seed13"),
        ("argmine evaluate checkpoint=models/x data.path=../shared/data/rumoureval2019 data.split=dev",
         "argmine evaluate checkpoint=models/x data.path=<RumourEval 2019> data.split=dev"),
        ("argmine train data.path=/mnt/essays/aae2 data.dev_path=/srv/corpus.jsonl model.encoder=/opt/enc",
         "argmine train data.path=<AAE2> data.dev_path=<corpus folder> model.encoder=<encoder>"),
        # recorded in another checkout: the part from the repository's top folder on is kept
        ("argmine train hydra.run.dir=/home/ann/argmine/runs/cmv/1 data.path=/home/ann/argmine/experiments/t.jsonl",
         "argmine train hydra.run.dir=runs/cmv/1 data.path=experiments/t.jsonl"),
        # already portable: untouched
        ("argmine train data.path=<CMV v2.0> data.path=experiments/threads/own-threads.jsonl trainer.lr=1e-3",
         "argmine train data.path=<CMV v2.0> data.path=experiments/threads/own-threads.jsonl trainer.lr=1e-3"),
    ],
)
def test_portable_command(command: str, expected: str) -> None:
    assert portable_command(command, root="/work/main") == expected


def test_paths_under_the_given_root_become_relative() -> None:
    command = "argmine train data.path=/repo/experiments/threads/own-threads.jsonl hydra.run.dir=/repo/scratch/run1"
    assert portable_command(command, root="/repo") == (
        "argmine train data.path=experiments/threads/own-threads.jsonl hydra.run.dir=scratch/run1"
    )


def fake_run(folder: Path, command: str) -> None:
    (folder / ".hydra").mkdir(parents=True)
    config = {"name": "threads_default", "data": {"name": "cmv", "path": "/work/shared/data/cmv-modes-v2",
                                                  "dev_split": "dev"}, "trainer": {"seed": 13}}  # fmt: skip
    (folder / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    overrides = command.split()[2:]
    (folder / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides), encoding="utf-8")
    (folder / "metrics.json").write_text(json.dumps({"components/span_exact/micro_f1": 0.5}), encoding="utf-8")
    (folder / "checkpoint").mkdir()
    meta = {"kind": "pipeline", "labels": ["Claim"], "training": {"command": command, "seed": 13}}
    (folder / "checkpoint" / "argmine.json").write_text(json.dumps(meta), encoding="utf-8")


def test_results_file_shows_commands_and_overrides_without_machine_paths(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    fake_run(tmp_path / "runs" / "threads_default" / "v3-seed13", TRAINED)
    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    results = tmp_path / "experiments" / "RESULTS.md"
    assert run_report(parser.parse_args(["runs", "--out", "out", "--results", str(results)])) == 0
    shown = results.read_text(encoding="utf-8").split("<!--")[0]  # the rendered part, not the run records
    assert "data.path=<CMV v2.0> data.extra_train.rumoureval.path=<RumourEval 2019>" in shown
    assert "hydra.run.dir=runs/threads_default/v3-seed13" in shown
    assert not MACHINE_PATH.search(shown), MACHINE_PATH.search(shown)


def test_model_card_shows_the_portable_command(tmp_path: Path) -> None:
    from tiny_models import build_encoder

    from argmine.segmenter.model import Segmenter

    encoder = build_encoder(tmp_path / "encoder")
    segmenter = Segmenter.create(("Claim", "Premise"), encoder=encoder, max_length=64, stride=8)
    card = segmenter.with_training({"command": TRAINED}).model_card()
    assert "- command: argmine train experiment=threads_default data.path=<CMV v2.0>" in card
    assert "/work/" not in card


def test_shipped_results_and_cards_name_no_machine_paths() -> None:
    files = [*(REPO / "experiments").glob("RESULTS*.md"), *(REPO / "models").glob("**/README.md")]
    assert files
    for path in files:
        shown = path.read_text(encoding="utf-8").split("<!-- argmine report records")[0]
        found = [line for line in shown.splitlines() if MACHINE_PATH.search(line) or "/work/" in line]
        assert not found, f"{path.relative_to(REPO)}: {found[0][:160]}"
