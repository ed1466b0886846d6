"""Segmenter checkpoints and training on a tiny in-process encoder (never the real one): seconds, not minutes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tiny_models import build_encoder, build_segmenter, claim_example, edit_meta, vocabulary

from argmine.checkpoint import META_FILE
from argmine.errors import CheckpointError
from argmine.segmenter.encoding import bio_tags
from argmine.segmenter.model import Segmenter
from argmine.segmenter.train import evaluate_segmenter, train_segmenter, with_final_stops
from argmine.thread import Comment, Component, Post, Relation, Thread

pytestmark = pytest.mark.usefixtures("one_torch_thread")

WORDS = (  # noqa: SIM905 (a vocabulary reads best as one string)
    "we should tax the rich more because they can pay . , it is fair not people need schools so ban cars air clean "
    "##s ##es"
).split()
LABELS = ("Claim", "Premise")
LORA_FILES = {
    "argmine.json",
    "adapter_config.json",
    "adapter_model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "README.md",
}
FULL_FILES = {
    "argmine.json",
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "README.md",
}

TRAIN = [
    claim_example("we should tax the rich more", "they can pay"),
    claim_example("We should ban cars", "people need clean air"),
    claim_example("it is fair", "people need schools"),
    claim_example("we should tax  cars", "air is not clean", glue=" , because "),
] * 2
DEV = [claim_example("we should ban the rich", "they can pay"), claim_example("it is not fair", "people need air")]


def build_base(folder: Path, seed: int) -> Path:
    """A random BERT over WORDS alone (no letters: other words are [UNK]), 64 positions, BERT's usual init."""
    return build_encoder(folder, vocab=vocabulary(WORDS, letters=""), max_positions=64, initializer_range=0.02, seed=seed)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return build_base(tmp_path_factory.mktemp("tiny-base"), seed=0)


@pytest.fixture(scope="module")
def lora_checkpoint(base, tmp_path_factory):
    segmenter = build_segmenter(base, examples=TRAIN, labels=LABELS, max_length=12, stride=3)
    folder = segmenter.save_pretrained(tmp_path_factory.mktemp("lora") / "ckpt")
    return segmenter, folder


def train_tiny(train, dev, base: Path, output_dir: Path, *, labels=LABELS, **settings) -> dict:
    """train_segmenter on the tiny base: windows of 16 tokens (stride 4), one thread, no progress bar."""
    return train_segmenter(
        train,
        dev,
        labels=labels,
        output_dir=output_dir,
        encoder=base,
        max_length=16,
        stride=4,
        threads=1,
        progress=False,
        **settings,
    )


def spans(predictions):
    return [[(c.start, c.end, c.label, c.text) for c in components] for components in predictions]


