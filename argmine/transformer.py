"""The Hugging Face model under argmine's transformer models: build, save, load and convert it.

    create:          encoder folder ──► auto class + new head ──(LoRA: peft adapters)──► model, tokenizer, meta
    save_pretrained: model, tokenizer, meta ──► staged folder (argmine.json, weights, tokenizer, README.md)
    from_meta:       folder + its argmine.json ──► checks (files, head size, encoder fingerprint) ──► model, tokenizer
    merged / to_precision: LoRA folded into the weights (merge_lora); cast to bfloat16 for good (convert)

The segmenter (a token classifier) and the stance classifier (a sequence-pair
classifier) are both a classification head on the packaged base encoder,
fine-tuned either with LoRA (peft: the checkpoint keeps the adapters and the
modules trained in full, the delta over the pinned encoder) or in full (the
whole model). What differs between them (the auto class, the peft task type,
which modules LoRA adapts and keeps, the settings) is passed in; what they
share (offline loading, the checks that turn a bad folder into a
``CheckpointError``, the quiet load reports) lives here.

A checkpoint folder (see ``argmine.checkpoint``) holds ``argmine.json``, the
tokenizer files, a ``README.md`` card, and ``adapter_config.json`` +
``adapter_model.safetensors`` (LoRA) or ``config.json`` + ``model.safetensors``
(full). Only JSON, safetensors and tokenizer files are read, never the network
and never a checkpoint's own code: every load passes ``trust_remote_code=False``
and ``use_safetensors=True``, after ``argmine.checkpoint.check_loadable`` has
refused folders that name code, hold pickles or carry JSON of the wrong type,
and the weights are refused if any value is NaN or infinite.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from torch import nn

from argmine.checkpoint import (
    META_FILE,
    CheckpointMeta,
    SavedModel,
    check_loadable,
    encoder_fingerprint,
    json_type,
    read_json_object,
    require_files,
    resolve_encoder,
    staged_checkpoint,
    verify_base_encoder,
)
from argmine.errors import CheckpointError, InputError
from argmine.precision import convert, merge_lora

log = logging.getLogger(__name__)

FINETUNES = ("lora", "full")
# The new head's weight (suffix of its name in a full model's or an adapter's safetensors).
HEAD_WEIGHT = "classifier.weight"
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"]
LORA_FILES = ["adapter_config.json", "adapter_model.safetensors"]
FULL_FILES = ["config.json", "model.safetensors"]


# -- building ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoraSettings:
    """Where the LoRA adapters go and what is trained in full beside them."""

    rank: int
    alpha: int | None  # None: 2 * rank
    dropout: float
    targets: tuple[str, ...]  # suffixes of the encoder's module names that get adapters
    saved_modules: tuple[str, ...]  # trained in full and saved with the adapters (the new head, ...)
    # The top N encoder layers are trained in full instead of adapted (saved whole: ~7 MB a layer for
    # MiniLM in float32): more capacity where the task-specific features form, still a small checkpoint.
    full_top_layers: int = 0

    def record(self) -> dict[str, Any]:
        """What ``argmine.json`` keeps as ``settings.lora`` (for the card; loading reads adapter_config.json)."""
        alpha = 2 * self.rank if self.alpha is None else self.alpha
        record = {"r": self.rank, "alpha": alpha, "dropout": self.dropout, "targets": list(self.targets)}
        if self.full_top_layers:
            record["full_top_layers"] = self.full_top_layers
        return record


def build_model(
    auto_class: Any,
    encoder: str | Path,
    *,
    kind: str,
    labels: Sequence[str],
    id2label: Sequence[str],
    settings: dict[str, Any],
    min_length: int,
    finetune: str,
    lora: LoraSettings,
    task_type: str,
) -> tuple[nn.Module, Any, CheckpointMeta]:
    """A new, untrained model on the base ``encoder`` (a name or a folder), its tokenizer and its argmine.json.

    ``auto_class`` (e.g. ``AutoModelForTokenClassification``) gets a fresh head
    with one output per ``id2label`` entry. ``settings["max_length"]`` must lie
    between ``min_length`` and the encoder's positions. With
    ``finetune="lora"`` the model is wrapped in ``lora`` adapters (peft
    ``task_type``, e.g. ``"TOKEN_CLS"``), recorded as ``settings["lora"]``.
    Seed torch first for a reproducible head.
    """
    if finetune not in FINETUNES:
        raise InputError(f"finetune must be one of {', '.join(FINETUNES)}, got {finetune!r}")
    if finetune == "full" and lora.full_top_layers:
        raise InputError("full_top_layers applies to LoRA fine-tuning; finetune=full already trains every layer")
    folder = resolve_encoder(encoder)
    check_loadable(folder)
    tokenizer = load_tokenizer(folder)
    model = _base_model(auto_class, folder, id2label)
    max_length = settings["max_length"]
    positions = getattr(model.config, "max_position_embeddings", max_length)
    if not min_length <= max_length <= positions:
        raise InputError(
            f"max_length must be between {min_length} and the encoder's {positions} positions, got {max_length}"
        )
    settings = dict(settings)
    if finetune == "lora":
        from peft import LoraConfig, get_peft_model

        if lora.rank < 1:
            raise InputError(f"the LoRA rank must be at least 1, got {lora.rank}")
        settings["lora"] = lora.record()
        layers, full_layers = _split_layers(model, lora.full_top_layers)
        config = LoraConfig(
            task_type=task_type,
            r=lora.rank,
            lora_alpha=settings["lora"]["alpha"],
            lora_dropout=lora.dropout,
            target_modules=list(lora.targets),
            modules_to_save=list(lora.saved_modules) + full_layers,
            **({"layers_to_transform": layers, "layers_pattern": "layer"} if full_layers else {}),
        )
        with quiet():
            model = get_peft_model(model, config)
        # peft skips a modules_to_save name that matches nothing: an encoder without these layers must not pass.
        wrapped = [name for name, _ in model.named_modules() if name.endswith(".modules_to_save")]
        missing = [layer for layer in full_layers if not any(n.endswith(f"{layer}.modules_to_save") for n in wrapped)]
        if missing:
            raise InputError(f"the encoder has no module {missing[0]!r} to train in full (needs a BERT-style layout)")
    meta = CheckpointMeta(
        kind=kind,
        labels=tuple(labels),
        base_encoder=str(encoder),
        base_sha256=encoder_fingerprint(folder),
        finetune=finetune,
        settings=settings,
    )
    return model, tokenizer, meta


# -- saving -----------------------------------------------------------------------------


def save_transformer(
    model: nn.Module, tokenizer: Any, meta: CheckpointMeta, folder: str | Path, card: str, precision: str = "float32"
) -> Path:
    """Write the checkpoint folder atomically: argmine.json, tokenizer, weights (adapters or full), ``card``.

    A model converted by ``convert`` (``precision`` not float32) is refused: its
    adapters are folded in for good and its weights rounded.
    """
    if precision != "float32":
        raise ValueError(f"a model converted to {precision} cannot be saved; save the checkpoint it was loaded from")
    folder = Path(folder)
    with staged_checkpoint(folder, meta, card) as tmp:
        tokenizer.save_pretrained(str(tmp))
        with quiet():
            if meta.finetune == "lora":
                # The embeddings are never trained; without this, peft looks the base model's
                # config up by name (a network lookup for "minilm") to decide whether to save them.
                model.save_pretrained(str(tmp), save_embedding_layers=False)
            else:
                model.save_pretrained(str(tmp))
        if meta.finetune == "lora":
            _scrub_adapter_config(tmp / "adapter_config.json", meta.base_encoder)
    return folder


# -- inference ---------------------------------------------------------------------------


class FineTunedModel(SavedModel):
    """What the segmenter and the stance cross-encoder share: a fine-tuned model, its tokenizer and argmine.json.

    Subclasses set ``model``, ``tokenizer``, ``meta`` and ``precision`` and
    write their own ``model_card``; saving, merging and converting are the same
    for both. ``_run`` is where a subclass puts the model it predicts with.
    """

    model: nn.Module
    tokenizer: Any
    meta: CheckpointMeta
    precision: str = "float32"  # what the weights are in: float32 unless to_precision converted them

    def model_card(self) -> str:
        raise NotImplementedError

    def _run(self, model: nn.Module) -> None:
        self.model = model.eval()

    def save_pretrained(self, folder: str | Path, card: str | None = None) -> Path:
        """Write the checkpoint folder atomically; ``card`` replaces the generated README.md."""
        card = card if card is not None else self.model_card()
        folder = save_transformer(self.model, self.tokenizer, self.meta, folder, card, self.precision)
        log.info("saved the %s checkpoint to %s", self.meta.kind, folder)
        return folder

    def merged(self) -> Self:
        """This model with its LoRA adapters folded into the weights for inference, in place; returns ``self``.

        See ``merge_lora``: the same predictions up to float rounding, and it still saves as the small delta.
        """
        merge_lora(self.model)
        return self

    def to_precision(self, precision: str) -> Self:
        """Run in ``precision`` (``argmine.precision``) from now on, converted in place; returns ``self``.

        Leaving float32 is one way, and the converted model cannot be saved (see ``convert``).
        """
        model, self.precision = convert(self.model, self.precision, precision)
        self._run(model)
        return self


# -- loading ----------------------------------------------------------------------------


def check_finetune(folder: Path, meta: CheckpointMeta) -> None:
    """The fine-tuning mode ``argmine.json`` of a transformer checkpoint names must be one argmine builds."""
    if meta.finetune not in FINETUNES:
        raise CheckpointError(
            f"{folder / META_FILE}: finetune must be one of {', '.join(FINETUNES)}, got {meta.finetune!r}"
        )


def load_transformer(
    folder: Path,
    meta: CheckpointMeta,
    auto_class: Any,
    id2label: Sequence[str],
    *,
    head_unit: str | None = None,
    min_length: int = 1,
) -> tuple[nn.Module, Any]:
    """The model and tokenizer of the checkpoint ``folder`` whose ``meta`` the caller has read and checked.

    ``auto_class`` and ``id2label`` are those ``build_model`` was given. With
    ``head_unit`` (what the head's outputs are called, e.g. ``"tags"``), the
    saved head's size is checked against ``id2label`` before anything is built,
    for a message that names the likely cause; without it a mismatch surfaces
    as a load error. A LoRA checkpoint is rebuilt on its base encoder after
    checking the encoder's fingerprint. ``settings.max_length`` must lie
    between ``min_length`` and the encoder's positions, as ``build_model``
    asks. Nothing is built before every check has passed.
    """
    check_loadable(folder)
    require_files(folder, TOKENIZER_FILES)
    if meta.finetune == "lora":
        require_files(folder, LORA_FILES)
        weights = folder / "adapter_model.safetensors"
        encoder = verify_base_encoder(meta, folder)
        config = encoder / "config.json"
    else:
        require_files(folder, FULL_FILES)
        weights, encoder, config = folder / "model.safetensors", folder, folder / "config.json"
    check_max_length(folder / META_FILE, meta.settings.get("max_length"), config, min_length)
    if head_unit is not None:
        check_head(weights, len(id2label), head_unit)
    check_finite(weights, "the LoRA adapter" if meta.finetune == "lora" else "the model")
    if meta.finetune == "lora":
        model = _load_lora(folder, encoder, auto_class, id2label)
    else:
        model = _load_full(folder, auto_class, id2label)
    return model, load_tokenizer(folder)


def check_max_length(where: Path, max_length: Any, config: Path, min_length: int) -> None:
    """``max_length`` (from ``where``) must be an integer within the positions the encoder's ``config`` has.

    A window longer than the position embeddings would load and then fail on
    the first long text.
    """
    if not isinstance(max_length, int) or isinstance(max_length, bool):
        raise CheckpointError(f"{where}: field 'settings.max_length' must be an integer, got {json_type(max_length)}")
    positions = read_json_object(config).get("max_position_embeddings") or max_length
    if not min_length <= max_length <= positions:
        raise CheckpointError(
            f"{where}: settings.max_length is {max_length}, but must lie between {min_length} and the "
            f"{positions} positions of the encoder ({config})"
        )


def check_finite(weights: Path, what: str = "the weights") -> None:
    """Every floating-point tensor in ``weights`` (``what``) must be finite: a NaN head loads, then finds nothing."""
    import torch
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(weights), framework="pt") as handle:
            for name in handle.keys():  # noqa: SIM118 (a safetensors handle is no dict)
                tensor = handle.get_tensor(name)
                if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                    bad = "NaN" if bool(torch.isnan(tensor).any()) else "infinite"
                    raise CheckpointError(f"{weights}: tensor {name!r} holds {bad} values; refused")
    except (SafetensorError, OSError) as error:
        raise CheckpointError(
            f"{weights}: cannot load {what}, not a readable safetensors file ({first_line(error)})"
        ) from None


def load_tokenizer(folder: Path) -> Any:
    """The fast tokenizer saved in ``folder`` (an encoder or a checkpoint), without the network."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError, TypeError, AttributeError, KeyError) as error:  # a bad file meets any of them
        raise CheckpointError(f"{folder}: cannot load the tokenizer ({first_line(error)})") from None
    if not getattr(tokenizer, "is_fast", False):
        raise CheckpointError(
            f"{folder}: needs a fast tokenizer (tokenizer.json), for character offsets and pair encodings"
        )
    return tokenizer


def check_head(weights: Path, size: int, unit: str = "labels") -> None:
    """The head's output size must be ``size``: catches a label list edited after training."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(weights), framework="pt") as handle:
            heads = [k for k in handle.keys() if k == HEAD_WEIGHT or k.endswith("." + HEAD_WEIGHT)]  # noqa: SIM118
            rows = handle.get_slice(heads[0]).get_shape()[0] if heads else None
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"{weights}: not a readable safetensors file ({first_line(error)})") from None
    if rows is None:
        raise CheckpointError(f"{weights}: no {HEAD_WEIGHT} tensor (not a classifier's weights?)")
    if rows != size:
        raise CheckpointError(
            f"{weights}: the head predicts {rows} {unit} but argmine.json's labels make {size} "
            "(labels edited after training?)"
        )


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence transformers' load report ("newly initialized: classifier", expected here) and its progress bars."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\.")
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def first_line(error: BaseException) -> str:
    """The first line of an error's message (library errors can run to pages), or its type."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _split_layers(model: nn.Module, full_top_layers: int) -> tuple[list[int], list[str]]:
    """The layer indices that keep LoRA adapters and the module names of the top layers trained in full."""
    if full_top_layers == 0:
        return [], []
    count = getattr(model.config, "num_hidden_layers", None)
    if not isinstance(count, int) or not 0 < full_top_layers < count:
        raise InputError(
            f"full_top_layers must be between 1 and the encoder's layers minus one ({count}), got {full_top_layers}; "
            "to train every layer use finetune=full"
        )
    first_full = count - full_top_layers
    return list(range(first_full)), [f"encoder.layer.{i}" for i in range(first_full, count)]


# Offline, no checkpoint code, safetensors only: for every model transformers builds here.
SAFE_LOAD = {"local_files_only": True, "trust_remote_code": False, "use_safetensors": True}


def _base_model(auto_class: Any, encoder: Path, id2label: Sequence[str]) -> nn.Module:
    from safetensors import SafetensorError

    try:
        with quiet():
            return auto_class.from_pretrained(
                str(encoder),
                **SAFE_LOAD,
                num_labels=len(id2label),
                id2label=dict(enumerate(id2label)),
                label2id={label: i for i, label in enumerate(id2label)},
            )
    except (RuntimeError, ValueError, OSError, TypeError, AttributeError, KeyError, SafetensorError) as error:
        raise CheckpointError(f"{encoder}: cannot load the encoder ({first_line(error)})") from None


def _load_lora(folder: Path, encoder: Path, auto_class: Any, id2label: Sequence[str]) -> nn.Module:
    from peft import LoraConfig, PeftModel
    from peft.utils import get_peft_model_state_dict
    from safetensors import SafetensorError, safe_open

    base = _base_model(auto_class, encoder, id2label)
    try:
        with quiet():
            # the config read here, from the file check_loadable passed, not looked up again by peft
            config = LoraConfig.from_pretrained(str(folder), local_files_only=True)
            model = PeftModel.from_pretrained(
                base, str(folder), config=config, is_trainable=False, local_files_only=True, use_safetensors=True
            )
    except (RuntimeError, ValueError, OSError, KeyError, TypeError, AttributeError, SafetensorError) as error:
        raise CheckpointError(f"{folder}: cannot load the LoRA adapter ({first_line(error)})") from None
    with safe_open(str(folder / "adapter_model.safetensors"), framework="pt") as handle:
        saved = set(handle.keys())
    for config in model.peft_config.values():  # the folder it was really built from, not the name in the file
        config.base_model_name_or_path = str(encoder)
    expected = set(get_peft_model_state_dict(model, save_embedding_layers=False).keys())
    if saved != expected:
        missing = sorted(expected - saved)
        raise CheckpointError(
            f"{folder / 'adapter_model.safetensors'}: does not match adapter_config.json "
            f"({len(missing)} tensors missing, e.g. {missing[:2]}; {len(saved - expected)} unexpected)"
        )
    return model


def _load_full(folder: Path, auto_class: Any, id2label: Sequence[str]) -> nn.Module:
    from safetensors import SafetensorError

    config = read_json_object(folder / "config.json")
    saved_map = config.get("id2label") or {}
    saved = [saved_map.get(str(i)) for i in range(len(saved_map))]
    if saved != list(id2label):
        raise CheckpointError(f"{folder}: config.json labels {saved} differ from argmine.json's {list(id2label)}")
    try:
        with quiet():
            model, info = auto_class.from_pretrained(str(folder), **SAFE_LOAD, output_loading_info=True)
    except (RuntimeError, ValueError, OSError, TypeError, AttributeError, KeyError, SafetensorError) as error:
        raise CheckpointError(f"{folder}: cannot load the model ({first_line(error)})") from None
    if info.get("missing_keys") or info.get("mismatched_keys"):
        missing = sorted(info.get("missing_keys") or []) + [str(k) for k in info.get("mismatched_keys") or []]
        raise CheckpointError(f"{folder / 'model.safetensors'}: incomplete weights, e.g. {missing[:2]}")
    return model


def _scrub_adapter_config(path: Path, base_encoder: str | None) -> None:
    """Record the encoder as argmine names it, not as an absolute path of the training machine."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data["base_model_name_or_path"] = base_encoder
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
