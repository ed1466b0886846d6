"""Every Hydra config composes, and every named experiment trains for a couple of steps.

The experiments run on our own hand-labelled threads (experiments/threads/own-threads.jsonl)
and a tiny random encoder built in tmp_path, so this needs neither the real encoder nor
the corpora; the corpus readers have their own tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from argmine.cli.evaluate import run_evaluate
from argmine.cli.hydra_app import CONF_DIR
from argmine.cli.train import run_train
from tiny_models import build_encoder

REPO = Path(__file__).resolve().parent.parent
EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
TRAIN_EXPERIMENTS = [e for e in EXPERIMENTS if not e.endswith("_eval")]
OWN = str(REPO / "experiments" / "threads" / "own-threads.jsonl")


def _compose(config: str, overrides: list[str]):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name=config, overrides=overrides, return_hydra_config=False)


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory) -> Path:
    return build_encoder(tmp_path_factory.mktemp("encoder"))


def test_every_group_option_composes():
    for group in ("data", "model", "task", "trainer", "debug"):
        for option in sorted((CONF_DIR / group).glob("*.yaml")):
            cfg = _compose("train", [f"{group}={option.stem}", "data.path=/somewhere"])
            assert cfg[group] is not None if group != "debug" else cfg.trainer.max_steps == 2


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_with_its_own_data(experiment):
    config = "evaluate" if experiment.endswith("_eval") else "train"
    overrides = [f"experiment={experiment}", "data.path=/somewhere"]
    if config == "evaluate":
        overrides.append("checkpoint=/somewhere/else")
    cfg = _compose(config, overrides)
    assert cfg.name
    assert cfg.data.format in ("cmv", "aae", "rumoureval", "jsonl", "abstrct")


def _on_own_threads(experiment: str) -> list[str]:
    """Overrides that point every extra training corpus of ``experiment`` at our own threads (JSONL), and
    empty the ensemble's ``sklearn_only`` labels (named in the corpus's labels, e.g. RumourEval's deny)."""
    cfg = _compose("train", [f"experiment={experiment}", "data.path=/somewhere"])
    extras = cfg.data.get("extra_train") or {}
    out = ["model.ensemble.sklearn_only=[]"] if (cfg.model.get("ensemble") or {}).get("sklearn_only") else []
    for name in extras:
        where = f"data.extra_train.{name}"
        out += [f"{where}.format=jsonl", f"{where}.path={OWN}", f"{where}.train_split=all", f"{where}.seed=null"]
        out += [f"{where}.unit=null", f"{where}.stance_map=null", f"{where}.dev_split=all", f"++{where}.view=null"]
    return out


def _short_pairs(experiment: str) -> list[str]:
    """Stance pairs that fit the tiny encoder's windows, for an experiment that trains stance."""
    kind = _compose("train", [f"experiment={experiment}", "data.path=/somewhere"]).task.kind
    return ["task.post_reserve=4", "task.parent_reserve=4", "task.max_length=null"] if kind != "components" else []


def _tiny_model(encoder: Path, experiment: str | None = None) -> list[str]:
    """The experiment's model on the tiny encoder, with windows it has positions for (a baseline has neither key)."""
    cfg = _compose("train", [f"experiment={experiment}", "data.path=/somewhere"]) if experiment else None
    out = []
    for group in ("model", "stance_model") if cfg is not None else ("model",):
        kind = (cfg.get(group) or {}).get("classifier") if cfg is not None else "transformer"
        if kind in ("transformer", "ensemble"):
            out += [f"{group}.encoder={encoder}", f"{group}.max_length=64", f"{group}.stride=8"]
        elif kind == "pair":
            out += [f"{group}.encoder={encoder}", f"{group}.window=32", f"{group}.stride=4", f"{group}.pair_c=[1.0,3.0]"]
    return out


@pytest.mark.parametrize("experiment", TRAIN_EXPERIMENTS)
def test_every_experiment_trains_two_steps_then_evaluates(experiment, tiny_encoder, tmp_path):
    cfg = _compose(
        "train",
        [
            f"experiment={experiment}",
            "debug=smoke",
            "data=own_threads",
            f"data.path={OWN}",
            *(_tiny_model(tiny_encoder, experiment) if "sklearn" not in experiment else ["trainer.seed=1"]),
            *_short_pairs(experiment),
            "trainer.threads=1",
            *_on_own_threads(experiment),
        ],
    )
    metrics = run_train(cfg, tmp_path / "run", command=f"test {experiment}")
    assert (tmp_path / "run" / "metrics.json").is_file()
    written = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert written.keys() == metrics.keys()
    assert any(key.endswith(("micro_f1", "macro_f1")) for key in written)
    checkpoint = tmp_path / "run" / "checkpoint"
    assert (checkpoint / "argmine.json").is_file()
    assert not (tmp_path / "run" / "state").exists()

    ev = _compose("evaluate", ["data=own_threads", f"data.path={OWN}", f"checkpoint={checkpoint}", "bootstrap=20"])
    scores = run_evaluate(ev, tmp_path / "eval")
    kind = json.loads((checkpoint / "argmine.json").read_text())["kind"]
    if kind in ("components", "pipeline"):
        assert 0.0 <= scores["components/span_exact/micro_f1"] <= 1.0
    if kind != "components":
        assert 0.0 <= scores["stance/comments/macro_f1"] <= 1.0
    assert (tmp_path / "eval" / "metrics.json").is_file()