def copy_of(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(folder, target)
    return target


def relabel(folder: Path, labels: list[str]) -> None:
    """Edit the label list consistently (labels and tags), as someone fixing a checkpoint by hand might."""
    edit_meta(folder, labels=labels, **{"settings.tags": list(bio_tags(labels))})


# -- LoRA ------------------------------------------------------------------------------


def test_lora_checkpoint_round_trip(lora_checkpoint):
    segmenter, folder = lora_checkpoint
    texts = [t for t, _ in TRAIN[:4]] + ["", "we should tax the rich more because they can pay . " * 3]
    before = segmenter.predict(texts, batch_size=3)
    # it learnt the fixture: windows of 12 tokens, yet the spans are exact
    assert spans(before[:4]) == spans([comps for _, comps in TRAIN[:4]])
    assert before[4] == []
    loaded = Segmenter.from_pretrained(folder)
    after = loaded.predict(texts, batch_size=2)
    assert spans(after) == spans(before)
    assert [c.score for comps in after for c in comps] == pytest.approx(
        [c.score for comps in before for c in comps], abs=1e-5
    )
    assert loaded.labels == LABELS and loaded.finetune == "lora" and loaded.max_length == 12 and loaded.stride == 3
    resaved = loaded.save_pretrained(folder.parent / "resaved")
    assert spans(Segmenter.from_pretrained(resaved).predict(texts)) == spans(before)


def test_lora_folder_holds_only_json_safetensors_tokenizer_and_card(lora_checkpoint, base):
    _, folder = lora_checkpoint
    assert {p.name for p in folder.iterdir()} == LORA_FILES
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    assert meta["kind"] == "components" and meta["labels"] == list(LABELS) and meta["finetune"] == "lora"
    assert meta["settings"]["tags"] == ["O", "B-Claim", "I-Claim", "B-Premise", "I-Premise"]
    assert len(meta["base_sha256"]) == 64
    adapter = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    assert adapter["base_model_name_or_path"] == str(base)  # the name given at training time
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "Claim, Premise" in card and "Limits" in card


def test_predict_keeps_order_and_handles_empty_input(lora_checkpoint):
    segmenter, _ = lora_checkpoint
    texts = [t for t, _ in TRAIN[:4]]
    forward = segmenter.predict(texts)
    backward = segmenter.predict(texts[::-1], batch_size=1)
    assert spans(backward[::-1]) == spans(forward)
    assert segmenter.predict([]) == []
    assert segmenter.predict(["", "  \n"]) == [[], []]
    with pytest.raises(TypeError):
        segmenter.predict("one text")


def test_predict_threads_returns_new_threads(lora_checkpoint):
    segmenter, _ = lora_checkpoint
    text, gold = TRAIN[0]
    post = Post(id="op", author=None, text=text, components=gold)
    reply_text, _ = TRAIN[1]
    comment = Comment(id="r", author="a", reply_to="op", text=reply_text)
    thread = Thread(id="t", post=post, comments=[comment], relations=[Relation("p", "c", "support")])
    (predicted,) = segmenter.predict_threads([thread])
    assert thread.post.components == tuple(gold) and len(thread.relations) == 1  # input untouched
    assert predicted.relations == ()
    assert [c.id for c in predicted.post.components] == ["op.c1", "op.c2"]
    assert [(c.start, c.end) for c in predicted.post.components] == [(g.start, g.end) for g in gold]
    assert all(c.id.startswith("r.") for c in predicted.comments[0].components)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda f: (f / "adapter_model.safetensors").unlink(), "missing adapter_model.safetensors"),
        (lambda f: (f / "tokenizer.json").unlink(), "missing tokenizer.json"),
        (lambda f: (f / META_FILE).unlink(), "not an argmine checkpoint"),
        (lambda f: edit_meta(f, argmine_version="9.0.0"), "argmine 9.0.0"),
        (lambda f: edit_meta(f, kind="stance"), "expected 'components'"),
        (lambda f: edit_meta(f, finetune="adapters"), "finetune"),
        (lambda f: relabel(f, ["Claim", "Premise", "MajorClaim"]), "head predicts 5 tags but .* make 7"),
        (lambda f: edit_meta(f, labels=["Premise", "Claim"]), "do not match labels"),
        (lambda f: (f / "adapter_model.safetensors").write_bytes(b"not safetensors"), "safetensors"),
    ],
)
def test_broken_lora_folders_raise_checkpoint_error(lora_checkpoint, tmp_path, damage, message):
    _, folder = lora_checkpoint
    broken = copy_of(folder, tmp_path)
    damage(broken)
    with pytest.raises(CheckpointError, match=message):
        Segmenter.from_pretrained(broken)


def test_lora_refuses_another_base_encoder(lora_checkpoint, tmp_path):
    _, folder = lora_checkpoint
    other = build_base(tmp_path / "other-base", seed=1)  # same shapes, other weights
    broken = copy_of(folder, tmp_path)
    edit_meta(broken, base_encoder=str(other))
    with pytest.raises(CheckpointError, match="sha256"):
        Segmenter.from_pretrained(broken)


def test_save_replaces_an_existing_checkpoint_atomically(lora_checkpoint, tmp_path):
    segmenter, _ = lora_checkpoint
    target = tmp_path / "ckpt"
    segmenter.save_pretrained(target)
    segmenter.save_pretrained(target, card="# custom card\n")
    assert (target / "README.md").read_text(encoding="utf-8") == "# custom card\n"
    assert {p.name for p in tmp_path.iterdir()} == {"ckpt"}  # no staging leftovers


# -- full fine-tuning and train_segmenter -------------------------------------------------------


def test_train_segmenter_full_round_trip(base, tmp_path):
    output = tmp_path / "full"
    metrics = train_tiny(
        TRAIN,
        DEV,
        base,
        output,
        finetune="full",
        epochs=3,
        learning_rate=5e-3,
        batch_size=4,
        seed=0,
        training_info={"data": "fixture", "command": "pytest"},
    )
    assert {p.name for p in output.iterdir()} == FULL_FILES
    assert 1 <= metrics["train/best_epoch"] <= 3 and metrics["train/steps"] == 6
    for key in (
        "components/span_exact/micro_f1",
        "components/span_overlap50/micro_f1",
        "components/token/macro_f1",
        "components/span_exact/Claim/f1",
        "components/span_exact/Premise/recall",
    ):
        assert 0.0 <= metrics[key] <= 1.0
    loaded = Segmenter.from_pretrained(output)
    assert loaded.finetune == "full"
    # the saved model is the best epoch: re-scoring dev gives the reported numbers
    rescored = evaluate_segmenter(loaded, DEV)
    assert rescored["components/span_exact/micro_f1"] == pytest.approx(metrics["components/span_exact/micro_f1"])
    meta = json.loads((output / META_FILE).read_text(encoding="utf-8"))
    assert meta["training"]["data"] == "fixture" and meta["training"]["best_epoch"] == metrics["train/best_epoch"]
    assert "- data: fixture" in (output / "README.md").read_text(encoding="utf-8")

    relabel(output, ["Claim"])
    with pytest.raises(CheckpointError, match="head predicts 5 tags but .* make 3"):
        Segmenter.from_pretrained(output)


