"""The transformer stance classifier on the real packaged encoder: a few LoRA steps, a small delta, a faithful reload."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny_models import MIB, check_minilm_delta

from argmine.stance.inputs import StanceExample, StanceInput
from argmine.stance.train import train_stance
from argmine.stance.transformer import TransformerStanceClassifier

pytestmark = pytest.mark.integration

LABELS = ("support", "attack", "none")
POST = "Cities should ban cars from their centres. Traffic kills, and streets belong to people."
REPLIES = {
    "support": [
        "Exactly, the centre of my town became much nicer after the ban.",
        "I agree, fewer cars means cleaner air.",
    ],
    "attack": [
        "No, a ban hurts shops and people who cannot walk far.",
        "That is wrong: buses are too slow to replace cars.",
    ],
    "none": ["Which city are you thinking of?", "Interesting thread, I will read it later."],
}


def examples(repeat: int) -> list[StanceExample]:
    out = []
    for label, texts in REPLIES.items():
        for i, text in enumerate(texts * repeat):
            out.append(StanceExample("t", f"{label}{i}", "comment", StanceInput(POST, text), label))
    return out


def test_lora_on_minilm_small_delta_and_reload(tmp_path: Path) -> None:
    folder = tmp_path / "stance"
    metrics = train_stance(
        examples(2),
        examples(1),
        classifier="transformer",
        labels=LABELS,
        encoder="minilm",
        finetune="lora",
        epochs=1,
        max_steps=2,
        batch_size=6,
        max_length=96,
        post_reserve=32,
        parent_reserve=16,
        output_dir=folder,
        progress=False,
    )
    assert metrics["train/steps"] == 2
    check_minilm_delta(folder, adapter_limit=5 * MIB)

    # the model in memory at the end of training and the reloaded one agree
    reloaded = TransformerStanceClassifier.from_pretrained(folder)
    inputs = [e.input for e in examples(1)] + [(POST, "A " + "very " * 300 + "long reply.")]
    first = reloaded.predict_proba(inputs)
    assert first.shape == (len(inputs), 3)
    np.testing.assert_allclose(first.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        TransformerStanceClassifier.from_pretrained(folder).predict_proba(inputs), first, atol=1e-6
    )
    assert max(len(r["input_ids"]) for r in reloaded.tokenize(inputs)) <= 96
