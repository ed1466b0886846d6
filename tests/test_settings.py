"""Typed settings (argmine.settings): every key of conf/'s trainer, model and task groups reaches the trainers.

The checkpoint test trains once per task on the tiny encoder with every key changed, and checks that
each changed value is what the checkpoint's argmine.json records (``training.settings``), as used.
"""

from __future__ import annotations

import json
import time
from dataclasses import fields
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from argmine import settings as S
from argmine.cli.evaluate import evaluate_settings, run_evaluate
from argmine.cli.hydra_app import CONF_DIR
from argmine.cli.train import run_train, train_settings
from tiny_models import build_encoder

REPO = Path(__file__).resolve().parent.parent
OWN = str(REPO / "experiments" / "threads" / "own-threads.jsonl")
GROUPS = ("trainer", "model", "task")


def _compose(config: str, overrides: list[str]):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name=config, overrides=overrides)


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory) -> Path:
    return build_encoder(tmp_path_factory.mktemp("encoder"))


# -- the dataclasses and the YAML agree ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "option", "cls"),
    [
        ("trainer", "default", S.TrainSettings),
        ("model", "minilm", S.TransformerSettings),
        ("model", "sklearn", S.SklearnSettings),
        ("model", "minilm_sklearn", S.EnsembleSettings),
        ("task", "components", S.ComponentsTask),
        ("task", "stance", S.StanceTask),
        ("task", "both", S.BothTask),
    ],
)
def test_the_yaml_of_each_default_choice_equals_its_dataclass_defaults(group, option, cls):
    given = OmegaConf.to_container(_compose("train", [f"{group}={option}", "data.path=x"])[group], resolve=True)
    expected = S.record(cls())
    if cls is S.TrainSettings:
        # a library call leaves torch's threads alone (the CLI uses our two cores) and seeds as the loop always did
        expected["threads"], expected["seed"] = 2, 13
    if cls is S.EnsembleSettings:  # minilm_sklearn is minilm plus the pool; the weights are written out in the YAML
        expected["ensemble"]["weights"] = pytest.approx(expected["ensemble"]["weights"])
    assert {k: v for k, v in expected.items() if k in given} == given
    assert set(given) <= set(S.config_keys(cls))


def test_the_choices_copied_from_torch_modules_agree_with_them():
    from argmine.stance.objective import CLASS_WEIGHTINGS
    from argmine.stance.transformer import POOLINGS
    from argmine.transformer import FINETUNES

    assert (S.FINETUNES, S.POOLINGS, S.CLASS_WEIGHTINGS) == (FINETUNES, POOLINGS, CLASS_WEIGHTINGS)


# -- 18.2: every value checked, fast, before anything loads ---------------------------------------------


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.epochs=abc", r"^trainer.epochs: expected an integer, got str 'abc'$"),
        ("trainer.learning_rate=abc", r"^trainer.learning_rate: expected a number"),
        ("trainer.warmup_ratio=1.5", r"^trainer.warmup_ratio must be in \[0, 1\)"),
        ("trainer.device=gpu", r"^trainer.device must be one of"),
        ("+trainer.epochz=2", r"^trainer.epochz: no such setting in trainer; did you mean trainer.epochs\?$"),
        ("model.finetune=adapters", r"^model.finetune must be one of lora, full"),
        ("model.lora_dropout=1.0", r"^model.lora_dropout must be in"),
        ("model.classifier=svm", r"^model.classifier must be one of transformer, sklearn, ensemble"),
        ("task.level=comments", r"^task.level must be one of comment, component, both, got 'comments'$"),
        ("task.class_weighting=inverse", r"^task.class_weighting must be one of"),
        ("task.include_posts=maybe", r"^task.include_posts: expected true or false"),
    ],
)
def test_a_bad_value_fails_in_milliseconds_naming_its_key_before_any_data_loads(override, message, monkeypatch):
    def no_loading(*args, **kwargs):
        raise AssertionError("data loaded before the settings were checked")

    monkeypatch.setattr("argmine.jobs.data.load_gold", no_loading)
    cfg = _compose("train", ["experiment=cmv_stance", "data.path=/nowhere", override])
    began = time.perf_counter()
    with pytest.raises(S.SettingsError, match=message):
        run_train(cfg, Path("/nonexistent/run"), command="test")
    assert time.perf_counter() - began < 0.5


def test_a_segmenter_task_refuses_a_model_without_an_encoder():
    cfg = _compose("train", ["task=components", "model=sklearn", "data.path=x"])
    with pytest.raises(S.SettingsError, match="model.classifier=sklearn: task.kind=components trains a segmenter"):
        train_settings(cfg)


