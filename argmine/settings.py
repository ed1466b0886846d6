"""Typed settings of a training or evaluation run: one dataclass per config group of ``conf/``.

    conf/trainer/*.yaml ──► TrainSettings                      how any model trains (the shared loop)
    conf/model/*.yaml   ──► MODEL_KINDS[model.classifier]      TransformerSettings | SklearnSettings | EnsembleSettings
    conf/task/*.yaml    ──► TASK_KINDS[task.kind]              ComponentsTask | StanceTask | BothTask
    conf/evaluate.yaml  ──► EvaluateSettings                   (its top-level keys but data)

``from_mapping`` builds one of them from a plain mapping (a config group) and
refuses, naming the key, an unknown key (with "did you mean"), a value of the
wrong type and a value out of range. The trainers take these objects whole, so a
key either reaches the code or is an error, and each trainer records them all in
its checkpoint (``argmine.json`` → ``training.settings``). The YAML of ``conf/``
gives every key a run uses; the dataclass defaults serve Python callers and equal
the default config choices (tests/test_settings.py holds them together), but for
``trainer.threads`` (a library call leaves torch's thread count alone) and
``trainer.seed`` (0, as the loop always had).

A new stance classifier kind adds a dataclass here (a frozen dataclass with a
``classifier`` field naming it), an entry in ``MODEL_KINDS`` and a
``conf/model/NAME.yaml``; the stance trainer dispatches on ``model.classifier``.

No torch and no Hydra here: building and checking settings takes milliseconds,
before any data or model loads.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Union

from argmine.errors import ArgmineError
from argmine.segmenter.context import CONTEXTS
from argmine.stance.inputs import LEVELS, LONG_TEXT_READINGS

# Kept equal to the modules that use them (argmine.transformer, argmine.stance.transformer),
# which import torch; tests/test_settings.py checks they agree.
FINETUNES = ("lora", "full")
POOLINGS = ("cls", "mean")
CLASS_WEIGHTINGS = ("balanced", "sqrt", "none", "corpus+class", "reply+class")
DEVICES = ("auto", "cpu", "cuda")  # or an explicit "cuda:N"


class SettingsError(ArgmineError, ValueError):
    """A setting is unknown, of the wrong type or out of range; the message starts with its key."""


def is_device_name(name: object) -> bool:
    return isinstance(name, str) and (name in DEVICES or re.fullmatch(r"cuda:\d+", name) is not None)


def _choice(name: str, value: object, choices: Sequence[str]) -> None:
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def _at_least(name: str, value: float | None, low: float, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if value is None or value < low:
        raise SettingsError(f"{name} must be at least {low:g}{' or null' if optional else ''}, got {value!r}")


# -- conf/trainer ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainSettings:
    """``conf/trainer``: what the training loop needs besides the model and data.

    All but ``device``, ``threads`` and ``resume`` (where and how a run runs, not what it
    learns) are saved with a resumable run and must match when it resumes.
    """

    epochs: int = 10
    learning_rate: float = 5e-4  # LoRA; full fine-tuning wants ~5e-5
    batch_size: int = 16
    seed: int = 0  # the loop's batch plan as it always was for a library call; conf/ runs use 13
    max_tokens: int | None = None  # also cap a batch's padded tokens (long windows → smaller batches)
    weight_decay: float = 0.01  # not applied to biases and LayerNorm weights
    warmup_ratio: float = 0.1  # linear warm-up over this share of the steps, then linear decay to 0
    max_grad_norm: float = 1.0
    max_steps: int | None = None  # stop early after this many optimizer steps (smoke runs)
    # float32, or bfloat16: the forward pass under torch.autocast (weights, gradients, optimizer stay float32).
    # For GPUs: on our 2-core AMX CPU it trained at 0.13x float32's speed (experiments/benchmarks/bench_train.py).
    autocast: str = "float32"
    # Set by the trainer, not the config: the dev metric to maximise when picking the best epoch; None: last epoch.
    select_metric: str | None = field(default=None, metadata={"config": False})
    # auto / cpu / cuda / cuda:N (see argmine.training.distributed.pick_device); None: train where the model already is.
    device: str | None = "auto"
    threads: int | None = None  # torch's CPU threads; None: leave torch's setting
    resume: bool = False  # the run folder's state/ may be continued (checked by the entry point)

    def __post_init__(self) -> None:
        _at_least("epochs", self.epochs, 1)
        if not self.learning_rate > 0:
            raise SettingsError(f"learning_rate must be positive, got {self.learning_rate}")
        _at_least("batch_size", self.batch_size, 1)
        _at_least("max_tokens", self.max_tokens, 1, optional=True)
        _at_least("weight_decay", self.weight_decay, 0)
        if not 0 <= self.warmup_ratio < 1:
            raise SettingsError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if not self.max_grad_norm > 0:
            raise SettingsError(f"max_grad_norm must be positive, got {self.max_grad_norm}")
        _at_least("max_steps", self.max_steps, 1, optional=True)
        if self.autocast not in ("float32", "bfloat16"):
            raise SettingsError(f"autocast must be float32 or bfloat16, got {self.autocast!r}")
        _at_least("threads", self.threads, 1, optional=True)
        if self.device is not None and not is_device_name(self.device):
            raise SettingsError(f"device must be one of {', '.join(DEVICES)}, cuda:N or None, got {self.device!r}")


# -- conf/model: one dataclass per classifier kind -----------------------------------------------------


@dataclass(frozen=True)
class TransformerSettings:
    """``model.classifier: transformer``: a fine-tuned encoder (the segmenter always is one)."""

    classifier: str = "transformer"
    encoder: str = "minilm"  # a name of argmine.checkpoint.NAMED_ENCODERS or a local encoder folder
    finetune: str = "lora"  # lora: ship only adapters + head (a few MB); full: every weight
    lora_rank: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    full_top_layers: int = 0  # with lora: train the top N layers in full instead
    max_length: int = 256  # tokens per window (segmenter) or pair (stance, unless task.max_length)
    stride: int = 64  # tokens shared by consecutive segmenter windows (a stance pair is cut, not windowed)

    def __post_init__(self) -> None:
        _choice("finetune", self.finetune, FINETUNES)
        _at_least("lora_rank", self.lora_rank, 1)
        _at_least("lora_alpha", self.lora_alpha, 1)
        if not 0 <= self.lora_dropout < 1:
            raise SettingsError(f"lora_dropout must be in [0, 1), got {self.lora_dropout}")
        _at_least("full_top_layers", self.full_top_layers, 0)
        if self.finetune == "full" and self.full_top_layers:
            raise SettingsError("full_top_layers applies to LoRA; finetune=full already trains every layer")
        _at_least("max_length", self.max_length, 8)
        if not 0 <= self.stride <= self.max_length // 2:
            raise SettingsError(f"stride must be between 0 and max_length / 2 = {self.max_length // 2}, got {self.stride}")


SKLEARN_C = (1.0, 0.25, 4.0)


def _check_sklearn(c_values: Sequence[float], max_features: int) -> None:
    if not c_values or any(c <= 0 for c in c_values):
        raise SettingsError(f"sklearn_c must be a non-empty list of positive numbers, got {list(c_values)}")
    _at_least("sklearn_max_features", max_features, 1)


@dataclass(frozen=True)
class SklearnSettings:
    """``model.classifier: sklearn``: TF-IDF n-grams and a class-balanced logistic regression."""

    classifier: str = "sklearn"
    sklearn_c: tuple[float, ...] = SKLEARN_C  # C values tried; the best on dev is kept (the first without dev)
    sklearn_max_features: int = 50_000  # vocabulary of each n-gram block

    def __post_init__(self) -> None:
        _check_sklearn(self.sklearn_c, self.sklearn_max_features)


@dataclass(frozen=True)
class PoolSettings:
    """``model.ensemble``: how the two members of a stance ensemble are pooled."""

    holdout: float = 0.2  # fraction of training threads held out to choose the weight
    weights: tuple[float, ...] = tuple(i / 20 for i in range(21))  # weights on the transformer tried
    refit: bool = True  # train both members again on all training threads once the weight is chosen
    sklearn_only: tuple[str, ...] = ()  # labels the baseline alone decides

    def __post_init__(self) -> None:
        if not 0 < self.holdout < 1:
            raise SettingsError(f"holdout must be in (0, 1), got {self.holdout}")
        if not self.weights or any(not 0 <= w <= 1 for w in self.weights):
            raise SettingsError(f"weights: the weight grid must be values in [0, 1], got {list(self.weights)}")


@dataclass(frozen=True)
class EnsembleSettings(TransformerSettings):
    """``model.classifier: ensemble``: the transformer and the baseline, pooled (argmine.stance.ensemble)."""

    classifier: str = "ensemble"
    sklearn_c: tuple[float, ...] = SKLEARN_C
    sklearn_max_features: int = 50_000
    ensemble: PoolSettings = PoolSettings()

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_sklearn(self.sklearn_c, self.sklearn_max_features)

    def transformer(self) -> TransformerSettings:
        """The transformer member's settings."""
        names = {f.name for f in fields(TransformerSettings)} - {"classifier"}
        return TransformerSettings(**{n: getattr(self, n) for n in names})

    def sklearn(self) -> SklearnSettings:
        """The baseline member's settings."""
        return SklearnSettings(sklearn_c=self.sklearn_c, sklearn_max_features=self.sklearn_max_features)


