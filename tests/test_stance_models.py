"""Stance classifiers on a tiny in-process encoder and an invented dataset: train, save, reload, predict."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_models import build_encoder, edit_meta, vocabulary

from argmine.errors import CheckpointError
from argmine.evaluation.stance import stance_metrics
from argmine.stance.baseline import SklearnStanceClassifier
from argmine.stance.inputs import StanceExample, StanceInput, stance_examples
from argmine.stance.predict import load_stance_classifier, predict_threads
from argmine.stance.train import class_weights, train_stance
from argmine.stance.transformer import TransformerStanceClassifier
from argmine.thread import Comment, Post, Stance, Thread

LABELS = ("support", "attack", "none")
CUES = {
    "support": ["yes", "agree", "exactly", "right"],
    "attack": ["no", "disagree", "wrong", "false"],
    "none": ["what", "when", "lol", "maybe"],
}
FILLER = ["the", "city", "rule", "park", "bus", "today", "is", "it", "we", "you", "this", "that"]
POSTS = ["the city should close the park today .", "the bus rule is good for we .", "this rule is bad ."]


def invented_examples(n: int, seed: int, weights: tuple[int, ...] = (2, 2, 5)) -> list[StanceExample]:
    """Comments whose label shows in one cue word among filler; ``none`` dominates as in the real data."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = rng.choices(LABELS, weights)[0]
        words = rng.sample(FILLER, 4) + [rng.choice(CUES[label])]
        rng.shuffle(words)
        parent = " ".join(rng.sample(FILLER, 3)) if rng.random() < 0.3 else None
        out.append(
            StanceExample(
                "t", f"c{i}", "comment", StanceInput(rng.choice(POSTS), " ".join(words) + " .", parent), label
            )
        )
    return out


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT with a WordPiece vocabulary of the invented words, saved as an encoder folder."""
    words = sorted({w for ws in CUES.values() for w in ws} | set(FILLER) | {"replying", "to", "|", ":", "…", "."})
    vocab = vocabulary(words, letters="abcdefghijklmnopqrstuvwxyz")
    return build_encoder(tmp_path_factory.mktemp("tiny-encoder"), vocab=vocab)


def train_tiny(encoder: Path, out: Path, finetune: str, **kw: object) -> dict:
    train, dev = invented_examples(80, seed=1), invented_examples(24, seed=2)
    settings = {
        "classifier": "transformer",
        "labels": LABELS,
        "encoder": str(encoder),
        "finetune": finetune,
        "output_dir": out,
        "epochs": 4,
        "lr": 1e-2 if finetune == "lora" else 2e-3,
        "batch_size": 8,
        "max_length": 48,
        "post_reserve": 8,
        "parent_reserve": 6,
        "progress": False,
    }
    settings.update(kw)
    return train_stance(train, dev, **settings)  # type: ignore[arg-type]


def test_lora_train_save_reload_same_predictions(tiny_encoder: Path, tmp_path: Path) -> None:
    metrics = train_tiny(tiny_encoder, tmp_path / "lora", "lora")
    assert metrics["train/losses"][-1] < metrics["train/losses"][0]  # it learned something
    assert 1 <= metrics["train/best_epoch"] <= 4
    assert 0.0 <= metrics["stance/dev/macro_f1"] <= 1.0
    folder = tmp_path / "lora"
    names = {p.name for p in folder.iterdir()}
    assert {"argmine.json", "adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "README.md"} <= names
    assert "model.safetensors" not in names  # the delta only, not the encoder
    meta = json.loads((folder / "argmine.json").read_text())
    assert meta["kind"] == "stance" and meta["labels"] == list(LABELS) and meta["finetune"] == "lora"
    assert meta["training"]["best_epoch"] == metrics["train/best_epoch"]
    assert json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tiny_encoder)

    from safetensors import safe_open

    with safe_open(str(folder / "adapter_model.safetensors"), "pt") as weights:
        keys = list(weights.keys())
    assert any("classifier" in k for k in keys) and any("pooler" in k for k in keys) and any("lora_" in k for k in keys)

    dev = [e.input for e in invented_examples(24, seed=2)]
    trained = TransformerStanceClassifier.from_pretrained(folder)  # reload
    again = load_stance_classifier(folder)
    assert isinstance(again, TransformerStanceClassifier)
    first = trained.predict_proba(dev)
    np.testing.assert_allclose(again.predict_proba(dev), first, atol=1e-6)
    assert [s.label for s in trained.predict(dev)] == [LABELS[j] for j in first.argmax(axis=1)]
    # order is kept whatever the length bucketing does
    reversed_labels = [s.label for s in trained.predict(dev[::-1], batch_size=5)]
    assert reversed_labels == [s.label for s in trained.predict(dev)][::-1]
    assert trained.predict([]) == []
    # a reloaded model saves again to an equivalent checkpoint
    trained.save_pretrained(tmp_path / "resaved")
    np.testing.assert_allclose(
        TransformerStanceClassifier.from_pretrained(tmp_path / "resaved").predict_proba(dev), first, atol=1e-6
    )


def test_full_finetune_save_reload(tiny_encoder: Path, tmp_path: Path) -> None:
    train_tiny(tiny_encoder, tmp_path / "full", "full", epochs=1, max_steps=3)
    names = {p.name for p in (tmp_path / "full").iterdir()}
    assert {"config.json", "model.safetensors", "argmine.json"} <= names and "adapter_config.json" not in names
    model = TransformerStanceClassifier.from_pretrained(tmp_path / "full")
    dev = [e.input for e in invented_examples(10, seed=3)]
    np.testing.assert_allclose(
        model.predict_proba(dev), TransformerStanceClassifier.from_pretrained(tmp_path / "full").predict_proba(dev)
    )
    assert model.meta.training["steps"] == 3


@pytest.mark.parametrize("finetune", ["lora", "full"])
def test_mean_pooling_trains_saves_and_reads_the_token_mean(tiny_encoder: Path, tmp_path: Path, finetune: str) -> None:
    import torch

    folder = tmp_path / finetune
    metrics = train_tiny(tiny_encoder, folder, finetune, pooling="mean", epochs=2)
    assert metrics["train/losses"][-1] < metrics["train/losses"][0]
    model = TransformerStanceClassifier.from_pretrained(folder)
    assert model.pooling == "mean"
    assert json.loads((folder / "argmine.json").read_text())["settings"]["pooling"] == "mean"
    if finetune == "lora":  # the unused pooler is neither trained nor saved
        from safetensors import safe_open

        with safe_open(str(folder / "adapter_model.safetensors"), "pt") as weights:
            keys = list(weights.keys())
        assert any("classifier" in k for k in keys) and not any("pooler" in k for k in keys)

    dev = [e.input for e in invented_examples(12, seed=4)]
    probabilities = model.predict_proba(dev)
    # the same numbers by hand: the classifier on the mask-weighted mean of the last token states
    inner = model.model.get_base_model() if finetune == "lora" else model.model
    batch = model.collate(model.tokenize(dev))
    with torch.inference_mode():
        states = inner.bert(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        expected = torch.softmax(inner.classifier((states * mask).sum(1) / mask.sum(1)), dim=-1).numpy()
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    # padding does not move the mean: an input alone scores as it does in a padded batch
    np.testing.assert_allclose(model.predict_proba(dev[:1]), probabilities[:1], atol=1e-5)


def test_lora_with_the_top_layer_trained_in_full(tiny_encoder: Path, tmp_path: Path) -> None:
    from safetensors import safe_open

    folder = tmp_path / "top"
    train_tiny(tiny_encoder, folder, "lora", full_top_layers=1, epochs=1, max_steps=3)
    meta = json.loads((folder / "argmine.json").read_text())
    assert meta["settings"]["lora"]["full_top_layers"] == 1
    with safe_open(str(folder / "adapter_model.safetensors"), "pt") as weights:
        keys = list(weights.keys())
    top = [k for k in keys if "encoder.layer.1." in k]
    # the top layer is saved whole (its plain weights, no adapters); the layer below keeps its adapters
    assert any(k.endswith("attention.self.query.weight") for k in top) and not any("lora_" in k for k in top)
    assert any("encoder.layer.0." in k and "lora_" in k for k in keys)
    model = TransformerStanceClassifier.from_pretrained(folder)
    trained_top = model.model.get_base_model().bert.encoder.layer[1].modules_to_save["default"]
    from transformers import AutoModel

    base_query = AutoModel.from_pretrained(str(tiny_encoder)).encoder.layer[1].attention.self.query.weight
    assert not np.allclose(trained_top.attention.self.query.weight.detach().numpy(), base_query.detach().numpy())
    dev = [e.input for e in invented_examples(8, seed=5)]
    again = TransformerStanceClassifier.from_pretrained(folder)
    np.testing.assert_allclose(again.predict_proba(dev), model.predict_proba(dev))
    for bad, finetune in ((2, "lora"), (-1, "lora"), (1, "full")):  # two layers in all: 2 is full fine-tuning
        with pytest.raises(ValueError, match="full_top_layers"):
            TransformerStanceClassifier.create(
                LABELS, encoder=tiny_encoder, finetune=finetune, max_length=48, post_reserve=8, parent_reserve=6,
                full_top_layers=bad,
            )


def test_long_inputs_fit_max_length(tiny_encoder: Path) -> None:
    model = TransformerStanceClassifier.create(
        LABELS, encoder=tiny_encoder, max_length=48, post_reserve=8, parent_reserve=6
    )
    long = " ".join(["the city is it ."] * 60)
    rows = model.tokenize([StanceInput(long, long, long), (long, "yes")])
    assert max(len(r["input_ids"]) for r in rows) <= 48
    first, second = model.encode_pairs([StanceInput(long, "yes agree .", long)])[0]
    assert second == "yes agree ." and first.endswith("…")


def test_long_text_readings_pool_every_window(tiny_encoder: Path) -> None:
    torch.manual_seed(0)  # the untrained head's weights: the same windows' probabilities on every run
    heads = TransformerStanceClassifier.create(
        LABELS, encoder=tiny_encoder, max_length=48, post_reserve=8, parent_reserve=6, long_text="head"
    )
    assert heads.meta.settings["long_text"] == "head"
    post = "the city should build it ."
    long = " ".join(["the city is it ."] * 30) + " yes agree ."
    item, short = StanceInput(post, long), StanceInput(post, "yes agree .")
    windows = heads.window_pairs([item])[0]
    assert len(windows) > 2 and windows[-1][1].endswith("yes agree .")
    p = heads.proba_of_rows(heads.tokenize_pairs(windows))
    np.testing.assert_allclose(heads.predict_proba([item])[0], heads.proba_of_rows(heads.tokenize([item]))[0])
    for reading in ("windows_mean", "windows_sided_max"):
        heads.long_text = reading  # the same weights, read another way
        row = heads.predict_proba([item, short])
        np.testing.assert_allclose(row[1], heads.proba_of_rows(heads.tokenize([short]))[0], rtol=1e-5)  # fits: as before
        np.testing.assert_allclose(row[0].sum(), 1.0, rtol=1e-5)
        np.testing.assert_allclose(row[0], heads.pool_windows(p), rtol=1e-5)
    none = LABELS.index("none")
    sided = p.max(axis=0)
    sided[none] = p[:, none].min()  # each side from its surest window, none from its least sure
    np.testing.assert_allclose(heads.pool_windows(p), sided / sided.sum(), rtol=1e-5)
    heads.long_text = "windows_mean"
    np.testing.assert_allclose(heads.pool_windows(p), p.mean(axis=0), rtol=1e-5)
    assert not np.allclose(p.mean(axis=0), sided / sided.sum())  # the two rules differ on these windows


def test_create_rejects_bad_settings(tiny_encoder: Path) -> None:
    with pytest.raises(ValueError, match="finetune"):
        TransformerStanceClassifier.create(LABELS, encoder=tiny_encoder, finetune="adapters")
    with pytest.raises(ValueError, match="max_length"):
        TransformerStanceClassifier.create(LABELS, encoder=tiny_encoder, max_length=1000)
    with pytest.raises(ValueError, match="two distinct"):
        TransformerStanceClassifier.create(["support", "support"], encoder=tiny_encoder)
    with pytest.raises(ValueError, match="pooling"):
        TransformerStanceClassifier.create(LABELS, encoder=tiny_encoder, pooling="max")
    with pytest.raises(ValueError, match="long_text"):
        TransformerStanceClassifier.create(LABELS, encoder=tiny_encoder, long_text="tail")


@pytest.fixture()
def lora_checkpoint(tiny_encoder: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "ckpt"
    model = TransformerStanceClassifier.create(
        LABELS, encoder=tiny_encoder, max_length=48, post_reserve=8, parent_reserve=6
    )
    model.save_pretrained(folder)
    return folder


def test_bad_transformer_checkpoints(lora_checkpoint: Path, tmp_path: Path) -> None:
    TransformerStanceClassifier.from_pretrained(lora_checkpoint)  # the good one loads
    cases = {}
    for name in ("fingerprint", "kind", "labels", "missing", "corrupt", "version", "pooling", "long_text"):
        cases[name] = tmp_path / name
        shutil.copytree(lora_checkpoint, cases[name])
    edit_meta(cases["fingerprint"], base_sha256="0" * 64)
    edit_meta(cases["kind"], kind="stance-sklearn")
    edit_meta(cases["labels"], labels=["support", "attack"])
    (cases["missing"] / "adapter_model.safetensors").unlink()
    (cases["corrupt"] / "adapter_model.safetensors").write_bytes(b"not safetensors at all")
    edit_meta(cases["version"], argmine_version="9.0.0")
    settings = json.loads((lora_checkpoint / "argmine.json").read_text())["settings"]
    edit_meta(cases["pooling"], settings={**settings, "pooling": "max"})
    edit_meta(cases["long_text"], settings={**settings, "long_text": "tail"})
    expected = {
        "fingerprint": "sha256",
        "kind": "expected 'stance'",
        "labels": "LoRA adapter",
        "missing": "adapter_model.safetensors",
        "corrupt": "LoRA adapter",
        "version": "9.0.0",
        "pooling": "settings.pooling",
        "long_text": "settings.long_text",
    }
    for name, folder in cases.items():
        with pytest.raises(CheckpointError, match=expected[name]):
            TransformerStanceClassifier.from_pretrained(folder)
    with pytest.raises(CheckpointError, match="does not exist"):
        TransformerStanceClassifier.from_pretrained(tmp_path / "nowhere")


def test_class_weights() -> None:
    gold = ["none"] * 6 + ["support"] * 3 + ["attack"]
    assert class_weights(gold, LABELS, "balanced") == pytest.approx([10 / 9, 10 / 3, 10 / 18])
    assert class_weights(gold, LABELS, "sqrt") == pytest.approx([(10 / 9) ** 0.5, (10 / 3) ** 0.5, (10 / 18) ** 0.5])
    assert class_weights(gold, LABELS, "none") == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="no training example"):
        class_weights(["none"], LABELS, "balanced")
    with pytest.raises(ValueError, match="class_weighting"):
        class_weights(gold, LABELS, "inverse")


def test_reply_class_weights_balance_labels_within_each_reply_depth() -> None:
    from argmine.stance.objective import reply_class_weights

    # replies to replies: 3 none, 1 support (the nine-in-ten none of CMV and RumourEval, in small)
    gold = ["none", "none", "none", "support", "none", "attack"]
    nested = [True, True, True, True, False, False]
    w = reply_class_weights(gold, nested)
    assert sum(w) == pytest.approx(len(w))
    assert sum(w[:3]) == pytest.approx(w[3])  # within the nested group, none weighs as much as support
    assert w[4] == pytest.approx(w[5])
    assert sum(w[:4]) / sum(w[4:]) == pytest.approx(4 / 2)  # each group keeps its share of the examples
    assert class_weights(gold, LABELS, "reply+class") == [1.0, 1.0, 1.0]  # the loss weighs each example instead


def test_train_rejects_unknown_or_missing_labels(tmp_path: Path) -> None:
    bad = [StanceExample("t", "c", "comment", StanceInput("p", "x"), "deny")]
    with pytest.raises(ValueError, match="'deny'.*map it in the data config"):
        train_stance(bad, [], classifier="sklearn", labels=LABELS, output_dir=tmp_path / "x")
    unlabelled = [StanceExample("t", "c", "comment", StanceInput("p", "x"), None)]
    with pytest.raises(ValueError, match="no gold label"):
        train_stance(unlabelled, [], classifier="sklearn", labels=LABELS, output_dir=tmp_path / "x")
    with pytest.raises(ValueError, match="classifier"):
        train_stance(invented_examples(5, 0), [], classifier="svm", labels=LABELS, output_dir=tmp_path / "x")


# -- the scikit-learn baseline ------------------------------------------------------


def test_sklearn_train_save_reload_same_probabilities(tmp_path: Path) -> None:
    train, dev = invented_examples(150, seed=1), invented_examples(60, seed=2)
    metrics = train_stance(
        train, dev, classifier="sklearn", labels=LABELS, output_dir=tmp_path / "sk", sklearn_c=(1.0, 10.0)
    )
    assert metrics["stance/dev/macro_f1"] > 0.8  # the cue words make this easy
    folder = tmp_path / "sk"
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["README.md", "argmine.json", "features.json", "model.safetensors"]
    for path in folder.iterdir():  # no pickle anywhere: pickles start with the PROTO opcode 0x80
        assert not path.read_bytes().startswith(b"\x80")
    meta = json.loads((folder / "argmine.json").read_text())
    assert meta["kind"] == "stance-sklearn" and meta["settings"]["c"] in (1.0, 10.0)
    assert set(meta["settings"]["dev_macro_f1_by_c"]) == {"1.0", "10.0"}

    inputs = [e.input for e in dev] + [("a post", "yes agree")]
    fitted = SklearnStanceClassifier.fit(
        [e.input for e in train], [e.label for e in train], LABELS, c_values=(meta["settings"]["c"],)
    )
    reloaded = SklearnStanceClassifier.from_pretrained(folder)
    assert isinstance(load_stance_classifier(folder), SklearnStanceClassifier)
    assert np.array_equal(reloaded.predict_proba(inputs), fitted.predict_proba(inputs))
    assert np.allclose(reloaded.predict_proba(inputs).sum(axis=1), 1.0)
    assert [s.label for s in reloaded.predict(inputs, batch_size=7)] == [s.label for s in fitted.predict(inputs)]


def test_sklearn_matches_scikit_learn_predict_proba() -> None:
    """Our own arithmetic over the stored arrays equals LogisticRegression.predict_proba."""
    from sklearn.linear_model import LogisticRegression

    train = invented_examples(90, seed=4)
    model = SklearnStanceClassifier.fit([e.input for e in train], [e.label for e in train], LABELS)
    x = model.features([e.input for e in train])
    reference = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000, random_state=0)
    reference.fit(x, [LABELS.index(e.label) for e in train])
    np.testing.assert_allclose(model.predict_proba([e.input for e in train]), reference.predict_proba(x), atol=1e-4)


def test_sklearn_two_labels(tmp_path: Path) -> None:
    train = [e for e in invented_examples(120, seed=5) if e.label != "none"]
    model = SklearnStanceClassifier.fit([e.input for e in train], [e.label for e in train], ("support", "attack"))
    assert model.coef.shape[0] == 1
    model.save_pretrained(tmp_path / "two")
    again = SklearnStanceClassifier.from_pretrained(tmp_path / "two")
    probe = [("p", "yes agree right"), ("p", "no wrong false")]
    assert [s.label for s in again.predict(probe)] == ["support", "attack"]


def test_sklearn_rejects_labels_without_examples() -> None:
    train = [e for e in invented_examples(40, seed=5) if e.label != "none"]
    with pytest.raises(ValueError, match=r"\['none'\] have no training example"):
        SklearnStanceClassifier.fit([e.input for e in train], [e.label for e in train], LABELS)


def test_bad_sklearn_checkpoints(tmp_path: Path) -> None:
    train = invented_examples(60, seed=6)
    good = tmp_path / "good"
    SklearnStanceClassifier.fit([e.input for e in train], [e.label for e in train], LABELS).save_pretrained(good)
    cases = {}
    for name in ("missing", "shape", "json", "kind", "vocab"):
        cases[name] = tmp_path / name
        shutil.copytree(good, cases[name])
    (cases["missing"] / "features.json").unlink()
    edit_meta(cases["shape"], labels=["support", "attack", "none", "query"])
    (cases["json"] / "features.json").write_text("{not json")
    edit_meta(cases["kind"], kind="stance")
    spec = json.loads((cases["vocab"] / "features.json").read_text())
    spec["blocks"][0]["vocabulary"] = spec["blocks"][0]["vocabulary"][:-1]
    (cases["vocab"] / "features.json").write_text(json.dumps(spec))
    expected = {
        "missing": "missing features.json",
        "shape": "do not fit 4 labels",
        "json": "not valid JSON",
        "kind": "expected 'stance-sklearn'",
        "vocab": r"blocks\[0\]: idf vector",
    }
    for name, folder in cases.items():
        with pytest.raises(CheckpointError, match=expected[name]):
            SklearnStanceClassifier.from_pretrained(folder)


# -- on threads ---------------------------------------------------------------------


def test_predict_threads_replaces_every_stance_and_scores(tmp_path: Path) -> None:
    train = invented_examples(150, seed=1)
    model = SklearnStanceClassifier.fit([e.input for e in train], [e.label for e in train], LABELS)
    comments = [
        Comment(id="a", author=None, text="yes i agree , exactly right .", reply_to="op", stance=Stance("support")),
        Comment(id="b", author=None, text="no , that is wrong and false .", reply_to="op", stance=Stance("attack")),
        Comment(id="c", author=None, text="lol what", reply_to="b", stance=Stance("none")),
    ]
    gold = Thread(id="t", post=Post(id="op", author=None, text=POSTS[0], stance=Stance("support")), comments=comments)
    (pred,) = predict_threads(model, [gold], level="comment")
    assert pred.post.stance is None  # gold stances never leak into the prediction
    assert [c.stance.label for c in pred.comments] == ["support", "attack", "none"]
    assert all(0 < c.stance.score <= 1 for c in pred.comments)
    assert stance_metrics([gold], [pred], LABELS)["stance/comments/accuracy"] == 1.0
    (with_post,) = predict_threads(model, [gold], level="comment", include_posts=True)
    assert with_post.post.stance is not None
    assert len(stance_examples([gold], "comment", include_posts=True)) == 4


def test_corpus_class_weighting_and_selection_by_the_mean_over_dev_corpora(tiny_encoder: Path, tmp_path: Path) -> None:
    """Each training corpus weighs the same in the loss; the epoch kept is the best mean over the dev corpora."""
    from dataclasses import replace

    def two_corpora(n_big: int, n_small: int, seed: int) -> list[StanceExample]:
        found = invented_examples(n_big + n_small, seed=seed)
        return [replace(e, corpus="big" if i < n_big else "small") for i, e in enumerate(found)]

    folder = tmp_path / "weighted"
    train, dev = two_corpora(60, 20, 1), two_corpora(16, 8, 2)
    metrics = train_stance(
        train, dev, classifier="transformer", labels=LABELS, encoder=str(tiny_encoder), output_dir=folder,
        epochs=2, lr=1e-2, batch_size=8, max_length=48, post_reserve=8, parent_reserve=6, progress=False,
        class_weighting="corpus+class",
    )  # fmt: skip
    for corpus in ("big", "small"):
        assert 0.0 <= metrics[f"stance/dev/{corpus}/macro_f1"] <= 1.0
    mean = (metrics["stance/dev/big/macro_f1"] + metrics["stance/dev/small/macro_f1"]) / 2
    assert metrics["stance/dev/mean_macro_f1"] == pytest.approx(mean)
    training = json.loads((folder / "argmine.json").read_text())["training"]
    assert training["select_metric"] == "stance/dev/mean_macro_f1"
    assert training["class_weighting"] == "corpus+class" and training["class_weights"] == dict.fromkeys(LABELS, 1.0)
    weights, counts = training["example_weights"], {}
    for example in train:
        key = f"{example.corpus}/{example.label}"
        counts[key] = counts.get(key, 0) + 1
    per_corpus = {c: sum(weights[k] * n for k, n in counts.items() if k.startswith(c + "/")) for c in ("big", "small")}
    assert per_corpus["big"] == pytest.approx(per_corpus["small"], rel=1e-3)  # 60 items weigh as much as 20
    assert per_corpus["big"] + per_corpus["small"] == pytest.approx(len(train), rel=1e-3)
    for corpus in ("big", "small"):  # and each label alike within a corpus
        totals = [weights[k] * n for k, n in counts.items() if k.startswith(corpus + "/")]
        assert max(totals) == pytest.approx(min(totals), rel=1e-3)
    # one corpus only: the pooled dev macro-F1 picks the epoch, as before
    single = train_tiny(tiny_encoder, tmp_path / "single", "lora", epochs=1)
    assert "stance/dev/mean_macro_f1" not in single
    assert json.loads((tmp_path / "single" / "argmine.json").read_text())["training"]["select_metric"] == (
        "stance/dev/macro_f1"
    )


def test_reply_class_weighting_trains_and_records_each_reply_depth(tiny_encoder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reply-weighted"
    train, dev = invented_examples(60, seed=1), invented_examples(16, seed=2)
    train_stance(
        train, dev, classifier="transformer", labels=LABELS, encoder=str(tiny_encoder), output_dir=folder,
        epochs=1, lr=1e-2, batch_size=8, max_length=48, post_reserve=8, parent_reserve=6, progress=False,
        class_weighting="reply+class",
    )  # fmt: skip
    training = json.loads((folder / "argmine.json").read_text())["training"]
    assert training["class_weighting"] == "reply+class"
    weights = training["example_weights"]
    groups = {key.split("/")[0] for key in weights}
    assert groups == {"direct reply", "reply to a reply"}
    counts: dict[str, int] = {}
    for example in train:
        key = f"{'reply to a reply' if example.input.parent else 'direct reply'}/{example.label}"
        counts[key] = counts.get(key, 0) + 1
    for group in groups:  # each label present in a group carries the same total weight there
        totals = [weights[k] * n for k, n in counts.items() if k.startswith(group + "/")]
        assert max(totals) == pytest.approx(min(totals), rel=1e-3)