def test_evaluate_checks_stance_level_before_loading_the_checkpoint(monkeypatch):
    def no_loading(*args, **kwargs):
        raise AssertionError("the checkpoint was read before the settings were checked")

    monkeypatch.setattr("argmine.checkpoint.read_meta", no_loading)
    overrides = ["checkpoint=models/argmine-threads-minilm", "data=own_threads", "stance_level=comments"]
    cfg = _compose("evaluate", overrides)
    began = time.perf_counter()
    with pytest.raises(S.SettingsError, match="^evaluate.stance_level must be one of comment, component, both"):
        run_evaluate(cfg, Path("/nonexistent/run"))
    assert time.perf_counter() - began < 0.5
    assert evaluate_settings(_compose("evaluate", ["checkpoint=x", "bootstrap=5"])).bootstrap == 5


# -- 18.1: every key reaches the checkpoint --------------------------------------------------------------

# One run per task, every key of its trainer, model and task groups changed from the config's value.
# (model.classifier is changed by the runs' choice of model; finetune=full and full_top_layers
# exclude each other, so the two are changed in different runs.)
TRAINER = {
    "epochs": 2, "learning_rate": 1e-3, "batch_size": 3, "max_tokens": 400, "weight_decay": 0.2,
    "warmup_ratio": 0.3, "seed": 7, "max_steps": 3, "autocast": "bfloat16", "threads": 1, "device": "cpu", "resume": True,
}  # fmt: skip
TRANSFORMER = {"lora_rank": 3, "lora_alpha": 5, "lora_dropout": 0.0, "max_length": 60, "stride": 6}
STANCE = {
    "level": "comment", "include_posts": True, "class_weighting": "sqrt", "max_length": 48,
    "post_reserve": 5, "parent_reserve": 3, "pooling": "mean", "long_text": "head",
}  # fmt: skip
RUNS = {
    "components": ("cmv_components", {"trainer": TRAINER, "model": {**TRANSFORMER, "full_top_layers": 1},
                                       "task": {"name": "segments", "context": "position", "final_stop": "as_annotated"}}),
    "stance": ("cmv_stance", {"trainer": TRAINER, "model": {**TRANSFORMER, "finetune": "full"},
                              "task": {**STANCE, "name": "stances"}}),
    "ensemble": ("rumoureval2019_stance_ensemble", {
        "trainer": TRAINER,
        "model": {**TRANSFORMER, "sklearn_c": [2.0, 0.5],
                  "ensemble": {"holdout": 0.4, "weights": [0.0, 1.0], "refit": True, "sklearn_only": ["none"]}},
        "task": {**STANCE, "level": "both", "class_weighting": "none"}}),
    "both": ("threads_default", {"trainer": TRAINER, "model": TRANSFORMER,
                                 "task": {**STANCE, "context": "position", "final_stop": "as_annotated", "stance_epochs": 1,
                                          "stance_learning_rate": 2e-3, "name": "pipeline",
                                          "stance_chain_weight": 0.5, "stance_chain_min_agreement": 0.3}}),
}  # fmt: skip


