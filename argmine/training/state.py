"""The resumable state of a run: trainable weights, optimizer, schedule and RNGs in safetensors + JSON.

The run folder (``state_dir`` of ``fit``) holds, after each finished epoch:

    state.json              epoch, step, best epoch, history, settings, processes, Python/NumPy RNG
    last.safetensors        the trainable parameters after that epoch
    best.safetensors        the trainable parameters of the best epoch so far
    optimizer.safetensors   optimizer moments + torch RNG (its param groups are in state.json)

Only the *trainable* parameters are kept (a LoRA run's state is a few MB), and nothing is
pickled: this is why argmine does not use the transformers ``Trainer``, whose optimizer and
RNG states are ``torch.save`` pickles. The layout is the same as before ``argmine.training``
became a package; ``tests/fixtures/run_state_v1`` is such a folder, and a test resumes it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from argmine.errors import InputError
from argmine.io_utils import write_json
from argmine.settings import TrainSettings
from argmine.training.record import EpochRecord


def load_trainable(trainable: dict[str, nn.Parameter], path: Path) -> None:
    """Copy the tensors of a ``*.safetensors`` file of the run into ``trainable``, which must name the same."""
    saved = load_file(str(path))
    if set(saved) != set(trainable):
        raise InputError(f"{path}: holds other parameters than the model trains (a different model or settings?)")
    with torch.no_grad():
        for name, p in trainable.items():
            p.copy_(saved[name])


class RunState:
    """The resumable state of one run, in safetensors + JSON (no pickles)."""

    def __init__(self, folder: Path, settings: TrainSettings, world_size: int = 1) -> None:
        self.folder = folder
        self.settings = settings
        self.world_size = world_size  # processes that trained it: their shards make the batch plan

    def exists(self) -> bool:
        return (self.folder / "state.json").is_file()

    def save(
        self,
        epoch: int,
        step: int,
        history: list[EpochRecord],
        best_epoch: int,
        trainable: dict[str, nn.Parameter],
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LambdaLR,
    ) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        weights = {k: p.detach().cpu().contiguous() for k, p in trainable.items()}
        _save_atomic(weights, self.folder / "last.safetensors")
        if best_epoch == epoch:
            _save_atomic(weights, self.folder / "best.safetensors")
        tensors, opt_json = _split_optimizer_state(optimizer.state_dict())
        tensors["__torch_rng__"] = torch.get_rng_state()
        _save_atomic(tensors, self.folder / "optimizer.safetensors")
        np_state = np.random.get_state()
        py_state = random.getstate()
        write_json(
            self.folder / "state.json",
            {
                "epoch": epoch,
                "step": step,
                "best_epoch": best_epoch,
                "history": [asdict(r) for r in history],
                "settings": asdict(self.settings),
                "world_size": self.world_size,
                "optimizer": opt_json,
                "scheduler": {k: v for k, v in scheduler.state_dict().items() if k != "lr_lambdas"},
                "python_rng": [py_state[0], list(py_state[1]), py_state[2]],
                "numpy_rng": [np_state[0], np_state[1].tolist(), *map(_plain, np_state[2:])],
            },
        )

    def load(
        self,
        model: nn.Module,
        trainable: dict[str, nn.Parameter],
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LambdaLR,
    ) -> tuple[int, int, list[EpochRecord], int]:
        path = self.folder / "state.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(f"{path}: unreadable run state ({error}); delete the folder to start afresh") from None
        saved, now = _resumable(data.get("settings") or {}), _resumable(asdict(self.settings))
        if saved != now:
            changed = sorted(k for k in now if saved.get(k) != now[k])
            raise InputError(
                f"{path}: this run was started with other settings ({', '.join(changed)} differ); "
                "resume with the same settings or use a fresh run folder"
            )
        trained_by = data.get("world_size", 1)
        if trained_by != self.world_size:
            raise InputError(
                f"{path}: this run was trained by {trained_by} process(es), each on its share of the batches; "
                f"resume it with as many, not {self.world_size}"
            )
        load_trainable(trainable, self.folder / "last.safetensors")
        tensors = load_file(str(self.folder / "optimizer.safetensors"))
        torch.set_rng_state(tensors.pop("__torch_rng__"))
        optimizer.load_state_dict(_join_optimizer_state(tensors, data["optimizer"]))
        scheduler.load_state_dict({**data["scheduler"], "lr_lambdas": [None] * len(optimizer.param_groups)})
        version, internal, gauss = data["python_rng"]
        random.setstate((version, tuple(internal), gauss))
        name, keys, *rest = data["numpy_rng"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
        history = [EpochRecord(**r) for r in data["history"]]
        return int(data["epoch"]), int(data["step"]), history, int(data["best_epoch"])


# Where and how a run runs, not what it learns: a run may resume with other values of these.
_NOT_COMPARED = ("device", "threads", "resume")


def _resumable(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings a resumed run must share with its start: all but where it runs.

    A key absent from an older state.json compares as its default (settings added since).
    """
    defaults = {f.name: f.default for f in dataclasses.fields(TrainSettings)}
    return {k: settings.get(k, defaults[k]) for k in defaults if k not in _NOT_COMPARED}


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _save_atomic(tensors: dict[str, torch.Tensor], path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, path)


def _split_optimizer_state(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """An optimizer ``state_dict`` as safetensors-able tensors + JSON-able rest."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, slots in state["state"].items():
        for key, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _join_optimizer_state(tensors: dict[str, torch.Tensor], data: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    for index, slots in data.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(slots)
    groups = []
    for group in data["param_groups"]:
        group = dict(group)
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
        groups.append(group)
    return {"state": state, "param_groups": groups}
