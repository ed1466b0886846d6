"""``argmine train``'s job: the composed config (conf/train.yaml) → typed settings → ``argmine.jobs.train``.

Hydra composes the config and makes the run folder (``argmine.cli.hydra_app``); this module turns
the config into the library's plain settings, checked before anything loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from argmine.jobs.data import DataSettings
from argmine.jobs.train import RunSettings, run_settings, run_training


def plain(node: Any) -> Any:
    """A config node as plain dicts and lists, interpolations resolved."""
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node


def data_settings(data: DictConfig, where: str = "data") -> DataSettings:
    """A composed data config as ``DataSettings``."""
    return DataSettings.from_mapping(plain(data), where)


def train_settings(cfg: DictConfig) -> RunSettings:
    """``cfg``'s trainer, model and task as typed settings: every key known, of its type and in range.

    Takes milliseconds and loads nothing, so a mistake surfaces before any data or model does.
    """
    stance_model = cfg.get("stance_model")
    return run_settings(
        plain(cfg.get("trainer")),
        plain(cfg.get("model")),
        plain(cfg.get("task")),
        None if stance_model is None else plain(stance_model),
    )


def run_train(cfg: DictConfig, run_dir: Path, command: str) -> dict[str, Any]:
    """Train as ``cfg`` says into ``run_dir``; ``command`` is recorded in the checkpoint. Returns the metrics."""
    settings = train_settings(cfg)  # before anything loads
    return run_training(settings, data_settings(cfg.data), run_dir, experiment=cfg.name, command=command)
