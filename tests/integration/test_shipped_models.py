"""Every checkpoint shipped in models/ loads offline on the packaged encoder, fits the 10 MB budget, and predicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from argmine.checkpoint import read_meta
from argmine.pipeline import ArgumentMiner
from argmine.segmenter.model import Segmenter
from argmine.stance.inputs import StanceInput
from argmine.stance.predict import load_stance_classifier

pytestmark = pytest.mark.integration

MODELS = Path(__file__).resolve().parents[2] / "models"
SHIPPED = sorted(p for p in MODELS.iterdir() if (p / "argmine.json").is_file())
BUDGET = 10 * 1024 * 1024


def test_the_three_promised_checkpoints_are_shipped():
    assert {p.name for p in SHIPPED} >= {
        "aae2-components-minilm", "argmine-threads-minilm", "rumoureval2019-stance-minilm"
    }


@pytest.mark.parametrize("folder", SHIPPED, ids=[p.name for p in SHIPPED])
def test_a_shipped_checkpoint_fits_the_budget_and_predicts(folder):
    assert sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) <= BUDGET
    assert (folder / "README.md").read_text(encoding="utf-8").count("## Measured") == 1
    kind = read_meta(folder).kind
    text = "I think the rumour is false, because the police denied it this morning."
    if kind == "components":
        # contexts are read only by a segmenter trained with context: position
        (found,) = Segmenter.from_pretrained(folder).predict([text], contexts=["first paragraph"])
        assert all(text[c.start : c.end] == c.text for c in found)
    elif kind == "pipeline":
        miner = ArgumentMiner.from_pretrained(folder)
        assert miner.component_labels == ("Claim", "Premise")
    else:
        classifier = load_stance_classifier(folder)
        (stance,) = classifier.predict([StanceInput(post="The bridge has collapsed.", text=text)])
        assert stance.label in classifier.labels and 0.0 < stance.score <= 1.0