def test_the_stance_half_takes_its_own_pair_length_and_learning_rate(tiny_encoder, tmp_path):
    cfg = _compose("train", ["experiment=threads_default", "~data.extra_train", "~stance_model", "debug=smoke",
                             "data=own_threads", f"data.path={OWN}",
                             f"model.encoder={tiny_encoder}", "model.max_length=64", "model.stride=8",
                             "task.max_length=40", "task.post_reserve=4", "task.parent_reserve=4",
                             "trainer.learning_rate=1e-3", "task.stance_learning_rate=2e-4", "trainer.threads=1"])
    run_train(cfg, tmp_path, command="test")
    checkpoint = tmp_path / "checkpoint"
    components = json.loads((checkpoint / "components" / "argmine.json").read_text())
    stance = json.loads((checkpoint / "stance" / "argmine.json").read_text())
    assert components["settings"]["max_length"] == 64
    assert stance["settings"]["max_length"] == 40
    assert components["training"]["learning_rate"] == 1e-3
    assert stance["training"]["learning_rate"] == 2e-4


def test_a_finished_run_folder_is_not_silently_reused(tiny_encoder, tmp_path):
    cfg = _compose("train", ["experiment=cmv_components", "debug=smoke", "data=own_threads", f"data.path={OWN}",
                             f"model.encoder={tiny_encoder}", "model.max_length=32", "model.stride=8", "trainer.threads=1"])
    (tmp_path / "state").mkdir()
    with pytest.raises(ValueError, match="trainer.resume=true"):
        run_train(cfg, tmp_path, command="test")


@pytest.mark.parametrize(("experiment", "part"), [("cmv_components_aae2", "components"), ("cmv_stance_rumoureval", "stance")])
def test_an_extra_corpus_joins_the_training_set_of_its_half_only(experiment, part, tiny_encoder, tmp_path):
    base = ["debug=smoke", "data=own_threads", f"data.path={OWN}", *_tiny_model(tiny_encoder),
            *_short_pairs(experiment), "trainer.threads=1", *_on_own_threads(experiment)]
    cfg = _compose("train", [f"experiment={experiment}", *base])
    name = next(iter(cfg.data.extra_train))
    run_train(cfg, tmp_path / "with", command="test")
    alone = _compose("train", [f"experiment={experiment}", *base, "~data.extra_train"])
    run_train(alone, tmp_path / "alone", command="test")

    def training(run: str) -> dict:
        return json.loads((tmp_path / run / "checkpoint" / "argmine.json").read_text())["training"]

    count = "train_messages" if part == "components" else "train_examples"
    assert training("with")[count] == 2 * training("alone")[count]  # the same threads, twice over
    extra = training("with")["data"]["extra_train"][name]
    assert extra["use"] == part and extra["threads"] > 0
    assert "extra_train" not in training("alone")["data"]


def test_an_extra_corpus_must_say_which_half_it_trains(tiny_encoder, tmp_path):
    overrides = ["experiment=cmv_components_aae2", "debug=smoke", "data=own_threads", f"data.path={OWN}",
                 f"model.encoder={tiny_encoder}", *_on_own_threads("cmv_components_aae2"),
                 "data.extra_train.aae2.use=everything"]
    with pytest.raises(ValueError, match=r"data.extra_train.aae2.use must be one of"):
        run_train(_compose("train", overrides), tmp_path, command="test")


def test_the_dev_suite_scores_every_set_and_their_mean(tiny_encoder, tmp_path):
    """experiment=stance_dev_suite on a tiny stance checkpoint, every set pointed at our own threads."""
    from argmine.stance.pair import PairStanceClassifier

    checkpoint = PairStanceClassifier.create(
        ("support", "attack", "none"), encoder=str(tiny_encoder), window=32, stride=4
    ).save_pretrained(tmp_path / "pair")
    suite = _compose("evaluate", ["experiment=stance_dev_suite", "data_root=/nowhere", f"checkpoint={checkpoint}"]).suite
    overrides = ["experiment=stance_dev_suite", "data_root=/nowhere", f"checkpoint={checkpoint}"]
    for name in suite:
        where = f"suite.{name}"
        overrides += [f"{where}.format=jsonl", f"{where}.path={OWN}", f"{where}.split=all", f"{where}.seed=null",
                      f"{where}.unit=null", f"{where}.stance_map=null", f"++{where}.view=null",
                      f"{where}.relation_polarity=null", f"{where}.component_labels=null"]
    scores = run_evaluate(_compose("evaluate", overrides), tmp_path / "eval")
    assert set(scores["suite"]) == set(suite) and len(suite) == 7
    per_set = [scores[f"stance/suite/{name}/macro_f1"] for name in suite]
    assert scores["stance/suite/mean_macro_f1"] == pytest.approx(sum(per_set) / len(per_set))
    # an untrained head says one label for everything: the suite says so
    assert all(scores[f"stance/suite/{name}/constant"] for name in suite)
    assert scores["stance/suite/own_threads/unpredicted"]
    report = (tmp_path / "eval" / "report.md").read_text()
    assert "Mean macro-F1 over the 7 sets" in report and "| own_threads |" in report
