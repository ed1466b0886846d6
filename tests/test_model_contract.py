"""The contract every model class keeps (flair's model test is the pattern), run over each class in CASES.

Each class is trained briefly on a tiny fixture, then:

- its checkpoint is a folder: ``argmine.json`` naming its kind and labels, a model card, no pickle anywhere;
- the public loader reads it back as the same class, which predicts the same (labels, offsets and texts
  equal, scores within 1e-6: the reloaded weights are the same, but a LoRA merged on loading, or another
  batch split, moves float32 sums in their last digits);
- it predicts on an empty text without error (a valid result: no components, a label it knows, or none);
- it predicts nothing for no texts.

A new model class is one line in CASES: how to train it, how the public loader reads it, and how to
ask it for predictions as comparable values. A contract a class breaks today is marked in its line
(``fails=``) as a strict xfail with the reason, rather than fixed here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tiny_models import STANCE_LABELS, TEXTS, build_encoder, build_segmenter, build_trained_stance

from argmine.stance.inputs import StanceExample, StanceInput

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SCORE_TOLERANCE = 1e-6
POST = TEXTS[0]
# Texts to predict on: the training texts, a new mix, non-ASCII text, and one longer than a segmenter window.
PROBES = [*TEXTS, "i disagree , it is wrong since children read there !",
          "Ça coûte trop cher — нет. 🙅 we should plant more trees", " ".join(TEXTS)]
CUES = {"support": "yes i agree , right", "attack": "no i disagree , wrong", "none": "this ? that"}


def stance_data() -> tuple[list[StanceInput], list[str]]:
    """Comments toward the post whose label shows in their cue words, every label present."""
    inputs, gold = [], []
    for i, text in enumerate(TEXTS * 3):
        label = STANCE_LABELS[i % 3]
        inputs.append(StanceInput(post=TEXTS[(i + 1) % 4], text=f"{CUES[label]} {text}"))
        gold.append(label)
    return inputs, gold


# -- what the cases share: one encoder, the data, and each trained model once -------------------------


class Zoo:
    """The tiny encoder and every trained model, built once per module on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.encoder = build_encoder(folder / "encoder")
        self._models: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name not in self._models:
            self._models[name] = CASES_BY_NAME[name].train(self)
        return self._models[name]


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Zoo:
    return Zoo(tmp_path_factory.mktemp("contract"))


# -- training each class --------------------------------------------------------------------------------


def train_segmenter(zoo: Zoo) -> Any:
    return build_segmenter(zoo.encoder)


def train_transformer_stance(zoo: Zoo) -> Any:
    return build_trained_stance(zoo.encoder, *stance_data())


def train_sklearn_stance(zoo: Zoo) -> Any:
    from argmine.stance.baseline import SklearnStanceClassifier

    return SklearnStanceClassifier.fit(*stance_data(), STANCE_LABELS)


def train_ensemble_stance(zoo: Zoo) -> Any:
    from argmine.stance.ensemble import EnsembleStanceClassifier

    # The pool of the two trained members at an inner weight, so that both count in every score.
    return EnsembleStanceClassifier.join(zoo.get("stance-transformer"), zoo.get("stance-sklearn"), 0.5)


def train_pair_stance(zoo: Zoo) -> Any:
    from argmine.stance.pair import PairStanceClassifier
    from argmine.stance.pair_train import train_pair_stance as fit_head

    classifier = PairStanceClassifier.create(STANCE_LABELS, encoder=str(zoo.encoder), window=16, stride=4)
    inputs, gold = stance_data()
    examples = [StanceExample(f"t{i}", f"c{i}", "comment", x, y) for i, (x, y) in enumerate(zip(inputs, gold))]
    return fit_head(classifier, {"tiny": examples}, C=1.0)


def train_miner(zoo: Zoo) -> Any:
    from argmine.pipeline import ArgumentMiner

    return ArgumentMiner(zoo.get("segmenter"), zoo.get("stance-transformer"))


# -- the public loaders ---------------------------------------------------------------------------------


def load_segmenter(folder: Path) -> Any:
    from argmine.segmenter.model import Segmenter

    return Segmenter.from_pretrained(folder)


def load_stance(folder: Path) -> Any:
    from argmine.stance.predict import load_stance_classifier

    return load_stance_classifier(folder)


def load_miner(folder: Path) -> Any:
    from argmine.pipeline import ArgumentMiner

    return ArgumentMiner.from_pretrained(folder, precision="float32")  # the default "auto" is bfloat16 on some CPUs


# -- predictions as comparable values: (what must be equal, scores within SCORE_TOLERANCE) ------------

Prediction = tuple[tuple, tuple]


def components(found: Sequence[Any], holder: str | None = None) -> Prediction:
    """``holder``: the id prefix (``c2.``) a pipeline gives its components, left out (it names the comment's place)."""
    facts = tuple(
        (c.id.removeprefix(f"{holder}.") if holder else c.id, c.label, c.start, c.end, c.text,
         c.stance.label if c.stance else None)
        for c in found
    )
    scores = tuple(s for c in found for s in (c.score, c.stance.score if c.stance else None))
    return facts, scores


def predict_components(segmenter: Any, texts: list[str]) -> list[Prediction]:
    return [components(found) for found in segmenter.predict(texts)]


def predict_stance(classifier: Any, texts: list[str]) -> list[Prediction]:
    return [((s.label,), (s.score,)) for s in classifier.predict([StanceInput(post=POST, text=t) for t in texts])]


