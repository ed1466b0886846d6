"""Run folders of ``argmine train|evaluate``: locked while a run uses them, tidied after a failure.

A run holds ``RUN_DIR/.lock`` (fcntl), so a second run into the same folder fails at once, naming
the first. A run that fails or is interrupted before it trained anything leaves no folder behind
(nor the ``runs/NAME/`` folders it made for it); one with a resumable ``state/`` keeps it and says
how to continue. No Hydra here: ``argmine.cli.hydra_app`` calls these at the right moments.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from argmine.errors import ArgmineError

log = logging.getLogger("argmine.cli")

LOCK_FILE = ".lock"
_held: dict[Path, int] = {}  # run folder → the open lock file
_created: dict[Path, Path] = {}  # run folder this process created → the topmost folder it created for it


def lock_run_dir(run_dir: Path) -> None:
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


def unlock_all() -> None:
    """Release (and remove) every lock this process holds."""
    for run_dir, fd in list(_held.items()):
        try:
            if (run_dir / LOCK_FILE).exists() and os.stat(run_dir / LOCK_FILE).st_ino == os.fstat(fd).st_ino:
                os.unlink(run_dir / LOCK_FILE)  # before closing: no one can hold it meanwhile
        except OSError:
            pass
        os.close(fd)
        del _held[run_dir]


def tidy(run_dir: Path) -> bool:
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


def resume_command(command: str, overrides: Sequence[str], run_dir: Path) -> str:
    """The command that continues the run in ``run_dir``: the same overrides, that folder, trainer.resume=true."""
    kept = [o for o in overrides if o.split("=", 1)[0].lstrip("+") not in ("hydra.run.dir", "trainer.resume")]
    kept = [o for o in kept if not o.startswith("hydra.job.name=")]
    try:
        shown = run_dir.resolve().relative_to(Path.cwd())
    except ValueError:
        shown = run_dir
    return " ".join(["argmine", command, *kept, f"hydra.run.dir={shown}", "trainer.resume=true"])


def log_to_files(message: str) -> None:
    """``message`` into the run's log file only (the CLI prints it to the terminal once)."""
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, "%s", (message,), None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def missing_keys(cfg: Any) -> list[str]:
    """The dotted keys still ``???``, read without resolving interpolations: a path built from a missing
    ``data_root`` names ``data_root`` (what the user must give), not every path that uses it."""

    def walk(node: Any, where: str) -> list[str]:
        if isinstance(node, dict):
            return [k for key, value in node.items() for k in walk(value, f"{where}.{key}" if where else str(key))]
        if isinstance(node, list):
            return [k for i, value in enumerate(node) for k in walk(value, f"{where}[{i}]")]
        return [where] if node == "???" else []

    return sorted(walk(OmegaConf.to_container(cfg, resolve=False), ""))
