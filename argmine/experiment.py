"""Hydra entry points: ``argmine train`` and ``argmine evaluate``.

Only this module knows Hydra. It builds the typed settings of ``argmine.settings``
from the composed config (``conf/``; an unknown key, a wrong type or a bad value is
an error naming it, before anything loads), hands them whole to the library's
trainers, and writes the run folder (locked by ``.lock`` while a run uses it; a
run that fails before it has trained anything leaves none):

    runs/<name>/<time>/
      .hydra/config.yaml   the resolved config (Hydra writes it)
      train.log            the log
      checkpoint/          the trained model (train)
      state/               what a resumed run continues from (train)
      metrics.json         the scores (written atomically)

Under ``torchrun`` / ``accelerate launch`` (WORLD_SIZE > 1) every process runs
``argmine train``: they agree on rank 0's run folder, train data-parallel
(``argmine.training.fit``), and only rank 0 writes the run folder. The other
ranks' Hydra output goes to a scratch folder that is deleted at the end, and
they log warnings only.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from argmine.data import load_gold, model_labels
from argmine.errors import ArgmineError
from argmine.io_utils import write_json
from argmine.settings import (
    BothTask,
    ComponentsTask,
    EvaluateSettings,
    SettingsError,
    StanceModel,
    StanceTask,
    TrainSettings,
    TransformerSettings,
    did_you_mean,
    from_mapping,
    model_settings,
    task_settings,
)
from argmine.resources import conf_dir
from argmine.stance.predict import STANCE_KINDS

log = logging.getLogger(__name__)

# $ARGMINE_CONF, else conf/ inside the installed wheel or beside the package in a checkout.
CONF_DIR = conf_dir()


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node


def _gold(data: DictConfig, split: str, path: str | None = None) -> list:
    return load_gold(
        data.format,
        path or data.path,
        split=split,
        seed=data.get("seed"),
        unit=data.get("unit"),
        component_labels=_plain(data.get("component_labels")),
        relation_polarity=_plain(data.get("relation_polarity")),
        stance_map=_plain(data.get("stance_map")),
        view=data.get("view"),
        limit=data.get("limit"),
    )


EXTRA_USES = ("components", "stance", "both")


def _extra_train(data: DictConfig) -> dict[str, tuple[str, list, list]]:
    """``data.extra_train``: more corpora for the train set, each ``name → (use, train threads, dev threads)``.

    Each entry is a data config of its own (placed with ``/data@data.extra_train.NAME: aae2`` in an
    experiment's defaults) plus ``use``: which half it trains, ``components``, ``stance`` or ``both``.
    Its label maps must give the main data's labels. The dev split, which picks the best epoch, stays
    the main data's alone: extra corpora are there to help on it. ``data.limit`` (smoke runs) applies
    to an extra corpus that sets no limit of its own. With ``select_on_dev: true`` its dev split is read
    too: the pair stance classifier picks its settings by the mean macro-F1 over every dev set it is
    given (one small dev set alone is too easily fooled); other models ignore it.
    """
    out = {}
    for name, extra in (data.get("extra_train") or {}).items():
        use = extra.get("use")
        if use not in EXTRA_USES:
            raise ValueError(f"data.extra_train.{name}.use must be one of {', '.join(EXTRA_USES)}, got {use!r}")
        unknown = sorted(
            set(model_labels(extra.component_labels or {})) - set(model_labels(data.component_labels or {}))
        )
        if use != "stance" and unknown:
            raise ValueError(
                f"data.extra_train.{name}.component_labels map to {unknown}, not among data.component_labels' targets"
            )
        if extra.get("limit") is None and data.get("limit") is not None:  # a smoke run stays small throughout
            extra = OmegaConf.merge(extra, {"limit": data.limit})
        dev = _gold(extra, extra.dev_split) if extra.get("select_on_dev") and extra.get("dev_split") else []
        out[name] = (use, _gold(extra, extra.train_split), dev)
    return out


def _for(part: str, train: list, extras: dict[str, tuple[str, list, list]]) -> list:
    """The main train threads plus those of every extra corpus whose ``use`` covers ``part``."""
    return train + [t for use, threads, _ in extras.values() if use in (part, "both") for t in threads]


@dataclass(frozen=True)
class RunSettings:
    """The ``trainer``, ``model`` and ``task`` groups of a training config, built and checked."""

    trainer: TrainSettings
    model: StanceModel
    task: ComponentsTask | StanceTask | BothTask
    stance_model: StanceModel  # the stance half's model of task=both: the ``stance_model`` group, else ``model``


def train_settings(cfg: DictConfig) -> RunSettings:
    """``cfg``'s trainer, model and task as typed settings: every key known, of its type and in range.

    Takes milliseconds and loads nothing, so a mistake surfaces before any data or model does.
    """
    trainer = from_mapping(TrainSettings, _plain(cfg.get("trainer")), "trainer")
    model = model_settings(_plain(cfg.get("model")))
    task = task_settings(_plain(cfg.get("task")))
    if task.kind in ("components", "both") and type(model) is not TransformerSettings:
        raise SettingsError(
            f"model.classifier={model.classifier}: task.kind={task.kind} trains a segmenter, "
            "which needs a transformer model (model=minilm)"
        )
    stance_model = model
    if cfg.get("stance_model") is not None:
        if task.kind != "both":
            raise SettingsError("stance_model: only task=both has a stance half of its own; set model= instead")
        stance_model = model_settings(_plain(cfg.stance_model), "stance_model")
    return RunSettings(trainer, model, task, stance_model)


def run_train(cfg: DictConfig, run_dir: Path, command: str) -> dict[str, Any]:
    """Train the configured task on ``data.train_split``, select on ``data.dev_split``; return the metrics.

    ``task.kind`` is ``components`` (a segmenter), ``stance`` (a stance
    classifier) or ``both``: the two trained one after the other on the same
    data and joined into one pipeline checkpoint (``argmine mine`` loads it).
    """
    settings = train_settings(cfg)  # before anything loads
    data, task, trainer = cfg.data, settings.task, settings.trainer
    state_dir = run_dir / "state"
    if state_dir.exists() and not trainer.resume:
        raise ValueError(f"{state_dir} exists: pass trainer.resume=true to continue that run, or use a new run folder")
    train = _gold(data, data.train_split)
    extras = _extra_train(data)
    dev = _gold(data, data.dev_split, data.get("dev_path")) if data.get("dev_split") else None
    info = {
        "experiment": cfg.name,
        "command": command,
        "data": {"name": data.name, "train": data.train_split, "dev": data.dev_split},
    }
    if extras:
        info["data"]["extra_train"] = {
            name: {
                "name": data.extra_train[name].name,
                "split": data.extra_train[name].train_split,
                "use": use,
                "threads": len(threads),
            }
            for name, (use, threads, _) in extras.items()
        }
    checkpoint = run_dir / "checkpoint"
    writer = _is_rank0()  # under torchrun all ranks train; rank 0 alone writes the run folder
    labels = {"components": model_labels(data.component_labels or {}), "stance": list(data.stance_labels or [])}
    if task.kind == "components":
        components_train = _for("components", train, extras)
        metrics = _train_components(settings, labels, components_train, dev, checkpoint, state_dir, info)
    elif task.kind == "stance":
        metrics = _train_stance(settings, labels, (data.name, train, dev), extras, checkpoint, state_dir, info)
    else:
        from argmine.pipeline import ArgumentMiner

        parts = run_dir / "parts"
        # The stance half: its own epochs (and learning rate, when set) under the same trainer settings.
        stance_trainer = replace(
            trainer,
            epochs=task.stance_epochs,
            learning_rate=trainer.learning_rate if task.stance_learning_rate is None else task.stance_learning_rate,
        )
        metrics = {}
        components_train = _for("components", train, extras)
        for part, scores in (
            (
                "components",
                _train_components(
                    settings, labels, components_train, dev, parts / "components", state_dir / "components", info
                ),
            ),
            (
                "stance",
                _train_stance(
                    replace(settings, trainer=stance_trainer, model=settings.stance_model),
                    labels,
                    (data.name, train, dev),
                    extras,
                    parts / "stance",
                    state_dir / "stance",
                    info,
                ),
            ),
        ):
            # train/seconds etc. exist for both halves: keep each as train/<part>/...
            metrics |= {
                k.replace("train/", f"train/{part}/", 1) if k.startswith("train/") else k: v for k, v in scores.items()
            }
        if writer:
            miner = ArgumentMiner.from_parts(parts / "components", parts / "stance", merge_lora=False)
            miner.save_pretrained(checkpoint)
            shutil.rmtree(parts)  # both now live inside the pipeline checkpoint
    metrics = {key: value for key, value in metrics.items() if key != "checkpoint"}
    if writer:
        write_json(run_dir / "metrics.json", metrics)
        shutil.rmtree(state_dir, ignore_errors=True)  # the run finished: nothing left to resume
    return metrics


def _train_components(
    settings: RunSettings,
    labels: dict[str, list[str]],
    train: list,
    dev: list | None,
    output_dir: Path,
    state_dir: Path,
    info: dict,
) -> dict[str, Any]:
    from argmine.segmenter.train import train_segmenter

    return train_segmenter(
        train,
        dev,
        labels=labels["components"],
        output_dir=output_dir,
        trainer=settings.trainer,
        model=settings.model,
        task=settings.task,
        state_dir=state_dir,
        training_info=info,
    )


def _train_stance(
    settings: RunSettings,
    labels: dict[str, list[str]],
    main: tuple[str, list, list | None],
    extras: dict[str, tuple[str, list, list]],
    output_dir: Path,
    state_dir: Path,
    info: dict,
) -> dict[str, Any]:
    """The stance half on the main data's (name, train, dev) threads and the extras that train stance.

    Every example carries the name of its corpus (``StanceExample.corpus``): the main data's name, or
    the extra's key. Dev is the main data's, plus the dev splits of extras read with ``select_on_dev``.
    """
    from argmine.stance.inputs import stance_examples
    from argmine.stance.train import train_stance

    task = settings.task

    def examples(threads: list, corpus: str) -> list:
        return [replace(e, corpus=corpus) for e in stance_examples(threads, task.level, include_posts=task.include_posts)]

    name, train, dev = main
    sources = [(name, train, dev or [])] + [
        (key, threads, extra_dev) for key, (use, threads, extra_dev) in extras.items() if use in ("stance", "both")
    ]
    return train_stance(
        [e for corpus, threads, _ in sources for e in examples(threads, corpus)],
        [e for corpus, _, threads in sources for e in examples(threads, corpus)],
        labels=labels["stance"],
        output_dir=output_dir,
        trainer=settings.trainer,
        model=settings.model,
        task=task,
        state_dir=state_dir,
        training_info=info,
    )


def evaluate_settings(cfg: DictConfig) -> EvaluateSettings:
    """The top-level keys of an evaluation config (all but ``data``) as typed settings."""
    values = {k: v for k, v in (_plain(cfg) or {}).items() if k not in ("data", "hydra", "suite", "data_root")}
    return from_mapping(EvaluateSettings, values, "evaluate")


def run_evaluate(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Score ``cfg.checkpoint`` on ``data.split`` of the configured gold data; write metrics.json."""
    from argmine.checkpoint import read_meta

    settings = evaluate_settings(cfg)  # before anything loads
    checkpoint = Path(settings.checkpoint)
    meta = read_meta(checkpoint)
    if cfg.get("suite"):
        return _evaluate_suite(cfg, settings, meta, run_dir)
    gold = _gold(cfg.data, cfg.data.split)
    if not gold:
        raise ValueError(f"{cfg.data.name} split {cfg.data.split!r} at {cfg.data.path} holds no thread")
    metrics: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "data": cfg.data.name,
        "split": cfg.data.split,
        "threads": len(gold),
    }
    # Each part: (kind, labels, predicted threads) for the report, its scores merged into metrics.
    parts: list[tuple[str, list[str], list]] = []
    if meta.kind in ("components", "pipeline"):
        if meta.kind == "pipeline":
            from argmine.pipeline import ArgumentMiner

            miner = ArgumentMiner.from_pretrained(checkpoint, precision="float32")  # the dev metrics are float32
            segmenter, classifier = miner.segmenter, miner.stance
        else:
            from argmine.segmenter.model import Segmenter

            segmenter, classifier = Segmenter.from_pretrained(checkpoint), None
        parts.append(_score_components(segmenter, gold, settings, metrics))
        if classifier is not None:
            parts.append(_score_stance(classifier, gold, settings, metrics))
    elif meta.kind in STANCE_KINDS:
        from argmine.stance.predict import load_stance_classifier

        parts.append(_score_stance(load_stance_classifier(checkpoint), gold, settings, metrics))
    else:
        raise ValueError(f"{checkpoint}: cannot evaluate a {meta.kind!r} checkpoint")
    if settings.report:
        from argmine.evaluation.report import write_evaluation_report

        for kind, labels, predicted in parts:
            # report.md, confusion_*.png, errors.html (per part when a pipeline has two);
            # the bootstrap intervals go into metrics.json as <key>/ci95.
            folder = run_dir / kind if len(parts) > 1 else run_dir
            metrics.update(
                write_evaluation_report(
                    folder,
                    gold,
                    predicted,
                    metrics,
                    kind=kind,
                    labels=labels,
                    checkpoint=checkpoint,
                    data_name=cfg.data.name,
                    split=cfg.data.split,
                    bootstrap=settings.bootstrap,
                    seed=settings.bootstrap_seed,
                    include_posts=settings.include_posts,
                )
            )
    write_json(run_dir / "metrics.json", metrics)
    return metrics


