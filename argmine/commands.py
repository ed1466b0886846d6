"""Recorded commands as a reader can rerun them: no paths of the machine a run happened on.

A checkpoint records the command that trained it as typed (``argmine.json`` ``training.command``),
e.g. ``argmine train experiment=cmv_stance data.path=/work/shared/data/cmv-modes-v2
hydra.run.dir=/work/main/runs/cmv_stance/seed13``. What the results files and model cards show is
``portable_command`` of it:

* a corpus path (a ``path`` / ``dev_path`` key under ``data``) outside the repository becomes a
  named placeholder, ``data.path=<CMV v2.0>``: the reader has the corpus somewhere else;
* a path inside the repository (or, recorded on another machine, one that runs through a
  top-level folder of it such as ``runs/``) becomes relative to the repository:
  ``hydra.run.dir=runs/cmv_stance/seed13``;
* any other path outside it becomes ``<key>``, e.g. ``model.encoder=<encoder>``.

Values that are not paths, relative paths inside the repository and placeholders stay as they are.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

# Placeholder names, looked up in the key and the path (lower case), first match wins.
CORPUS_NAMES = (
    (("cmv", "change-my-view"), "CMV v2.0"),
    (("rumoureval",), "RumourEval 2019"),
    (("aae", "argumentannotatedessays", "essays"), "AAE2"),
    (("debagreement",), "DEBAGREEMENT"),
    (("lei2022", "subreddit-agreement"), "SubReddit agreement"),
    (("microtext",), "arg-microtexts"),
    (("abstrct",), "AbstRCT"),
    (("web-discourse",), "web discourse"),
)
# Top-level folders of the repository (and Hydra's run folders): a path through one is the repository's.
# Not "argmine": a checkout is often named so.
REPO_FOLDERS = ("runs", "multirun", "outputs", "experiments", "models", "conf", "tests")
_OVERRIDE = re.compile(r"(?P<key>(?<![\w.~+/-])[~+]{0,2}[A-Za-z_][\w.@-]*)=(?P<value>[^\s`|'\"<>]+)")
_CORPUS_KEY = re.compile(r"^[~+]*data(\.[\w@-]+)*\.(path|dev_path)$")


def corpus_placeholder(key: str, value: str) -> str:
    """``<CMV v2.0>`` and the like for a corpus path; ``<corpus folder>`` when the corpus is not known."""
    where = f"{key} {value}".lower()
    for hints, name in CORPUS_NAMES:
        if any(hint in where for hint in hints):
            return f"<{name}>"
    return "<corpus folder>"


def _in_repository(value: str, root: Path) -> str | None:
    """``value`` relative to the repository, or None when it lies outside it."""
    path = PurePosixPath(value)
    if not path.is_absolute():
        return None if ".." in path.parts else value
    try:
        return str(path.relative_to(PurePosixPath(root.as_posix())))
    except ValueError:
        pass
    parts = path.parts
    for i, part in enumerate(parts[1:], start=1):  # recorded on another machine: from its repo's top folder on
        if part in REPO_FOLDERS:
            return str(PurePosixPath(*parts[i:]))
    return None


def portable_command(command: str, root: str | Path | None = None) -> str:
    """``command`` (or any text holding ``key=value`` overrides) without machine paths; see the module docstring.

    ``root`` is the repository the run folders belong to: by default the current folder, where argmine's
    commands are run from.
    """
    base = Path(root if root is not None else Path.cwd()).resolve()

    def rewrite(match: re.Match[str]) -> str:
        key, value = match.group("key"), match.group("value")
        if not value.startswith(("/", "~", "./", "../")):
            return match.group(0)
        inside = None if value.startswith("~") else _in_repository(value, base)
        if inside is not None:
            return f"{key}={inside}"
        if _CORPUS_KEY.match(key):
            return f"{key}={corpus_placeholder(key, value)}"
        return f"{key}=<{key.lstrip('~+').rsplit('.', 1)[-1]}>"

    return _OVERRIDE.sub(rewrite, command)