# The names of argmine.stance.pair.FEATURE_BLOCKS (that module imports torch; this one must not), and the default.
PAIR_FEATURE_BLOCKS = ("v", "u", "uv", "absdiff", "U", "Uv", "last", "ulast", "pv", "flags")
PAIR_FEATURES = ("v", "uv", "absdiff", "last", "ulast", "pv", "flags")
PAIR_BALANCES = ("none", "class", "corpus", "corpus+class")  # argmine.stance.pair_train.BALANCES


@dataclass(frozen=True)
class PairSettings:
    """``model.classifier: pair``: a frozen sentence encoder's features of post and text, a linear head."""

    classifier: str = "pair"
    encoder: str = "minilm"  # a name of argmine.checkpoint.NAMED_ENCODERS or a local encoder folder
    features: tuple[str, ...] = PAIR_FEATURES  # feature blocks (argmine.stance.pair.FEATURE_BLOCKS)
    window: int = 128  # tokens per window; a longer text is read as several
    stride: int = 32  # tokens shared by consecutive windows
    pair_c: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0)  # C values tried; the best mean dev macro-F1 is kept
    balance: str = "corpus+class"  # how examples are weighed: each corpus alike, each label alike within it

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in PAIR_FEATURE_BLOCKS]
        if not self.features or unknown:
            raise SettingsError(f"features must be some of {', '.join(PAIR_FEATURE_BLOCKS)}, got {list(self.features)}")
        _at_least("window", self.window, 8)
        if not 0 <= self.stride < self.window - 2:
            raise SettingsError(f"stride must be between 0 and window − 3 = {self.window - 3}, got {self.stride}")
        if not self.pair_c or any(c <= 0 for c in self.pair_c):
            raise SettingsError(f"pair_c must be a non-empty list of positive numbers, got {list(self.pair_c)}")
        _choice("balance", self.balance, PAIR_BALANCES)


