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
