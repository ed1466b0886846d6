"""Run folders as ``argmine report`` reads them, grouped by setting, summarized over seeds.

    run folder/ metrics.json + .hydra/config.yaml (+ overrides.yaml)  ──read_run──► RunRecord
    RunRecords ──group_runs──► RunGroup (same experiment and config except the seed) with a MetricSummary per key

The only code that knows Hydra's run-folder layout (``.hydra/``). An older run without it is read
from its ``checkpoint/argmine.json``. Intervals over seeds use Student's t.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from argmine.errors import ArgmineError
from argmine.evaluation.glossary import CI_SUFFIX

log = logging.getLogger(__name__)

SEED_KEYS = ("trainer.seed",)
# Settings that change how a run is executed, not what it computes.
IGNORED_KEYS = ("trainer.resume", "trainer.threads", "trainer.device")  # where a run ran, not what it is


@dataclass(frozen=True)
class RunRecord:
    """One run folder as ``argmine report`` reads it."""

    path: Path
    name: str
    command_kind: str  # "train" (metrics on the dev split while training) or "evaluate"
    config: Mapping[str, Any]  # flattened: "trainer.seed" → 13
    identity: Mapping[str, Any]  # what must be equal for two runs to be the same setting
    seed: Any
    metrics: Mapping[str, Any]
    overrides: tuple[str, ...] = ()
    command: str | None = None  # as recorded in checkpoint/argmine.json (training.command)
    checkpoint: Path | None = None
    data: str = ""
    split: str = ""
    source: str = ".hydra/config.yaml"


@dataclass(frozen=True)
class MetricSummary:
    n: int
    mean: float
    std: float | None  # sample standard deviation (n - 1); None for one run
    ci95: tuple[float, float] | None  # Student's t interval of the mean; None for one run
    values: tuple[float, ...]


@dataclass(frozen=True)
class RunGroup:
    """Runs of one experiment that differ only by seed."""

    name: str
    command_kind: str
    setting: Mapping[str, Any]  # the keys that tell this group from others of the same name
    runs: tuple[RunRecord, ...]
    summary: Mapping[str, MetricSummary] = field(default_factory=dict)

    @property
    def label(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.setting.items())
        return f"{self.name} [{shown}]" if shown else self.name

    @property
    def seeds(self) -> list[Any]:
        return [run.seed for run in self.runs]


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys; lists are kept as values (as JSON text, so they compare and print)."""
    out: dict[str, Any] = {}
    if isinstance(data, Mapping):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        if not data and prefix:
            out[prefix[:-1]] = "{}"
    elif isinstance(data, list):
        out[prefix[:-1]] = json.dumps(data, sort_keys=True, default=str)
    else:
        out[prefix[:-1]] = data
    return out


def fold_extra_train(config: Mapping[str, Any]) -> dict[str, Any]:
    """A flattened run config with ``data.extra_train`` as one readable value: ``NAME=DATA (use)`` per corpus.

    Its paths say where the corpus lay, not what the run is, and the other keys of each extra data
    config are those of its named config: the name and use tell the settings apart.
    """
    prefix = "data.extra_train."
    out = {k: v for k, v in config.items() if not k.startswith(prefix)}
    names = sorted({k[len(prefix) :].split(".", 1)[0] for k in config if k.startswith(prefix)})
    if names:
        out["data.extra_train"] = ", ".join(
            f"{n}={config.get(f'{prefix}{n}.name')} ({config.get(f'{prefix}{n}.use')})" for n in names
        )
    return out


def _load_yaml(path: Path) -> Any:
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException
    from yaml import YAMLError

    def unreadable(error: Exception) -> ArgmineError:  # one line: YAML and OmegaConf errors span several
        return ArgmineError(f"{path}: cannot read as YAML ({' '.join(str(error).split())})")

    try:
        node = OmegaConf.load(path)
    except (OSError, OmegaConfBaseException, ValueError, YAMLError) as error:
        raise unreadable(error) from None
    try:
        return OmegaConf.to_container(node, resolve=True)
    except OmegaConfBaseException:  # an interpolation that needs Hydra's resolvers: keep it as written
        try:
            return OmegaConf.to_container(node, resolve=False)
        except OmegaConfBaseException as error:
            raise unreadable(error) from None


