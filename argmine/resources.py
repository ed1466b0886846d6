"""Where argmine's own files are: the Hydra configs (``conf/``) and the shipped models (``models/``).

A source checkout (the README's editable install) has both beside the package. A wheel carries
them inside it, as ``argmine/conf/`` and ``argmine/models/argmine-threads-minilm/`` (pyproject.toml
maps the top-level folders there; only the default model is shipped, to keep the wheel small).
Both are found through ``importlib.resources``, the installed copy first. ``ARGMINE_CONF`` names
another conf folder. ``listing`` is what ``argmine list experiments|data|models`` prints.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from argmine.errors import ArgmineError, InputError
from argmine.io_utils import read_text

DEFAULT_MODEL = "argmine-threads-minilm"  # what `argmine mine` loads without --checkpoint
CONF_ENV = "ARGMINE_CONF"


def _package() -> Path:
    root = files("argmine")
    if not isinstance(root, Path):  # e.g. imported from a zip: Hydra and from_pretrained need real folders
        raise ArgmineError(f"argmine is imported from {root}, not a folder: install it unpacked (pip install)")
    return root


def _find(name: str) -> Path | None:
    """``name`` inside the installed package, else beside it in a source checkout (next to pyproject.toml)."""
    package = _package()
    if (package / name).is_dir():
        return package / name
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / name).is_dir():
        return checkout / name
    return None


def conf_dir() -> Path:
    """The Hydra config folder: ``$ARGMINE_CONF``, else the installed or checkout ``conf/``."""
    if os.environ.get(CONF_ENV):
        return Path(os.environ[CONF_ENV])
    found = _find("conf")
    if found is None:
        raise ArgmineError(
            f"no conf/ folder in {_package()} or beside it: reinstall argmine, or set {CONF_ENV} to a conf folder"
        )
    return found


def models_dir() -> Path | None:
    """The folder of shipped models (installed or checkout ``models/``), None when there is none."""
    return _find("models")


def default_model() -> Path:
    """The pipeline checkpoint ``argmine mine`` uses by default (the path it would have when missing)."""
    return (models_dir() or _package() / "models") / DEFAULT_MODEL


def model_dirs() -> list[Path]:
    """Every shipped checkpoint folder (one with an ``argmine.json``), sorted by name."""
    models = models_dir()
    if models is None:
        return []
    return sorted(p for p in models.iterdir() if (p / "argmine.json").is_file())


LISTS = ("experiments", "data", "models")
_CONF_GROUPS = {"experiments": "experiment", "data": "data"}
_SENTENCE_ENDS = (".", "!", "?")  # a line ending otherwise runs on into the next


def yaml_description(path: Path) -> str:
    """The first comment line of a config file (not Hydra's ``# @package`` line); ``…`` when it runs on."""
    lines = read_text(path).splitlines()
    comments = [i for i, line in enumerate(lines) if line.startswith("#") and not line.startswith("# @package")]
    if not comments:
        return ""
    first = comments[0]
    text = lines[first].lstrip("#").strip()
    runs_on = first + 1 < len(lines) and lines[first + 1].startswith("#") and not text.endswith(_SENTENCE_ENDS)
    text = text.rstrip(":")  # "...: " introduces what the next lines say
    return f"{text} …" if runs_on else text


def card_description(folder: Path) -> str:
    """The first line of a model's card (``README.md``), without the Markdown heading mark."""
    card = folder / "README.md"
    if not card.is_file():
        return "(no model card)"
    first = next((line for line in read_text(card).splitlines() if line.strip()), "")
    return first.lstrip("#").strip()


def listing(what: str) -> list[tuple[str, str]]:
    """``(name, description)`` of each experiment, data config or shipped model, sorted by name."""
    if what == "models":
        return [(folder.name, card_description(folder)) for folder in model_dirs()]
    if what not in _CONF_GROUPS:
        raise InputError(f"argmine list: expected one of {', '.join(LISTS)}, got {what!r}")
    group = conf_dir() / _CONF_GROUPS[what]
    return [(path.stem, yaml_description(path)) for path in sorted(group.glob("*.yaml"))]
