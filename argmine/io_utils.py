"""Small file helpers shared by readers, writers and checkpoints."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from argmine.errors import CorpusFormatError


@contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    A crash or an exception leaves the old file (or no file), never half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | Path, data: Any) -> None:
    """Pretty JSON, written atomically."""
    with atomic_write(path) as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


def read_text(path: str | Path) -> str:
    """A UTF-8 text file, or a ``CorpusFormatError`` that says which file and why."""
    path = Path(path)
    if not path.exists():
        raise CorpusFormatError("no such file", source=path)
    if not path.is_file():
        raise CorpusFormatError("not a file", source=path)
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise CorpusFormatError("looks like a binary file (NUL bytes), expected UTF-8 text", source=path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CorpusFormatError(
            f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "convert the file to UTF-8 first",
            source=path,
            line=line,
        ) from None