def load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArgmineError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise ArgmineError(f"{path}: expected a JSON object")
    return data


def _training_info(checkpoint: Path) -> dict[str, Any]:
    meta = checkpoint / "argmine.json"
    if not meta.is_file():
        return {}
    return dict(load_json(meta).get("training") or {})


def read_run(
    path: str | Path, *, seed_keys: Sequence[str] = SEED_KEYS, ignore: Sequence[str] = IGNORED_KEYS
) -> RunRecord:
    """A run folder: metrics.json plus .hydra/config.yaml (or, for an older run without it, checkpoint/argmine.json)."""
    path = Path(path)
    metrics = load_json(path / "metrics.json")
    config_file = path / ".hydra" / "config.yaml"
    checkpoint = path / "checkpoint"
    if config_file.is_file():
        loaded = _load_yaml(config_file)
        if not isinstance(loaded, dict):
            raise ArgmineError(f"{config_file}: expected a mapping of settings, got a {type(loaded).__name__}")
        config = fold_extra_train(flatten(loaded))
        overrides_file = path / ".hydra" / "overrides.yaml"
        overrides = _load_yaml(overrides_file) if overrides_file.is_file() else []
        if not isinstance(overrides, list):
            raise ArgmineError(f"{overrides_file}: expected a list of overrides")
        evaluate = "checkpoint" in config and "trainer.seed" not in config
        if evaluate and not isinstance(config["checkpoint"], str):
            raise ArgmineError(f"{config_file}: checkpoint must be a folder path, got {config['checkpoint']!r}")
        info = _training_info(Path(config["checkpoint"]) if evaluate else checkpoint)
        # A null key counts as absent: settings added later default to null (= the old behaviour),
        # so a run from before the key existed is the same setting as one with it left null.
        identity = {k: v for k, v in config.items() if k not in seed_keys and k not in ignore and v is not None}
        seed = next((config[k] for k in seed_keys if k in config), None)
        if evaluate:
            # The checkpoint path differs per seed; what it was trained with is the setting.
            identity.pop("checkpoint", None)
            trained = _checkpoint_run_config(Path(config["checkpoint"]))
            identity.update({f"trained.{k}": v for k, v in trained.items() if k not in seed_keys and k not in ignore})
            if not trained and info:
                identity["trained.experiment"] = info.get("experiment")
            seed = trained.get(seed_keys[0], info.get("seed")) if seed is None else seed
        name = str(config.get("name", path.name))
        return RunRecord(
            path=path,
            name=name,
            command_kind="evaluate" if evaluate else "train",
            config=config,
            identity=identity,
            seed=seed,
            metrics=metrics,
            overrides=tuple(str(o) for o in overrides),
            command=info.get("command") if not evaluate else None,
            checkpoint=(Path(config["checkpoint"]) if evaluate else checkpoint if checkpoint.is_dir() else None),
            data=str(config.get("data.name", "")),
            split=str(config.get("data.split" if evaluate else "data.dev_split", "")),
        )
    info = _training_info(checkpoint)
    if not info:
        raise ArgmineError(f"{path}: a run folder needs .hydra/config.yaml (or checkpoint/argmine.json)")
    outcome = {"seed", "command", "metrics", "history", "steps", "seconds", "best_epoch",
               "train_messages", "dev_messages"}
    config = flatten({k: v for k, v in info.items() if k not in outcome})
    data = info.get("data") or {}
    return RunRecord(
        path=path,
        name=str(info.get("experiment") or path.name),
        command_kind="train",
        config=config,
        identity={k: v for k, v in config.items() if k not in ("data.path",)},
        seed=info.get("seed"),
        metrics=metrics,
        command=info.get("command"),
        checkpoint=checkpoint,
        data=str(data.get("name", "")),
        split=str(data.get("dev", "")),
        source="checkpoint/argmine.json",
    )


