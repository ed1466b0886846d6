"""The pooled stance classifier: the pool, the weight choice, the held-out split, training, saving, loading."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_stance_models import LABELS, invented_examples, tiny_encoder  # noqa: F401 (a fixture)

from argmine.errors import CheckpointError
from argmine.stance.ensemble import EnsembleStanceClassifier, choose_weight, pool, split_holdout
from argmine.stance.predict import load_stance_classifier
from argmine.stance.train import train_stance


def test_pool_ends_are_the_members_and_the_middle_is_the_normalised_geometric_mean() -> None:
    p_t = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    p_s = np.array([[0.2, 0.5, 0.3], [0.3, 0.3, 0.4]])
    np.testing.assert_allclose(pool(p_t, p_s, 1.0), p_t)
    np.testing.assert_allclose(pool(p_t, p_s, 0.0), p_s)
    by_hand = np.sqrt(p_t * p_s)
    np.testing.assert_allclose(pool(p_t, p_s, 0.5), by_hand / by_hand.sum(axis=1, keepdims=True))
    # A member's hard zero lowers a label but leaves the row a distribution (no nan, no veto by log 0).
    zero = pool(np.array([[0.0, 1.0]]), np.array([[0.9, 0.1]]), 0.5)
    assert np.isfinite(zero).all() and zero.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shape"):
        pool(p_t, p_s[:1], 0.5)


def test_on_sklearn_only_labels_the_transformer_abstains() -> None:
    p_t = np.array([[0.7, 0.01, 0.29], [0.5, 0.01, 0.49]])  # never gives attack any mass
    p_s = np.array([[0.2, 0.5, 0.3], [0.1, 0.6, 0.3]])
    assert pool(p_t, p_s, 0.5).argmax(axis=1).tolist() == [0, 2]  # vetoed: attack loses everywhere
    abstained = pool(p_t, p_s, 0.5, sklearn_only=[1])
    assert abstained.argmax(axis=1).tolist() == [1, 1]
    np.testing.assert_allclose(abstained.sum(axis=1), 1.0)
    for row in range(2):  # attack's unnormalised score is p_sklearn's, the others' the geometric mean
        unnormalised = np.sqrt(p_t[row] * p_s[row])
        unnormalised[1] = p_s[row, 1]
        np.testing.assert_allclose(abstained[row], unnormalised / unnormalised.sum())
    np.testing.assert_allclose(pool(p_t, p_s, 0.0, sklearn_only=[1]), p_s)  # w = 0: the baseline either way
    gold = ["support", "attack"]
    weight, scores = choose_weight(p_t, p_s, gold, LABELS, [0.0, 1.0], sklearn_only=[1])
    assert weight == 1.0 and scores["1"] > scores["0"]  # support from the transformer, attack from sklearn


def test_choose_weight_follows_the_member_that_is_right() -> None:
    gold = ["support", "attack", "none", "none"]
    right = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.1, 0.1, 0.8]])
    wrong = right[:, ::-1].copy()  # puts its mass on another label for three of the four
    weight, scores = choose_weight(right, wrong, gold, LABELS, [0.0, 0.5, 1.0])
    assert weight == 1.0 and scores["1"] == pytest.approx(1.0) and scores["0"] < 1.0
    weight, _ = choose_weight(wrong, right, gold, LABELS, [0.0, 0.5, 1.0])
    assert weight == 0.0
    weight, _ = choose_weight(right, right, gold, LABELS, [0.25, 0.5, 1.0])
    assert weight == 0.25  # every weight ties: the first wins
    with pytest.raises(ValueError, match="grid"):
        choose_weight(right, right, gold, LABELS, [1.5])


def test_split_holdout_keeps_threads_whole_and_is_order_free() -> None:
    items = [(f"thread{i // 3}", i) for i in range(3000)]  # 1000 threads of 3 items
    kept, held = split_holdout(items, lambda x: x[0], 0.2, seed=13)
    assert len(kept) + len(held) == len(items)
    assert not {t for t, _ in kept} & {t for t, _ in held}
    assert 0.15 < len({t for t, _ in held}) / 1000 < 0.25
    reversed_kept, reversed_held = split_holdout(items[::-1], lambda x: x[0], 0.2, seed=13)
    assert sorted(reversed_held) == sorted(held) and sorted(reversed_kept) == sorted(kept)
    assert split_holdout(items, lambda x: x[0], 0.2, seed=14)[1] != held  # the seed draws another part
    with pytest.raises(ValueError, match="strictly between"):
        split_holdout(items, lambda x: x[0], 1.0, seed=13)


@pytest.mark.parametrize("fraction", [0.01, 0.99])
def test_split_holdout_puts_a_thread_on_each_side_even_when_the_draws_do_not(fraction: float) -> None:
    items = [("a", 1), ("a", 2), ("b", 3), ("c", 4)]
    kept, held = split_holdout(items, lambda x: x[0], fraction, seed=13)
    assert kept and held and sorted(kept + held) == items
    assert not {t for t, _ in kept} & {t for t, _ in held}
    with pytest.raises(ValueError, match="at least two threads"):
        split_holdout(items[:2], lambda x: x[0], 0.5, seed=13)


def threaded_examples(n: int, seed: int, threads: int) -> list:
    """``invented_examples`` spread over ``threads`` threads (the held-out split is by thread)."""
    return [replace(e, thread_id=f"t{i % threads}") for i, e in enumerate(invented_examples(n, seed=seed))]


def train_ensemble(encoder: Path, out: Path, **kw: object) -> dict:
    settings = {
        "classifier": "ensemble",
        "labels": LABELS,
        "encoder": str(encoder),
        "output_dir": out,
        "epochs": 2,
        "lr": 1e-2,
        "batch_size": 8,
        "max_length": 48,
        "post_reserve": 8,
        "parent_reserve": 6,
        "sklearn_c": (1.0, 0.25),
        "ensemble_weights": (0.0, 0.5, 1.0),
        "progress": False,
    }
    settings.update(kw)
    train, dev = threaded_examples(120, seed=1, threads=20), threaded_examples(24, seed=2, threads=4)
    return train_stance(train, dev, **settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(("refit", "sklearn_only"), [(True, ()), (False, ()), (False, ("attack",))])
def test_ensemble_trains_saves_and_reloads_as_the_pool_of_its_members(
    tiny_encoder: Path,  # noqa: F811
    tmp_path: Path,
    refit: bool,
    sklearn_only: tuple[str, ...],
) -> None:
    out = tmp_path / "ensemble"
    metrics = train_ensemble(tiny_encoder, out, ensemble_refit=refit, ensemble_sklearn_only=sklearn_only)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ensemble"]  # the members' work folder is gone
    meta = json.loads((out / "argmine.json").read_text())
    assert meta["kind"] == "stance-ensemble" and meta["labels"] == list(LABELS)
    settings = meta["settings"]
    assert settings["weight"] == metrics["train/ensemble_weight"] and settings["weight"] in (0.0, 0.5, 1.0)
    assert set(settings["holdout_macro_f1_by_weight"]) == {"0", "0.5", "1"}
    assert settings["holdout_examples"] == metrics["train/holdout_examples"] > 0
    for member in ("transformer", "sklearn"):
        assert 0.0 <= metrics[f"member/{member}/stance/dev/macro_f1"] <= 1.0
        trained_on = json.loads((out / member / "argmine.json").read_text())["training"]["train_examples"]
        assert trained_on == (120 if refit else 120 - metrics["train/holdout_examples"])
    assert 0.0 <= metrics["stance/dev/macro_f1"] <= 1.0
    assert ("unrefit/stance/dev/macro_f1" in metrics) == refit
    assert settings["sklearn_only"] == list(sklearn_only)

    loaded = load_stance_classifier(out)
    assert isinstance(loaded, EnsembleStanceClassifier) and loaded.sklearn_only == sklearn_only
    inputs = [e.input for e in invented_examples(12, seed=3)]
    members = loaded.transformer.predict_proba(inputs), loaded.sklearn.predict_proba(inputs)
    expected = pool(*members, loaded.weight, [LABELS.index(label) for label in sklearn_only])
    np.testing.assert_allclose(loaded.predict_proba(inputs), expected, rtol=1e-6)
    stances = loaded.predict(inputs)
    assert [s.label for s in stances] == [LABELS[j] for j in expected.argmax(axis=1)]
    assert [s.score for s in stances] == pytest.approx(expected.max(axis=1).tolist())
    assert loaded.predict_proba([]).shape == (0, len(LABELS))
    again = EnsembleStanceClassifier.from_pretrained(loaded.save_pretrained(tmp_path / "again"))
    np.testing.assert_allclose(again.predict_proba(inputs), expected, rtol=1e-6)


def test_ensemble_needs_threads_on_both_sides_of_the_split(tiny_encoder: Path, tmp_path: Path) -> None:  # noqa: F811
    train = [replace(e, thread_id="only") for e in invented_examples(40, seed=1)]
    with pytest.raises(ValueError, match="at least two threads"):
        train_stance(train, [], classifier="ensemble", labels=LABELS, output_dir=tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()


@pytest.fixture(scope="module")
def ensemble_checkpoint(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    out = tmp_path_factory.mktemp("ensemble") / "checkpoint"
    train_ensemble(tiny_encoder, out, epochs=1)
    return out


def _edit(folder: Path, file: str, edit) -> None:  # type: ignore[no-untyped-def]
    path = folder / file
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def test_bad_ensemble_checkpoints(ensemble_checkpoint: Path, tmp_path: Path) -> None:
    def copy(name: str) -> Path:
        return Path(shutil.copytree(ensemble_checkpoint, tmp_path / name))

    bad_weight = copy("weight")
    _edit(bad_weight, "argmine.json", lambda d: d["settings"].update(weight=1.5))
    with pytest.raises(CheckpointError, match=r"settings\.weight"):
        EnsembleStanceClassifier.from_pretrained(bad_weight)

    no_sklearn = copy("member")
    shutil.rmtree(no_sklearn / "sklearn")
    with pytest.raises(CheckpointError, match="missing the folder sklearn/"):
        load_stance_classifier(no_sklearn)

    bad_abstention = copy("sklearn_only")
    _edit(bad_abstention, "argmine.json", lambda d: d["settings"].update(sklearn_only=["deny"]))
    with pytest.raises(CheckpointError, match=r"settings\.sklearn_only must be a list of the labels"):
        EnsembleStanceClassifier.from_pretrained(bad_abstention)

    other_labels = copy("labels")
    _edit(other_labels, "argmine.json", lambda d: d.update(labels=["attack", "support", "none"]))
    with pytest.raises(CheckpointError, match="differ from those of"):
        EnsembleStanceClassifier.from_pretrained(other_labels)


def test_members_must_share_their_labels(ensemble_checkpoint: Path) -> None:
    loaded = EnsembleStanceClassifier.from_pretrained(ensemble_checkpoint)
    loaded.sklearn.meta = replace(loaded.sklearn.meta, labels=("none", "attack", "support"))
    with pytest.raises(ValueError, match="labels differ"):
        EnsembleStanceClassifier.join(loaded.transformer, loaded.sklearn, 0.5)


def test_an_unknown_sklearn_only_label_is_refused_before_training(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"sklearn_only names \['deny'\], not among the labels"):
        train_ensemble(tmp_path / "no-encoder", tmp_path / "ensemble", ensemble_sklearn_only=("deny",))
    assert list(tmp_path.iterdir()) == []


def test_a_failed_ensemble_run_leaves_no_member_folders(tiny_encoder: Path, tmp_path: Path) -> None:  # noqa: F811
    with pytest.raises(ValueError, match="grid"):  # fails after the first members were trained
        train_ensemble(tiny_encoder, tmp_path / "ensemble", epochs=1, ensemble_weights=(2.0,))
    assert list(tmp_path.iterdir()) == []
