"""The frozen-encoder pair stance classifier on a tiny encoder: windows, features, head, save and reload."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from tiny_models import build_encoder, vocabulary

from argmine.errors import CheckpointError
from argmine.stance.inputs import StanceExample, StanceInput
from argmine.stance.pair import PairStanceClassifier, first_sentence
from argmine.stance.pair_train import example_weights, train_pair_stance
from argmine.stance.predict import load_stance_classifier

LABELS = ("support", "attack", "none")
CUES = {"support": ["agree", "yes"], "attack": ["disagree", "wrong"], "none": ["what", "maybe"]}
FILLER = ["the", "city", "park", "bus", "is", "it", "we", "this", "that", "rule"]


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    words = sorted({w for cues in CUES.values() for w in cues} | set(FILLER) | {".", "?"})
    return build_encoder(tmp_path_factory.mktemp("pair") / "encoder", vocab=vocabulary(words), max_positions=64)


def examples(n: int, seed: int) -> list[StanceExample]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = rng.choice(LABELS)
        words = [*rng.sample(FILLER, 3), rng.choice(CUES[label])]
        rng.shuffle(words)
        item = StanceInput(post="the city rule is bad .", text=" ".join(words) + " .")
        out.append(StanceExample(f"t{i}", f"c{i}", "comment", item, label))
    return out


def test_first_sentence_is_the_title_or_thesis() -> None:
    assert first_sentence("Ban cars.\nThe body says why.") == "Ban cars."
    assert first_sentence("Ban cars in centres. Vans need access.") == "Ban cars in centres."
    assert first_sentence("no break at all") == "no break at all"


def test_a_long_text_is_read_in_windows_that_cover_it(encoder: Path) -> None:
    classifier = PairStanceClassifier.create(LABELS, encoder=str(encoder), window=12, stride=2)
    text = " ".join(["city"] * 40 + ["disagree"])
    windows = classifier.encoder._windows(text)
    assert len(windows) > 1
    assert all(len(w) <= 12 for w in windows)
    covered = [t for w in windows for t in w[1:-1]]
    disagree = classifier.encoder.tokenizer.convert_tokens_to_ids("disagree")
    assert windows[-1][-2] == disagree  # the last word is in the last window
    assert covered.count(disagree) >= 1
    # The last window is a feature of its own: a cue at the end changes it.
    mean_a, last_a = classifier.encoder.encode([text])
    mean_b, last_b = classifier.encoder.encode([" ".join(["city"] * 40 + ["agree"])])
    assert not np.allclose(last_a, last_b)


def test_it_learns_cue_words_and_reloads_identically(encoder: Path, tmp_path: Path) -> None:
    classifier = PairStanceClassifier.create(LABELS, encoder=str(encoder), window=16, stride=4)
    trained = train_pair_stance(classifier, {"a": examples(150, 0), "b": examples(60, 1)}, C=10.0)
    test = examples(60, 2)
    predicted = [s.label for s in trained.predict([e.input for e in test])]
    accuracy = np.mean([p == e.label for p, e in zip(predicted, test)])
    assert accuracy > 0.8  # chance is 1/3

    folder = trained.save_pretrained(tmp_path / "pair")
    meta = json.loads((folder / "argmine.json").read_text())
    assert meta["kind"] == "stance-pair" and meta["settings"]["C"] == 10.0
    assert meta["settings"]["train_counts"]["b"]  # what it was trained on is recorded
    reloaded = load_stance_classifier(folder)
    np.testing.assert_allclose(
        reloaded.predict_proba([e.input for e in test]), trained.predict_proba([e.input for e in test]), atol=1e-6
    )
    assert reloaded.predict([]) == []
    assert len(reloaded.predict([StanceInput(post="x", text="")])) == 1  # an empty text still gets a stance


def test_a_head_of_the_wrong_shape_or_with_nan_is_refused(encoder: Path, tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    classifier = PairStanceClassifier.create(LABELS, encoder=str(encoder), window=16, stride=4)
    folder = classifier.save_pretrained(tmp_path / "pair")
    save_file({"coef": np.zeros((3, 5), np.float32), "intercept": np.zeros(3, np.float32)}, str(folder / "head.safetensors"))
    with pytest.raises(CheckpointError, match="coef has shape"):
        PairStanceClassifier.from_pretrained(folder)
    width = classifier.coef.shape[1]
    save_file(
        {"coef": np.full((3, width), np.nan, np.float32), "intercept": np.zeros(3, np.float32)},
        str(folder / "head.safetensors"),
    )
    with pytest.raises(CheckpointError, match="NaN"):
        PairStanceClassifier.from_pretrained(folder)


def test_corpus_and_class_weights_balance_each_corpus() -> None:
    labels = ["a"] * 8 + ["b"] * 2 + ["a", "b"]
    corpora = ["big"] * 10 + ["small"] * 2
    w = example_weights(labels, corpora, "corpus+class")
    assert w.sum() == pytest.approx(len(labels))
    big, small = w[:10].sum(), w[10:].sum()
    assert big == pytest.approx(small)  # each corpus weighs the same in all
    assert w[:8].sum() == pytest.approx(w[8:10].sum())  # each label the same within a corpus
    with pytest.raises(ValueError, match="unknown balance"):
        example_weights(labels, corpora, "nope")


def test_the_settings_know_every_feature_block_of_the_model() -> None:
    from argmine.settings import PAIR_FEATURE_BLOCKS, PAIR_FEATURES
    from argmine.stance.pair import DEFAULT_FEATURES, FEATURE_BLOCKS

    assert PAIR_FEATURE_BLOCKS == tuple(FEATURE_BLOCKS)
    assert PAIR_FEATURES == DEFAULT_FEATURES
