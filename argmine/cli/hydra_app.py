"""The Hydra edge: ``argmine train|evaluate key=value ...`` composes conf/ and runs the job in a run folder.

This and ``argmine.cli.hydra_errors`` are the only modules that import Hydra. Hydra composes
``conf/train.yaml`` or ``conf/evaluate.yaml`` with the overrides, makes the run folder and writes
its record there; the job (``argmine.cli.train`` / ``argmine.cli.evaluate``) turns the config into
typed settings and calls the library (``argmine.jobs``):

    runs/<name>/<time>/
      .hydra/config.yaml   the resolved config (Hydra writes it; ``argmine report`` reads it)
      train.log            the log (``hydra.job.name`` names it)
      checkpoint/          the trained model (train)
      state/               what a resumed run continues from (train)
      metrics.json         the scores (written atomically)

Why ``sys.argv`` is swapped: ``@hydra.main`` is the one public Hydra entry point that makes run
folders, writes ``.hydra/``, sets up the job's logging and runs sweeps (``-m``), and it reads its
arguments from ``sys.argv`` only (Hydra's maintainers point to preprocessing ``sys.argv``,
facebookresearch/hydra#1964 and #2064; the compose API makes no run folder). So ``run`` puts
``argmine <command>`` and the overrides there for the call and restores it after. The overrides
are split from Hydra's flags with Hydra's own argument parser (``get_args_parser``, what
``@hydra.main`` calls), since Hydra wants its flags (``-m``, ``--cfg job``) first.

Under ``torchrun`` / ``accelerate launch`` (WORLD_SIZE > 1) every process runs ``argmine train``:
they agree on rank 0's run folder, train data-parallel (``argmine.training.loop.fit``), and only rank 0
writes the run folder. The other ranks' Hydra output goes to a scratch folder that is deleted at
the end, and they log warnings only.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra._internal.utils import get_args_parser
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from argmine.cli import evaluate as evaluate_job
from argmine.cli import run_folders
from argmine.cli import train as train_job
from argmine.cli.hydra_errors import hydra_error
from argmine.errors import ArgmineError, InputError
from argmine.resources import conf_dir
from argmine.jobs.train import is_rank0, launch

# $ARGMINE_CONF, else conf/ inside the installed wheel or beside the package in a checkout.
CONF_DIR = conf_dir()
# RunLock locks a single run's folder before Hydra writes its .hydra/ there.
_LOCK_OVERRIDES = [f"++hydra.callbacks.argmine_run_lock._target_={__name__}.RunLock"]


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; ``str()`` is the one line to print (how to resume, when the run can be)."""


