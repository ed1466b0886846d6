"""``argmine evaluate``'s job: the composed config (conf/evaluate.yaml) → typed settings → ``argmine.jobs.evaluate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from argmine.cli.train import data_settings, plain
from argmine.jobs.evaluate import run_evaluation
from argmine.settings import EvaluateSettings, from_mapping


def evaluate_settings(cfg: DictConfig) -> EvaluateSettings:
    """The top-level keys of an evaluation config (all but ``data``) as typed settings."""
    values = {k: v for k, v in (plain(cfg) or {}).items() if k not in ("data", "hydra", "suite", "data_root")}
    return from_mapping(EvaluateSettings, values, "evaluate")


def run_evaluate(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Score ``cfg.checkpoint`` on ``data.split`` of the configured gold data (or on ``cfg.suite``)."""
    settings = evaluate_settings(cfg)  # before anything loads
    if cfg.get("suite"):
        suite = {str(name): data_settings(node, f"suite.{name}") for name, node in cfg.suite.items()}
        return run_evaluation(settings, None, run_dir, suite=suite)
    return run_evaluation(settings, data_settings(cfg.data), run_dir)
