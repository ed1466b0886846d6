"""Hydra's and OmegaConf's errors as one ``ArgmineError`` line, with "did you mean" where a name is close.

    experiment=cmv_componets  →  experiment=cmv_componets: no such experiment in conf/experiment; did you mean ...?
    trainer.epochz=2          →  trainer.epochz: no such setting in trainer; did you mean trainer.epochs?
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from argmine.errors import ArgmineError
from argmine.settings import did_you_mean

GROUPS = ("data", "model", "task", "trainer", "experiment", "debug", "hydra")


def hydra_error(error: BaseException, conf: Path, command: str, overrides: Sequence[str]) -> ArgmineError | None:
    """One line for an error of Hydra or OmegaConf (None for anything else: a bug keeps its traceback)."""
    if isinstance(error, MissingConfigException):
        missing = str(error.missing_cfg_file or "")
        group, _, option = missing.rpartition("/")
        if group and option:
            options = sorted(error.options or _options(conf, group))
            advice = did_you_mean(option, options)
            return ArgmineError(f"{group}={option}: no such {group} in {conf / group}{advice}")
        return ArgmineError(_first_line(error))
    if isinstance(error, OverrideParseException):
        detail = [line for line in str(error).splitlines() if line.strip() and not line.startswith("See ")]
        override = getattr(error, "override", None) or _first_line(error)
        return ArgmineError(f"cannot parse {override!r}: {detail[0] if detail else 'see the override grammar'}")
    if isinstance(error, (HydraException, OmegaConfBaseException)):
        match = re.search(r"Could not override '([^']+)'", str(error))
        if match:
            return ArgmineError(_unknown_key(match.group(1), conf, command, overrides))
        cause = error.__cause__ if isinstance(error.__cause__, OmegaConfBaseException) else error
        return ArgmineError(_first_line(cause))
    return None


def _unknown_key(key: str, conf: Path, command: str, overrides: Sequence[str]) -> str:
    """``KEY: no such setting`` with the close name or the known ones of its parent (composed without it)."""
    parent, _, name = key.rpartition(".")
    choices = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") in GROUPS and "." not in o.split("=", 1)[0]]
    known: list[str] = []
    try:
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
            cfg = compose(config_name=command, overrides=choices)
        node = OmegaConf.select(cfg, parent) if parent else cfg
        known = sorted(str(k) for k in node.keys()) if isinstance(node, DictConfig) else []
    except Exception:  # noqa: BLE001 (the advice is a bonus; the key is named either way)
        pass
    finally:
        GlobalHydra.instance().clear()
    advice = did_you_mean(name, known).replace("did you mean ", f"did you mean {parent}.") if known else ""
    return f"{key}: no such setting{f' in {parent}' if parent else ''}{advice}"


def _options(conf: Path, group: str) -> list[str]:
    return sorted(p.stem for p in (conf / group).glob("*.yaml"))


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