def test_train_segmenter_resumes_a_finished_run_without_training(base, tmp_path):
    args = {
        "finetune": "lora",
        "epochs": 2,
        "learning_rate": 1e-2,
        "batch_size": 4,
        "seed": 3,
        "lora_rank": 2,
        "state_dir": tmp_path / "state",
    }
    first = train_tiny(TRAIN, DEV, base, tmp_path / "a", **args)
    assert (tmp_path / "state" / "state.json").is_file()
    again = train_tiny(TRAIN, DEV, base, tmp_path / "b", **args)
    for key, value in first.items():
        if key.startswith("components/"):
            assert again[key] == pytest.approx(value), key
    a = Segmenter.from_pretrained(tmp_path / "a").predict([t for t, _ in DEV])
    b = Segmenter.from_pretrained(tmp_path / "b").predict([t for t, _ in DEV])
    assert spans(a) == spans(b)
    with pytest.raises(ValueError, match="other settings"):
        train_tiny(TRAIN, DEV, base, tmp_path / "c", **{**args, "learning_rate": 2e-2})


def test_train_segmenter_accepts_threads_and_checks_labels(base, tmp_path):
    text, gold = TRAIN[0]
    thread = Thread(id="t", post=Post(id="op", author=None, text=text, components=gold))
    metrics = train_tiny(
        [thread], None, base, tmp_path / "t", finetune="lora", epochs=1, learning_rate=1e-2, batch_size=2, max_steps=1
    )
    assert metrics["train/steps"] == 1 and "components/span_exact/micro_f1" not in metrics  # no dev
    with pytest.raises(ValueError, match="training message 0: .*'Claim'"):
        train_tiny(TRAIN, None, base, tmp_path / "x", labels=["Premise"], epochs=1, learning_rate=1e-2, batch_size=2)


def test_create_validates_its_arguments(base):
    with pytest.raises(ValueError, match="finetune"):
        Segmenter.create(LABELS, encoder=base, finetune="adapter")
    with pytest.raises(ValueError, match="max_length"):
        Segmenter.create(LABELS, encoder=base, max_length=65)  # the tiny encoder has 64 positions
    with pytest.raises(ValueError, match="stride"):
        Segmenter.create(LABELS, encoder=base, max_length=16, stride=9)
    with pytest.raises(CheckpointError):
        Segmenter.create(LABELS, encoder="no-such-encoder")


def test_final_stops_are_taught_only_where_a_sentence_ends_right_after_a_component():
    text = "Taxes fell . Rents rose, sadly. “ Cars go ”? Air"
    parts = ["Taxes fell", "Rents rose", "sadly.", "Cars go", "Air"]
    starts = [text.index(p) for p in parts]
    gold = [Component(f"c{i}", s, s + len(p), "Claim", p) for i, (s, p) in enumerate(zip(starts, parts))]
    widened = with_final_stops(text, gold)
    # "Taxes fell" takes " ."; "Rents rose" is followed by a comma; "sadly." has its stop; "Cars go" stops
    # before a closing quote, not a full stop; "Air" ends the text
    assert [c.text for c in widened] == ["Taxes fell .", "Rents rose", "sadly.", "Cars go", "Air"]
    assert all(text[c.start : c.end] == c.text for c in widened)
    # never into the next component
    tight = [Component("a", 0, 10, "Claim", "Taxes fell"), Component("b", 11, 12, "Premise", ".")]
    assert with_final_stops(text, tight) == tuple(tight)


def test_train_segmenter_records_the_final_stop_setting(base, tmp_path):
    train_tiny(TRAIN, None, base, tmp_path / "f", epochs=1, learning_rate=1e-2, batch_size=2, max_steps=1,
               final_stop="include")
    meta = json.loads((tmp_path / "f" / META_FILE).read_text(encoding="utf-8"))
    assert meta["training"]["settings"]["task"]["final_stop"] == "include"
    with pytest.raises(ValueError, match="final_stop"):
        train_tiny(TRAIN, None, base, tmp_path / "g", epochs=1, max_steps=1, final_stop="always")