StanceModel = Union[TransformerSettings, SklearnSettings, EnsembleSettings, PairSettings]
MODEL_KINDS: dict[str, type] = {
    "transformer": TransformerSettings,
    "sklearn": SklearnSettings,
    "ensemble": EnsembleSettings,
    "pair": PairSettings,
}


# -- conf/task: one dataclass per task kind ------------------------------------------------------------


FINAL_STOPS = ("as_annotated", "include")  # task.final_stop: the training targets' sentence-final . ? !


@dataclass(frozen=True)
class ComponentsTask:
    """``task.kind: components``: claims and premises, BIO token classification."""

    name: str = "components"
    kind: str = "components"
    context: str | None = None  # null or none: the message alone; position: also where it sits; genre: and its kind
    # include: a training component that stops right before its sentence's final . ? ! is taught with it
    # (argmine.segmenter.train.with_final_stops); dev gold is always scored as annotated.
    final_stop: str = "as_annotated"

    def __post_init__(self) -> None:
        _choice("context", self.segmenter_context, CONTEXTS)
        _choice("final_stop", self.final_stop, FINAL_STOPS)

    @property
    def segmenter_context(self) -> str:
        return "none" if self.context is None else self.context


@dataclass(frozen=True)
class StanceTask:
    """``task.kind: stance``: support / attack toward the original post."""

    name: str = "stance"
    kind: str = "stance"
    level: str = "both"  # comment, component or both
    include_posts: bool = False  # also learn the post's own stance (RumourEval labels source posts)
    class_weighting: str = "balanced"
    max_length: int | None = None  # tokens per stance pair; null: model.max_length
    post_reserve: int = 64  # tokens kept for the original post in each pair
    parent_reserve: int = 48  # tokens kept for the parent comment of a reply to a reply
    pooling: str = "cls"  # what the head reads: cls or mean
    long_text: str = "windows_sided_max"  # a text longer than a pair: head, windows_mean or windows_sided_max

    def __post_init__(self) -> None:
        _choice("level", self.level, LEVELS)
        _choice("class_weighting", self.class_weighting, CLASS_WEIGHTINGS)
        _at_least("max_length", self.max_length, 16, optional=True)
        _at_least("post_reserve", self.post_reserve, 0)
        _at_least("parent_reserve", self.parent_reserve, 0)
        _choice("pooling", self.pooling, POOLINGS)
        _choice("long_text", self.long_text, LONG_TEXT_READINGS)

    def pair_length(self, model: Any) -> int:
        """Tokens per stance pair: ``max_length``, else the model's (a transformer's) ``max_length``."""
        return self.max_length if self.max_length is not None else int(getattr(model, "max_length", 256))