def _score_components(
    segmenter: Any, gold: list, settings: EvaluateSettings, metrics: dict
) -> tuple[str, list[str], list]:
    from argmine.evaluation.spans import component_metrics

    gold_labels = {c.label for t in gold for _, c in t.components()}
    unknown = sorted(gold_labels - set(segmenter.labels))
    if unknown:
        raise ValueError(
            f"gold labels {unknown} are not among the checkpoint's {list(segmenter.labels)}: check data.component_labels"
        )
    predicted = segmenter.predict_threads(gold, batch_size=settings.batch_size)
    metrics.update(component_metrics(gold, predicted, labels=segmenter.labels))
    return "components", list(segmenter.labels), predicted


def _evaluate_suite(cfg: DictConfig, settings: EvaluateSettings, meta: Any, run_dir: Path) -> dict[str, Any]:
    """Stance on every dev set of ``cfg.suite`` at once: each set's scores and their mean macro-F1.

    ``suite.NAME`` is a data config (its ``split`` is scored) plus an optional ``stance_level``
    (default: the evaluation's). The stance part of a pipeline checkpoint is what is scored, on the
    gold comments and spans, so the classifier is measured alone. Every set is read before the
    checkpoint loads, so a missing corpus fails in seconds.
    """
    from argmine.evaluation.stance import suite_metrics
    from argmine.stance.inputs import check_level, stance_examples

    if meta.kind not in (*STANCE_KINDS, "pipeline"):
        raise ValueError(f"{settings.checkpoint}: a {meta.kind!r} checkpoint has no stance to score on a suite")
    examples = []
    sizes = {}
    for name, data in cfg.suite.items():
        level = check_level(data.get("stance_level") or settings.stance_level)
        gold = _gold(data, data.split)
        found = [replace(e, corpus=str(name)) for e in stance_examples(gold, level)]
        if not found:
            raise ValueError(f"suite.{name}: {data.name} split {data.split!r} at {data.path} has no gold stance")
        examples += found
        sizes[str(name)] = {"data": data.name, "split": data.split, "level": level, "threads": len(gold),
                            "items": len(found)}
    if meta.kind == "pipeline":
        from argmine.pipeline import ArgumentMiner

        classifier = ArgumentMiner.from_pretrained(Path(settings.checkpoint), precision="float32").stance
    else:
        from argmine.stance.predict import load_stance_classifier

        classifier = load_stance_classifier(settings.checkpoint)
    predicted = classifier.predict([e.input for e in examples], batch_size=settings.batch_size)
    labels = list(classifier.labels)
    unknown = sorted({str(e.label) for e in examples} - set(labels))
    if unknown:
        raise ValueError(f"the suite's gold labels {unknown} are not among the checkpoint's labels {labels}")
    metrics: dict[str, Any] = {"checkpoint": str(settings.checkpoint), "suite": sizes}
    metrics |= suite_metrics([str(e.label) for e in examples], predicted, [e.corpus for e in examples], labels,
                             prefix="stance/suite")
    write_json(run_dir / "metrics.json", metrics)
    if settings.report:
        from argmine.evaluation.suite import write_suite_report

        write_suite_report(run_dir / "report.md", metrics, labels)
    return metrics


