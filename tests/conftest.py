"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real corpora beside the checkout (``../shared/data``, or ``$ARGMINE_DATA``).

    Outside CI a missing folder skips the test with the reason; in CI it is a failure,
    because CI always has the corpora beside the clone.
    """
    path = Path(os.environ.get("ARGMINE_DATA", REPO.parent / "shared" / "data"))
    if not path.is_dir():
        message = f"corpora folder {path} is absent (set ARGMINE_DATA or place shared/data beside the checkout)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


# Assertions in the shared helpers explain themselves like those in the tests.
pytest.register_assert_rewrite("tiny_models")


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a module (``pytest.mark.usefixtures("one_torch_thread")``).

    Tiny models gain nothing from threads, and they spin-wait when other processes hold the cores.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def substack_page(shared_data: Path) -> Path:
    """The copied Substack comment page beside the corpora (``../shared/threads``); missing is a failure."""
    path = shared_data.parent / "threads" / "substack-caucasus-comments.txt"
    if not path.is_file():
        pytest.fail(f"{path} is missing beside the corpora")
    return path
