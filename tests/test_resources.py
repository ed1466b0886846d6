"""conf/ and the default model are found in a source checkout and in an installed wheel (argmine.resources)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
from setuptools import find_packages

from argmine import resources
from argmine.errors import ArgmineError

REPO = Path(__file__).resolve().parent.parent
THREADS = REPO / "experiments" / "threads"


def test_checkout_finds_conf_and_models_beside_the_package(monkeypatch) -> None:
    monkeypatch.delenv(resources.CONF_ENV, raising=False)
    assert resources.conf_dir() == REPO / "conf"
    assert resources.default_model() == REPO / "models" / "argmine-threads-minilm"
    assert REPO / "models" / "argmine-threads-minilm" in resources.model_dirs()
    monkeypatch.setenv(resources.CONF_ENV, "/elsewhere/conf")
    assert resources.conf_dir() == Path("/elsewhere/conf")


def test_installed_copy_inside_the_package_comes_first(tmp_path, monkeypatch) -> None:
    package = tmp_path / "site-packages" / "argmine"
    (package / "conf").mkdir(parents=True)
    (package / "models" / "argmine-threads-minilm").mkdir(parents=True)
    monkeypatch.setattr(resources, "files", lambda name: package)
    monkeypatch.delenv(resources.CONF_ENV, raising=False)
    assert resources.conf_dir() == package / "conf"
    assert resources.default_model() == package / "models" / "argmine-threads-minilm"
    shutil.rmtree(package / "conf")  # site-packages/ holds no pyproject.toml: no guessing beside the package
    with pytest.raises(ArgmineError, match="no conf/ folder .* set ARGMINE_CONF"):
        resources.conf_dir()


def test_pyproject_lists_every_package_of_the_source_tree() -> None:
    """The packages are listed by hand (the mapped conf/ and models/ defeat find): a new one must be added."""
    listed = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    found = find_packages(str(REPO), include=["argmine", "argmine.*"])
    assert sorted(p for p in listed if p not in ("argmine.conf", "argmine.models")) == sorted(found)


def build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of the checkout (no build/ or egg-info left in the shared tree), offline."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("argmine", "conf", "models"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", str(dist), str(src)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (wheel,) = dist.glob("argmine-*.whl")
    return wheel


def test_wheel_carries_conf_and_the_default_model(tmp_path) -> None:
    with zipfile.ZipFile(build_wheel(tmp_path)) as wheel:
        names = set(wheel.namelist())
    conf = {f"argmine/conf/{p.relative_to(REPO / 'conf').as_posix()}" for p in (REPO / "conf").rglob("*.yaml")}
    model = REPO / "models" / "argmine-threads-minilm"
    weights = {f"argmine/models/{p.relative_to(REPO / 'models').as_posix()}" for p in model.rglob("*") if p.is_file()}
    assert conf and conf <= names
    assert weights and weights <= names
    assert not [n for n in names if "aae2-components" in n or "rumoureval2019-stance" in n]  # only the default


@pytest.mark.integration
def test_installed_wheel_mines_and_trains_from_another_folder(tmp_path) -> None:
    """pip install of the wheel (not editable) into a fresh venv; both commands run outside the checkout.

    Offline and without touching torch: the venv sees this environment's packages through a .pth file
    (so its torch 2.13.0 CPU), and pip installs the wheel alone (--no-deps --no-index).
    """
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(purelib, "outer-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
         str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in (resources.CONF_ENV, "PYTHONPATH")}
    env["HF_HUB_OFFLINE"] = "1"

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    where = run(str(python), "-c", "import argmine, argmine.resources as r, torch; "
                "print(argmine.__file__, r.conf_dir(), r.default_model(), torch.__version__)").split()  # fmt: skip
    assert all(Path(p).is_relative_to(venv) for p in where[:3]), where
    assert where[3] == "2.13.0+cpu"

    argmine = str(venv / "bin" / "argmine")
    assert run(argmine, "list", "models").splitlines()[0] == "argmine-threads-minilm  argmine thread miner"
    assert "threads_default" in run(argmine, "list", "experiments")
    out = run(argmine, "mine", str(THREADS / "market-comments.txt"), "--post", str(THREADS / "market-post.txt"),
              "--to", "jsonl")  # fmt: skip
    mined = json.loads(out.splitlines()[0])
    assert len(mined["comments"]) == 6 and mined["post"]["components"]

    run(argmine, "train", "experiment=cmv_stance_sklearn", "debug=smoke", "data=own_threads",
        f"data.path={THREADS / 'own-threads.jsonl'}")  # fmt: skip
    (checkpoint,) = (work / "runs" / "cmv_stance_sklearn").glob("*/checkpoint")
    assert (checkpoint / "argmine.json").is_file()
