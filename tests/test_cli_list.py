"""argmine list experiments|data|models: what conf/ and models/ hold, one described line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from argmine.cli import main
from argmine.resources import card_description, listing, yaml_description

REPO = Path(__file__).resolve().parent.parent


def test_description_is_the_first_comment_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("# @package _global_\n# One line that says it all.\n# more detail\nname: x\n", encoding="utf-8")
    assert yaml_description(path) == "One line that says it all."
    path.write_text("# A sentence that goes on\n# into the next line.\nname: x\n", encoding="utf-8")
    assert yaml_description(path) == "A sentence that goes on …"
    path.write_text("# Research use only:\nname: x\n", encoding="utf-8")
    assert yaml_description(path) == "Research use only"
    path.write_text("name: x\n", encoding="utf-8")
    assert yaml_description(path) == ""
    (tmp_path / "m").mkdir()
    assert card_description(tmp_path / "m") == "(no model card)"
    (tmp_path / "m" / "README.md").write_text("\n# my model\n\nmore\n", encoding="utf-8")
    assert card_description(tmp_path / "m") == "my model"


@pytest.mark.parametrize(("what", "folder"), [("experiments", "experiment"), ("data", "data")])
def test_list_names_every_config_with_its_comment(what: str, folder: str, capsys) -> None:
    assert main(["list", what]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip() and not line.startswith("folder ")}
    names = sorted(p.stem for p in (REPO / "conf" / folder).glob("*.yaml"))
    assert sorted(rows) == names
    assert dict(listing(what)) and all(description for _, description in listing(what))
    if what == "experiments":
        expected = "CMV modes v2.0, Claim / Premise (main_claim → Claim), dev split by original post."
        assert rows["cmv_components"].endswith(expected)
    assert f"folder {REPO / 'conf'}: argmine train" in out


def test_list_models_gives_each_card_line(capsys) -> None:
    assert main(["list", "models"]) == 0
    out = capsys.readouterr().out
    assert "argmine-threads-minilm        argmine thread miner" in out
    names = [line.split()[0] for line in out.splitlines() if line.strip() and not line.startswith("folder ")]
    assert names == sorted(p.name for p in (REPO / "models").iterdir() if (p / "argmine.json").is_file())


def test_list_of_something_else_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["list", "corpora"])
    assert caught.value.code == 2
    assert "invalid choice: 'corpora'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="expected one of experiments, data, models"):
        listing("corpora")