def _overrides(changes: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in changes.items():
        if isinstance(value, dict):
            out += _overrides(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}={json.dumps(value) if isinstance(value, (list, bool)) else value}")
    return out


def _leaves(data: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        out |= _leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value}
    return out


@pytest.fixture(scope="module")
def trained(tiny_encoder, tmp_path_factory) -> dict[str, tuple[dict, dict]]:
    """Per run: (the composed config's trainer/model/task as leaves, the checkpoint's recorded settings as leaves)."""
    out = {}
    for run, (experiment, changes) in RUNS.items():
        overrides = [
            f"experiment={experiment}", "data=own_threads", f"data.path={OWN}", "data.limit=4",
            # the stance half on the model group as well (threads_default's own stance_model is an ensemble)
            *(["~data.extra_train", "~stance_model"] if experiment == "threads_default" else []),
            f"model.encoder={tiny_encoder}", "data.stance_labels=[support,attack,none]", *_overrides(changes),
        ]  # fmt: skip
        cfg = _compose("train", overrides)
        folder = tmp_path_factory.mktemp(run)
        run_train(cfg, folder, command=f"test {run}")
        part = folder / "checkpoint" / ("components" if run == "both" else "")
        meta = json.loads((part / "argmine.json").read_text())
        composed = {g: OmegaConf.to_container(cfg[g], resolve=True) for g in GROUPS}
        out[run] = (_leaves(composed), _leaves(meta["training"]["settings"]), folder)
    return out


KEYS = sorted(
    {f"{g}.{k}" for _, changes in RUNS.values() for g in GROUPS for k in _leaves(changes[g])}
    | {f"{g}.{k}" for g, cls in (("trainer", S.TrainSettings), ("task", S.BothTask)) for k in S.config_keys(cls)}
    | {f"model.{k}" for k in S.config_keys(S.TransformerSettings)}
)


def test_every_key_of_the_groups_is_changed_by_some_run():
    yaml_keys = set()
    for experiment, _ in RUNS.values():
        cfg = _compose("train", [f"experiment={experiment}", "data.path=x"])
        yaml_keys |= {f"{g}.{k}" for g in GROUPS for k in _leaves(OmegaConf.to_container(cfg[g]))}
    changed = {f"{g}.{k}" for _, c in RUNS.values() for g in GROUPS for k in _leaves(c[g])}
    assert yaml_keys - changed <= {"model.classifier", "model.encoder", "task.kind"}  # set by the run's choices


@pytest.mark.parametrize("key", KEYS)
def test_a_changed_key_is_recorded_in_the_checkpoint_as_used(key, trained):
    seen = False
    for run, (experiment, changes) in RUNS.items():
        composed, recorded = trained[run][:2]
        wanted = _leaves({g: changes[g] for g in GROUPS}).get(key)
        if wanted is None and key not in _leaves({g: changes[g] for g in GROUPS}):
            continue
        seen = True
        assert composed[key] == wanted, f"{run}: the override of {key} did not compose"
        assert recorded[key] == pytest.approx(wanted) if isinstance(wanted, float) else recorded[key] == wanted, run
    assert seen or key in ("model.classifier", "model.encoder", "task.kind", "trainer.max_grad_norm",
                           "model.sklearn_max_features"), f"no run changes {key}"  # fmt: skip


def test_the_pipeline_of_both_reads_replies_through_the_chain_it_was_given(trained):
    pipeline = json.loads((trained["both"][2] / "checkpoint" / "argmine.json").read_text())
    assert pipeline["settings"]["stance_chain"] == {"weight": 0.5, "min_agreement": 0.3}


def test_the_stance_half_of_both_records_its_own_epochs_and_rate(trained):
    folder = trained["both"][2]
    stance = json.loads((folder / "checkpoint" / "stance" / "argmine.json").read_text())["training"]
    assert stance["settings"]["trainer"]["epochs"] == 1 and stance["epochs"] == 1
    assert stance["settings"]["trainer"]["learning_rate"] == stance["learning_rate"] == 2e-3
    assert stance["settings"]["trainer"]["weight_decay"] == 0.2  # the rest of the trainer as given


def test_the_stance_model_reads_long_texts_as_the_task_says(trained):
    stance = json.loads((trained["stance"][2] / "checkpoint" / "argmine.json").read_text())
    assert stance["settings"]["long_text"] == "head"  # what the classifier itself reads, not only the record


def test_the_stance_trainer_hands_weight_decay_warmup_and_lora_dropout_on(tiny_encoder, tmp_path, monkeypatch):
    """What the stance trainer gave fit and the model (train_stance once had no weight_decay or warmup_ratio)."""
    from argmine.stance.inputs import StanceExample, StanceInput
    from argmine.stance.train import train_stance

    seen = {}

    class Stop(Exception):
        pass

    def fake_fit(model, *, settings, **kwargs):
        seen["settings"] = settings
        seen["dropout"] = {m.p for n, m in model.named_modules() if n.endswith("lora_dropout.default")} or {0.0}
        raise Stop

    monkeypatch.setattr("argmine.training.loop.fit", fake_fit)
    examples = [StanceExample("t", f"c{i}", "comment", StanceInput("post", "text"), label)
                for i, label in enumerate(["support", "attack", "none"] * 2)]  # fmt: skip
    with pytest.raises(Stop):
        train_stance(examples, [], labels=["support", "attack", "none"], output_dir=tmp_path / "x",
                     encoder=str(tiny_encoder), max_length=32, post_reserve=2, parent_reserve=2,
                     weight_decay=0.5, warmup_ratio=0.3, lora_dropout=0.25, progress=False)  # fmt: skip
    assert (seen["settings"].weight_decay, seen["settings"].warmup_ratio) == (0.5, 0.3)
    assert seen["dropout"] == {0.25}


def test_unknown_keywords_are_refused_by_both_trainers(tmp_path):
    from argmine.segmenter.train import train_segmenter
    from argmine.stance.train import train_stance

    with pytest.raises(TypeError, match="unknown setting 'lora_dropuot'"):
        train_stance([], [], labels=["a", "b"], output_dir=tmp_path, lora_dropuot=0.0)
    with pytest.raises(TypeError, match="unknown setting 'epochz'"):
        train_segmenter([], None, labels=["Claim"], output_dir=tmp_path, epochz=2)


def test_settings_dataclass_checks_are_keyed():
    assert [f.name for f in fields(S.EnsembleSettings)][-1] == "ensemble"
    with pytest.raises(S.SettingsError, match=r"^model.ensemble.weights\[1\]: expected a number"):
        S.model_settings({"classifier": "ensemble", "ensemble": {"weights": [0.5, "x"]}})
    with pytest.raises(S.SettingsError, match="^trainer must be a mapping"):
        S.from_mapping(S.TrainSettings, [1, 2], "trainer")