def main(command: str, argv: Sequence[str]) -> int:
    """Run ``train`` or ``evaluate`` with Hydra overrides and flags (``-m`` for sweeps).

    Under ``torchrun`` every rank runs ``train`` (data-parallel; rank 0's run folder);
    ``evaluate`` runs on rank 0 only. Hydra's own errors (an unknown key, config or group
    option, an override it cannot parse) become one ``ArgmineError`` line. A run that fails or
    is interrupted before it has anything to keep leaves no run folder; one with a resumable
    state keeps it (and, interrupted, says how to resume).
    """
    if argv and argv[0] in ("-h", "--help"):
        print(f"usage: argmine {command} [experiment=NAME] [key=value ...] [-m for a sweep]\n"
              f"Hydra overrides of conf/{command}.yaml; `argmine {command} --cfg job` prints the composed config.")
        return 0
    flags, overrides = _split_flags(command, argv)
    rest = list(overrides)  # what Hydra gets after its flags: the user's overrides and, on ranks > 0, ours
    failures: list[BaseException] = []
    parent = os.getpid()
    rank, world_size = launch()
    scratch: str | None = None
    if world_size > 1:
        if {"-m", "--multirun"} & set(flags):
            raise InputError("a sweep (-m) cannot run under torchrun: launch each run of it on its own")
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
                run_folders.lock_run_dir(run_dir)  # a sweep's job folder (a single run's is locked by RunLock)
            missing = run_folders.missing_keys(cfg)  # "???" in conf/: a path only the user knows
            if missing:
                raise InputError(
                    f"missing setting{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
                    f"give {'each' if len(missing) > 1 else 'it'} on the command line, e.g. {missing[0]}=DIR"
                )
            if command == "train":
                if world_size > 1:
                    from argmine.training.distributed import broadcast_object, pick_device, start_distributed

                    group.append(start_distributed(pick_device(cfg.trainer.device)))
                    run_dir = Path(broadcast_object(str(run_dir)))
                metrics = train_job.run_train(cfg, run_dir, command=" ".join(["argmine", command, *argv]))
            else:
                metrics = evaluate_job.run_evaluate(cfg, run_dir)
        except KeyboardInterrupt:
            resumable = rank == 0 and run_folders.tidy(run_dir)
            message = "interrupted"
            if resumable:
                message += f"; resumable with: {run_folders.resume_command(command, rest, run_dir)}"
            run_folders.log_to_files(message)
            raise RunInterrupted(message) from None
        except (ArgmineError, OSError, OmegaConfBaseException) as error:
            # Bad input, a file error, or a config the job could not read (an interpolation that fails):
            # the CLI prints the one line; the log file keeps it where the folder is kept.
            if isinstance(error, OmegaConfBaseException):
                error = hydra_error(error, CONF_DIR, command, rest) or ArgmineError(str(error))
            run_folders.log_to_files(f"error: {error}")
            if rank == 0:
                run_folders.tidy(run_dir)
            if os.getpid() != parent:
                raise  # a launcher's worker process (joblib, submitit): let the sweep see the failure
            failures.append(error)
            return
        if rank == 0:
            print(_summary(metrics))
            print(f"run folder: {run_dir}")

    entry = hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name=command)(job)
    saved, saved_full_error = sys.argv, os.environ.get("HYDRA_FULL_ERROR")
    # hydra.job.name names the log file: train.log / evaluate.log.
    sys.argv = [f"argmine {command}", *flags, f"hydra.job.name={command}", *_LOCK_OVERRIDES, *rest]
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises its errors (rather than printing them): see hydra_error
    try:
        entry()
    except RunInterrupted:
        raise
    except _Refused as refused:
        raise refused.error from None
    except Exception as error:
        translated = hydra_error(error, CONF_DIR, command, rest)
        if translated is None:
            raise
        raise translated from None
    finally:
        sys.argv = saved
        if saved_full_error is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved_full_error
        run_folders.unlock_all()
        if any(group):
            from argmine.training.distributed import stop_distributed

            stop_distributed()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    if failures:
        raise failures[0]
    return 0


def _split_flags(command: str, argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(Hydra's flags with their values, the overrides), split by Hydra's own parser, each in given order.

    An unknown flag is the usage error Hydra would give (exit 2).
    """
    parser = get_args_parser()
    parser.prog = f"argmine {command}"
    overrides = list(parser.parse_intermixed_args(list(argv)).overrides)
    flags, pending = [], list(overrides)
    for item in argv:
        if pending and item == pending[0]:
            pending.pop(0)
        else:
            flags.append(item)
    return flags, overrides


def _summary(metrics: dict[str, Any]) -> str:
    scalars = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    width = max((len(k) for k in scalars), default=0)
    return "\n".join(
        f"{key:<{width}}  {value:.4f}" if isinstance(value, float) else f"{key:<{width}}  {value}"
        for key, value in scalars.items()
    )


class RunLock(Callback):
    """Hydra callback: lock a single run's folder before Hydra writes .hydra/ and the log into it."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        if is_rank0():
            try:
                run_folders.lock_run_dir(Path(str(config.hydra.run.dir)))
            except ArgmineError as error:
                raise _Refused(error) from None  # Hydra turns a callback's Exception into a warning and runs on


class _Refused(BaseException):
    """A run folder held by another run, raised past Hydra's callback wrapper (see RunLock)."""

    def __init__(self, error: ArgmineError) -> None:
        super().__init__(str(error))
        self.error = error


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


# conf/evaluate.yaml names its run folder with ${argmine_evaluation_dir:}.
OmegaConf.register_new_resolver("argmine_evaluation_dir", _evaluation_dir_name, replace=True)