def _checkpoint_run_config(checkpoint: Path) -> dict[str, Any]:
    config = checkpoint.parent / ".hydra" / "config.yaml"
    return fold_extra_train(flatten(_load_yaml(config))) if config.is_file() else {}


def find_runs(roots: Iterable[str | Path], *, seed_keys: Sequence[str] = SEED_KEYS,
              ignore: Sequence[str] = IGNORED_KEYS) -> list[RunRecord]:
    """Every run folder at or below ``roots`` (sorted by path); a missing root is an error."""
    found: dict[Path, RunRecord] = {}
    for root in map(Path, roots):
        if not root.is_dir():
            raise ArgmineError(f"{root}: no such folder")
        for metrics in sorted(root.rglob("metrics.json")):
            folder = metrics.parent
            if (folder / ".hydra" / "config.yaml").is_file() or (folder / "checkpoint" / "argmine.json").is_file():
                found.setdefault(folder.resolve(), read_run(folder, seed_keys=seed_keys, ignore=ignore))
    return [found[key] for key in sorted(found)]


def find_checkpoints(roots: Iterable[str | Path], runs: Sequence[RunRecord]) -> list[Path]:
    """Checkpoint folders (an argmine.json) below ``roots`` that are not the checkpoint of one of ``runs``."""
    owned = {run.checkpoint.resolve() for run in runs if run.checkpoint is not None and run.checkpoint.is_dir()}
    out = set()
    for root in map(Path, roots):
        for meta in root.rglob("argmine.json"):
            if meta.parent.resolve() not in owned and not meta.parent.name.startswith("."):
                out.add(meta.parent)
    return sorted(out)


def summarize(values: Sequence[float]) -> MetricSummary:
    """Mean, sample std and Student's t 95% interval of the mean (``None`` for a single value)."""
    if not values:
        raise ValueError("nothing to summarize")
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if len(array) < 2:
        return MetricSummary(1, mean, None, None, tuple(array.tolist()))
    from scipy.stats import t

    std = float(array.std(ddof=1))
    half = float(t.ppf(0.975, len(array) - 1)) * std / math.sqrt(len(array))
    return MetricSummary(len(array), mean, std, (mean - half, mean + half), tuple(array.tolist()))


def _scalar_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {
        k: float(v) for k, v in metrics.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not k.endswith(CI_SUFFIX)
    }


def group_runs(runs: Sequence[RunRecord]) -> list[RunGroup]:
    """Runs with the same name, kind and identity (everything but the seed) form a group, with its summary."""
    buckets: dict[tuple[str, str, str], list[RunRecord]] = {}
    for run in runs:
        key = (run.name, run.command_kind, json.dumps(dict(run.identity), sort_keys=True, default=str))
        buckets.setdefault(key, []).append(run)
    by_name: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for (name, kind, _), members in buckets.items():
        by_name.setdefault((name, kind), []).append(dict(members[0].identity))
    groups = []
    # by name, then by the first run's path (run folders are named by time: older settings first)
    for (name, kind, _), members in sorted(buckets.items(), key=lambda item: (item[0][:2], str(item[1][0].path))):
        siblings = by_name[(name, kind)]
        identity = dict(members[0].identity)
        differing = sorted({k for other in siblings for k in set(other) | set(identity)
                            if any(o.get(k) != identity.get(k) for o in siblings)})
        seeds = [run.seed for run in members]
        if len(set(map(str, seeds))) < len(seeds):
            log.warning("%s: several runs share a seed (%s); each counts as one point", name, seeds)
        per_metric: dict[str, list[float]] = {}
        for run in members:
            for key, value in _scalar_metrics(run.metrics).items():
                per_metric.setdefault(key, []).append(value)
        summary = {key: summarize(values) for key, values in per_metric.items()}
        groups.append(RunGroup(name, kind, {k: identity.get(k) for k in differing}, tuple(members), summary))
    return groups