def _score_stance(
    classifier: Any, gold: list, settings: EvaluateSettings, metrics: dict
) -> tuple[str, list[str], list]:
    """Stance on the gold comments and gold spans, so the classifier is measured alone."""
    from argmine.evaluation.stance import stance_metrics
    from argmine.stance.predict import predict_threads

    predicted = predict_threads(
        classifier,
        gold,
        level=settings.stance_level,
        include_posts=settings.include_posts,
        batch_size=settings.batch_size,
    )
    metrics.update(stance_metrics(gold, predicted, classifier.labels, include_posts=settings.include_posts))
    return "stance", list(classifier.labels), predicted


def _summary(metrics: dict[str, Any]) -> str:
    scalars = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    width = max((len(k) for k in scalars), default=0)
    return "\n".join(
        f"{key:<{width}}  {value:.4f}" if isinstance(value, float) else f"{key:<{width}}  {value}"
        for key, value in scalars.items()
    )


def main(command: str, overrides: Sequence[str]) -> int:
    """Run ``train`` or ``evaluate`` with Hydra overrides (``-m`` for sweeps).

    Under ``torchrun`` every rank runs ``train`` (data-parallel; rank 0's run
    folder); ``evaluate`` runs on rank 0 only. Hydra's own errors (an unknown key,
    config or group option, an override it cannot parse) become one ``ArgmineError``
    line. A run that fails or is interrupted before it has anything to keep leaves no
    run folder; one with a resumable state keeps it (and, interrupted, says how to resume).
    """
    import hydra
    from hydra.core.hydra_config import HydraConfig

    failures: list[BaseException] = []
    parent = os.getpid()
    rank, world_size = _launch()
    flags = _flags_with_values(overrides)
    rest = [o for o in overrides if o not in flags]
    scratch: str | None = None
    if world_size > 1:
        if {"-m", "--multirun"} & set(flags):
            raise ValueError("a sweep (-m) cannot run under torchrun: launch each run of it on its own")
        if command == "evaluate" and rank != 0:
            return 0  # evaluation is one process's work
        if rank != 0:
            # Hydra names its run folder by the time, which may differ between ranks: these ranks
            # work in rank 0's run folder (see job) and give Hydra a scratch folder, deleted below.
            scratch = tempfile.mkdtemp(prefix=f"argmine-rank{rank}-")
            rest += [f"hydra.run.dir={scratch}", "hydra.output_subdir=null", "hydra.job_logging.root.level=WARNING"]
    group: list[bool] = []  # whether job created the process group

    def job(cfg: DictConfig) -> None:
        run_dir = Path(HydraConfig.get().runtime.output_dir)
        try:
            if rank == 0:
                _lock_run_dir(run_dir)  # a sweep's job folder (a single run's is locked before Hydra writes to it)
            missing = _missing_keys(cfg)  # "???" in conf/: a path only the user knows
            if missing:
                raise ValueError(
                    f"missing setting{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
                    f"give {'each' if len(missing) > 1 else 'it'} on the command line, e.g. {missing[0]}=DIR"
                )
            if command == "train":
                if world_size > 1:
                    from argmine.training.distributed import broadcast_object, pick_device, start_distributed

                    group.append(start_distributed(pick_device(cfg.trainer.device)))
                    run_dir = Path(broadcast_object(str(run_dir)))
                metrics = run_train(cfg, run_dir, command=" ".join(["argmine", command, *overrides]))
            else:
                metrics = run_evaluate(cfg, run_dir)
        except KeyboardInterrupt:
            resumable = rank == 0 and _tidy(run_dir)
            message = "interrupted"
            if resumable:
                message += f"; resumable with: {_resume_command(command, rest, run_dir)}"
            _log_to_files(message)
            raise RunInterrupted(message) from None
        except (ArgmineError, ValueError, OSError) as error:
            # The CLI prints the one line; the log file keeps it where the folder is kept.
            _log_to_files(f"error: {error}")
            if rank == 0:
                _tidy(run_dir)
            if os.getpid() != parent:
                raise  # a launcher's worker process (joblib, submitit): let the sweep see the failure
            failures.append(error)
            return
        if rank == 0:
            print(_summary(metrics))
            print(f"run folder: {run_dir}")

    entry = hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name=command)(job)
    saved, saved_full_error = sys.argv, os.environ.get("HYDRA_FULL_ERROR")
    # hydra.job.name names the log file: train.log / evaluate.log; RunLock locks a run folder
    # before Hydra writes its .hydra/ there. Hydra's parser wants its flags (-m, --cfg job, ...) first.
    sys.argv = [f"argmine {command}", *flags, f"hydra.job.name={command}", *_LOCK_OVERRIDES, *rest]
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises its errors (rather than printing them): see _hydra_error
    try:
        entry()
    except RunInterrupted:
        raise
    except _Refused as refused:
        raise refused.error from None
    except Exception as error:
        translated = _hydra_error(error, command, rest)
        if translated is None:
            raise
        raise translated from None
    finally:
        sys.argv = saved
        if saved_full_error is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved_full_error
        _unlock_all()
        if any(group):
            from argmine.training.distributed import stop_distributed

            stop_distributed()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    if failures:
        raise failures[0]
    return 0


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; ``str()`` is the one line to print (how to resume, when the run can be)."""


# -- Hydra's errors as one line ------------------------------------------------------------------------

GROUPS = ("data", "model", "task", "trainer", "experiment", "debug", "hydra")


def _hydra_error(error: BaseException, command: str, overrides: Sequence[str]) -> ArgmineError | None:
    """One line for an error of Hydra or OmegaConf (None for anything else: a bug keeps its traceback)."""
    from hydra.errors import HydraException, MissingConfigException, OverrideParseException
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(error, MissingConfigException):
        missing = str(error.missing_cfg_file or "")
        group, _, option = missing.rpartition("/")
        if group and option:
            options = sorted(error.options or _options(group))
            advice = did_you_mean(option, options)
            return ArgmineError(f"{group}={option}: no such {group} in {CONF_DIR / group}{advice}")
        return ArgmineError(_first_line(error))
    if isinstance(error, OverrideParseException):
        detail = [line for line in str(error).splitlines() if line.strip() and not line.startswith("See ")]
        override = getattr(error, "override", None) or _first_line(error)
        return ArgmineError(f"cannot parse {override!r}: {detail[0] if detail else 'see the override grammar'}")
    if isinstance(error, (HydraException, OmegaConfBaseException)):
        match = re.search(r"Could not override '([^']+)'", str(error))
        if match:
            return ArgmineError(_unknown_key(match.group(1), command, overrides))
        cause = error.__cause__ if isinstance(error.__cause__, OmegaConfBaseException) else error
        return ArgmineError(_first_line(cause))
    return None


def _unknown_key(key: str, command: str, overrides: Sequence[str]) -> str:
    """``KEY: no such setting`` with the close name or the known ones of its parent (composed without it)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    parent, _, name = key.rpartition(".")
    choices = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") in GROUPS and "." not in o.split("=", 1)[0]]
    known: list[str] = []
    try:
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name=command, overrides=choices)
        node = OmegaConf.select(cfg, parent) if parent else cfg
        known = sorted(str(k) for k in node.keys()) if isinstance(node, DictConfig) else []
    except Exception:  # noqa: BLE001 (the advice is a bonus; the key is named either way)
        pass
    finally:
        GlobalHydra.instance().clear()
    advice = did_you_mean(name, known).replace("did you mean ", f"did you mean {parent}.") if known else ""
    return f"{key}: no such setting{f' in {parent}' if parent else ''}{advice}"


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