@dataclass(frozen=True)
class BothTask(StanceTask):
    """``task.kind: both``: components, then stance, on the same data, joined into one pipeline checkpoint."""

    name: str = "both"
    kind: str = "both"
    context: str | None = None  # the segmenter's input (as task/components)
    final_stop: str = "as_annotated"  # the segmenter's training targets (as task/components)
    stance_epochs: int = 4  # the stance half's trainer.epochs
    stance_learning_rate: float | None = None  # the stance half's trainer.learning_rate; null: trainer's
    # The pipeline's reply chain (argmine.stance.chain): weight 0 reads every reply directly.
    stance_chain_weight: float = 0.0
    stance_chain_min_agreement: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _choice("context", self.segmenter_context, CONTEXTS)
        _choice("final_stop", self.final_stop, FINAL_STOPS)
        _at_least("stance_epochs", self.stance_epochs, 1)
        for name in ("stance_chain_weight", "stance_chain_min_agreement"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SettingsError(f"{name} must be from 0 to 1, got {getattr(self, name)}")
        if self.stance_learning_rate is not None and not self.stance_learning_rate > 0:
            raise SettingsError(f"stance_learning_rate must be positive or null, got {self.stance_learning_rate}")

    @property
    def segmenter_context(self) -> str:
        return "none" if self.context is None else self.context


TASK_KINDS: dict[str, type] = {"components": ComponentsTask, "stance": StanceTask, "both": BothTask}


# -- conf/evaluate.yaml ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluateSettings:
    """``argmine evaluate``: the top-level keys of conf/evaluate.yaml (``data`` is the data group's)."""

    checkpoint: str
    name: str = "evaluate"
    batch_size: int = 32
    stance_level: str = "both"
    include_posts: bool = False
    report: bool = True
    bootstrap: int = 1000
    bootstrap_seed: int = 0

    def __post_init__(self) -> None:
        _at_least("batch_size", self.batch_size, 1)
        _choice("stance_level", self.stance_level, LEVELS)
        _at_least("bootstrap", self.bootstrap, 0)


# -- building from a config group --------------------------------------------------------------------


def config_keys(cls: type) -> list[str]:
    """The keys a config group of ``cls`` may hold."""
    return [f.name for f in fields(cls) if f.init and f.metadata.get("config", True)]


def did_you_mean(name: str, known: Sequence[str]) -> str:
    """``; did you mean X?`` for a close name, else ``; known: A, B, ...``."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else f"; known: {', '.join(known)}"


def from_mapping(cls: type, data: Any, where: str) -> Any:
    """``cls`` built from ``data`` (a plain mapping of config keys), every value checked; errors start with its key.

    ``where`` is the config path of ``data`` (``trainer``, ``model.ensemble``). A key
    missing from ``data`` keeps the dataclass default.
    """
    if not isinstance(data, Mapping):
        raise SettingsError(f"{where} must be a mapping of settings, got {_shown(data)}")
    known = config_keys(cls)
    for key in data:
        if key not in known:
            advice = did_you_mean(str(key), known).replace("did you mean ", f"did you mean {where}.")
            raise SettingsError(f"{where}.{key}: no such setting in {where}{advice}")
    hints = typing.get_type_hints(cls)
    values = {key: _typed(hints[key], value, f"{where}.{key}") for key, value in data.items()}
    try:
        return cls(**values)
    except ValueError as error:
        raise SettingsError(f"{where}.{error}") from None


def model_settings(data: Any, where: str = "model") -> StanceModel:
    """The model group's dataclass, chosen by its ``classifier``."""
    kind = data.get("classifier", "transformer") if isinstance(data, Mapping) else None
    if kind not in MODEL_KINDS:
        raise SettingsError(f"{where}.classifier must be one of {', '.join(MODEL_KINDS)}, got {kind!r}")
    return from_mapping(MODEL_KINDS[kind], data, where)


def task_settings(data: Any, where: str = "task") -> ComponentsTask | StanceTask | BothTask:
    """The task group's dataclass, chosen by its ``kind``."""
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in TASK_KINDS:
        raise SettingsError(f"{where}.kind must be one of {', '.join(TASK_KINDS)}, got {kind!r}")
    return from_mapping(TASK_KINDS[kind], data, where)


def record(settings: Any) -> dict[str, Any]:
    """A settings dataclass as JSON-ready values (tuples as lists), for argmine.json."""
    return _jsonable(dataclasses.asdict(settings))


def recorded_settings(trainer: TrainSettings, model: Any, task: Any) -> dict[str, Any]:
    """``training.settings`` of argmine.json, the same for every trainer: each config group as it was used."""
    return {"trainer": record(trainer), "model": record(model), "task": record(task)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, os.PathLike):  # a Python caller's encoder=Path(...)
        return os.fspath(value)
    return value


def _shown(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _typed(hint: Any, value: Any, where: str) -> Any:
    """``value`` as type ``hint`` (int, float, str, bool, X | None, tuple[X, ...], a dataclass), or an error."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return _typed(inner, value, where)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise SettingsError(f"{where}: expected a list, got {_shown(value)}")
        return tuple(_typed(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(hint):
        return from_mapping(hint, value, where)
    if hint is bool:
        if not isinstance(value, bool):
            raise SettingsError(f"{where}: expected true or false, got {_shown(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(f"{where}: expected an integer, got {_shown(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsError(f"{where}: expected a number, got {_shown(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise SettingsError(f"{where}: expected a string, got {_shown(value)}")
        return value
    raise TypeError(f"{where}: no check for type {hint!r}")  # a field type this module does not know yet


def with_keywords(settings: Sequence[Any], keywords: Mapping[str, Any], aliases: Mapping[str, str]) -> list[Any]:
    """``settings`` with ``keywords`` (flat field names, as Python callers pass them) applied, each to the first
    of ``settings`` that has the field; ``ensemble_X`` sets ``ensemble.X``. An unknown name is a TypeError.

    Each object is rebuilt once with all its changes, so that they are checked together (a shorter
    ``max_length`` with a fitting ``stride``).
    """
    changes: list[dict[str, Any]] = [{} for _ in settings]
    pool: dict[str, Any] = {}
    for given, value in keywords.items():
        name = aliases.get(given, given)
        for i, current in enumerate(settings):
            if name.startswith("ensemble_") and isinstance(current, EnsembleSettings):
                pool[name.removeprefix("ensemble_")] = value
                break
            if name in config_keys(type(current)):
                changes[i][name] = value
                break
        else:
            raise TypeError(f"unknown setting {given!r}")
    out = []
    for current, change in zip(settings, changes):
        if pool and isinstance(current, EnsembleSettings):
            change["ensemble"] = dataclasses.replace(current.ensemble, **pool)
        out.append(dataclasses.replace(current, **change) if change else current)
    return out