def predict_mined(miner: Any, texts: list[str]) -> list[Prediction]:
    thread = miner.mine_texts(POST, texts)
    out = []
    for comment in thread.comments:
        facts, scores = components(comment.components, holder=comment.id)
        stance = comment.stance
        out.append(((stance.label if stance else None, *facts), (stance.score if stance else None, *scores)))
    return out


def valid_empty_components(segmenter: Any, prediction: Prediction) -> bool:
    return prediction == ((), ())


def valid_empty_stance(classifier: Any, prediction: Prediction) -> bool:
    (label,), (score,) = prediction
    return label in classifier.labels and 0.0 <= score <= 1.0


def valid_empty_mined(miner: Any, prediction: Prediction) -> bool:
    return prediction == ((None,), (None,))  # no components, and no stance for a comment that says nothing


# -- the classes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    train: Callable[[Zoo], Any]
    load: Callable[[Path], Any]
    predict: Callable[[Any, list[str]], list[Prediction]]
    valid_empty: Callable[[Any, Prediction], bool]
    fails: dict[str, str] = field(default_factory=dict)  # test name → why that contract fails today


CASES = [
    Case("segmenter", train_segmenter, load_segmenter, predict_components, valid_empty_components),
    Case("stance-transformer", train_transformer_stance, load_stance, predict_stance, valid_empty_stance),
    Case("stance-sklearn", train_sklearn_stance, load_stance, predict_stance, valid_empty_stance),
    Case("stance-ensemble", train_ensemble_stance, load_stance, predict_stance, valid_empty_stance),
    Case("stance-pair", train_pair_stance, load_stance, predict_stance, valid_empty_stance),
    Case("pipeline", train_miner, load_miner, predict_mined, valid_empty_mined),
]
CASES_BY_NAME = {case.name: case for case in CASES}


def each_case(test: Callable) -> Callable:
    """Parametrise ``test`` over CASES; a case that breaks this contract today is a strict xfail with its reason."""
    params = [
        pytest.param(case, id=case.name,
                     marks=[pytest.mark.xfail(strict=True, reason=case.fails[test.__name__])]
                     if test.__name__ in case.fails else [])
        for case in CASES
    ]
    return pytest.mark.parametrize("case", params)(test)


def same_predictions(expected: list[Prediction], actual: list[Prediction]) -> None:
    assert len(actual) == len(expected)
    for i, ((facts, scores), (facts_again, scores_again)) in enumerate(zip(expected, actual)):
        assert facts_again == facts, f"text {i}"
        assert len(scores_again) == len(scores), f"text {i}"
        for a, b in zip(scores, scores_again):
            assert (a is None) == (b is None), f"text {i}: score {a} vs {b}"
            if a is not None:
                assert math.isfinite(b) and abs(a - b) <= SCORE_TOLERANCE, f"text {i}: score {a} vs {b}"


# -- the contract ---------------------------------------------------------------------------------------


@each_case
def test_checkpoint_is_a_folder_of_json_safetensors_and_a_card(case: Case, zoo: Zoo, tmp_path: Path) -> None:
    import json

    model = zoo.get(case.name)
    folder = Path(model.save_pretrained(tmp_path / case.name))
    meta = json.loads((folder / "argmine.json").read_text(encoding="utf-8"))
    assert meta["kind"] == model.meta.kind and meta["labels"] == list(model.meta.labels)
    assert meta["argmine_version"]
    assert (folder / "README.md").is_file()
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert any(p.suffix == ".safetensors" for p in files)
    for path in files:  # no pickle anywhere: a pickle starts with the PROTO opcode 0x80
        assert not path.read_bytes().startswith(b"\x80"), path


@each_case
def test_reloaded_model_predicts_the_same(case: Case, zoo: Zoo, tmp_path: Path) -> None:
    model = zoo.get(case.name)
    before = case.predict(model, PROBES)
    again = case.load(model.save_pretrained(tmp_path / case.name))
    assert type(again) is type(model)
    assert again.meta.labels == model.meta.labels
    same_predictions(before, case.predict(again, PROBES))
    same_predictions(before, case.predict(model, PROBES))  # predicting changed nothing in the model


@each_case
def test_predicts_on_an_empty_text(case: Case, zoo: Zoo) -> None:
    model = zoo.get(case.name)
    for empty in ("", " \n\t "):  # nothing, and only white space
        (prediction,) = case.predict(model, [empty])
        assert case.valid_empty(model, prediction), (empty, prediction)
    # among other texts too, in its place, changing nothing for the others
    predictions = case.predict(model, [TEXTS[1], "", TEXTS[2]])
    assert case.valid_empty(model, predictions[1]), predictions[1]
    same_predictions([predictions[0], predictions[2]], case.predict(model, [TEXTS[1], TEXTS[2]]))


def test_pipeline_mines_a_thread_with_nothing_in_it(zoo: Zoo) -> None:
    """An empty post and an empty comment: no components, and no stance (stance is toward the post)."""
    thread = zoo.get("pipeline").mine_texts("", [""])
    assert thread.post.components == () and thread.post.stance is None
    (comment,) = thread.comments
    assert comment.components == () and comment.stance is None
    assert thread.meta["mined"]["stance"] == "not predicted: the original post is empty"


@each_case
def test_predicts_nothing_for_no_texts(case: Case, zoo: Zoo) -> None:
    assert case.predict(zoo.get(case.name), []) == []