# -- run folders: locked while in use, tidied after a failure -----------------------------------------

LOCK_FILE = ".lock"
_LOCK_OVERRIDES = ["++hydra.callbacks.argmine_run_lock._target_=argmine.experiment.RunLock"]
_held: dict[Path, int] = {}  # run folder → the open lock file
_created: dict[Path, Path] = {}  # run folder this process created → the topmost folder it created for it


def _lock_run_dir(run_dir: Path) -> None:
    """Hold ``run_dir/.lock`` (fcntl) for this process: a second run into the folder fails at once, naming the first."""
    import fcntl

    run_dir = run_dir.resolve()
    if run_dir in _held:
        return
    if not run_dir.exists():
        top = run_dir
        while not top.parent.exists():
            top = top.parent
        _created[run_dir] = top
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_FILE
    for _ in range(3):  # the holder may unlink the file between our open and our lock: lock the new one then
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise ArgmineError(
                f"{run_dir}: another run (process {holder}) is using this run folder; "
                "wait for it to end, or give another hydra.run.dir"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            _held[run_dir] = fd
            return
        os.close(fd)
    raise ArgmineError(f"{path}: cannot lock the run folder (its lock file keeps changing)")


def _unlock_all() -> None:
    for run_dir, fd in list(_held.items()):
        try:
            if (run_dir / LOCK_FILE).exists() and os.stat(run_dir / LOCK_FILE).st_ino == os.fstat(fd).st_ino:
                os.unlink(run_dir / LOCK_FILE)  # before closing: no one can hold it meanwhile
        except OSError:
            pass
        os.close(fd)
        del _held[run_dir]


try:
    from hydra.experimental.callback import Callback as _Callback
except ImportError:  # pragma: no cover (Hydra < 1.1)
    _Callback = object  # type: ignore[assignment,misc]


class RunLock(_Callback):  # type: ignore[misc,valid-type]
    """Hydra callback: lock a single run's folder before Hydra writes .hydra/ and the log into it."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        if _is_rank0():
            try:
                _lock_run_dir(Path(str(config.hydra.run.dir)))
            except ArgmineError as error:
                raise _Refused(error) from None  # Hydra turns a callback's Exception into a warning and runs on


class _Refused(BaseException):
    """A run folder held by another run, raised past Hydra's callback wrapper (see RunLock)."""

    def __init__(self, error: ArgmineError) -> None:
        super().__init__(str(error))
        self.error = error


def _tidy(run_dir: Path) -> bool:
    """After a failed run: True if ``run_dir`` holds a resumable state (kept); else remove it if this run made it.

    A run that failed before its first epoch ended has nothing worth keeping: its folder
    held only Hydra's record and the log. One that trained an epoch or more keeps
    ``state/`` and can be continued (trainer.resume=true).
    """
    run_dir = run_dir.resolve()
    state = run_dir / "state"
    if state.is_dir() and any(state.rglob("state.json")):
        return True
    if run_dir in _created and not (run_dir / "metrics.json").exists() and not (run_dir / "checkpoint").exists():
        shutil.rmtree(run_dir, ignore_errors=True)
        folder = run_dir.parent  # runs/<name>/ (and runs/) too, where this run made them and they are empty
        while folder.is_relative_to(_created[run_dir]) and folder != run_dir:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent
    return False


def _resume_command(command: str, overrides: Sequence[str], run_dir: Path) -> str:
    kept = [o for o in overrides if o.split("=", 1)[0].lstrip("+") not in ("hydra.run.dir", "trainer.resume")]
    kept = [o for o in kept if not o.startswith("hydra.job.name=")]
    try:
        shown = run_dir.resolve().relative_to(Path.cwd())
    except ValueError:
        shown = run_dir
    return " ".join(["argmine", command, *kept, f"hydra.run.dir={shown}", "trainer.resume=true"])


def _log_to_files(message: str) -> None:
    """``message`` into the run's log file only (the CLI prints it to the terminal once)."""
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, "%s", (message,), None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def _missing_keys(cfg: DictConfig) -> list[str]:
    """The dotted keys still ``???``, read without resolving interpolations: a path built from a missing
    ``data_root`` names ``data_root`` (what the user must give), not every path that uses it."""

    def walk(node: Any, where: str) -> list[str]:
        if isinstance(node, dict):
            return [k for key, value in node.items() for k in walk(value, f"{where}.{key}" if where else str(key))]
        if isinstance(node, list):
            return [k for i, value in enumerate(node) for k in walk(value, f"{where}[{i}]")]
        return [where] if node == "???" else []

    return sorted(walk(OmegaConf.to_container(cfg, resolve=False), ""))


def _evaluation_dir_name(*, _root_: DictConfig) -> str:
    """``evaluate-<checkpoint>-<data>``: a run folder of ``argmine evaluate`` says what it evaluated.

    A checkpoint inside a run folder (``runs/NAME/TIME/checkpoint``) is named after that run.
    """
    checkpoint = OmegaConf.select(_root_, "checkpoint", default=None, throw_on_missing=False)
    data = OmegaConf.select(_root_, "data.name", default="data", throw_on_missing=False)
    if OmegaConf.select(_root_, "suite", default=None, throw_on_missing=False):
        data = "dev-suite"  # scored on every dev set of the suite, not on data
    parts = ["evaluate"]
    if isinstance(checkpoint, str) and checkpoint not in ("", "???"):
        path = Path(checkpoint.rstrip("/"))
        parts.append(f"{path.parent.parent.name}-{path.parent.name}" if path.name == "checkpoint" else path.name)
    parts.append(str(data))
    return re.sub(r"[^-\w.]+", "_", "-".join(p for p in parts if p))


OmegaConf.register_new_resolver("argmine_evaluation_dir", _evaluation_dir_name, replace=True)


def _launch() -> tuple[int, int]:
    """(RANK, WORLD_SIZE) that torchrun / accelerate launch set; (0, 1) for a process started alone.

    Read from the environment rather than ``argmine.training.Launch``, so that
    ``evaluate`` and the scikit-learn runs import no torch for it.
    """
    try:
        return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise ValueError("RANK and WORLD_SIZE must be integers (set by torchrun)") from None


def _is_rank0() -> bool:
    return _launch()[0] == 0


def _flags_with_values(overrides: Sequence[str]) -> list[str]:
    out = []
    for i, item in enumerate(overrides):
        if item.startswith("-") or (i and overrides[i - 1] in _VALUED_FLAGS):
            out.append(item)
    return out


_VALUED_FLAGS = ("--cfg", "-c", "--package", "-p", "--info", "-i", "--config-name", "-cn", "--config-dir", "-cd")
