"""Small file helpers shared by readers, writers and checkpoints."""

from __future__ import annotations

import codecs
import errno
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from argmine.errors import ArgmineError, CorpusFormatError

log = logging.getLogger(__name__)

# Errors of a write that carry no file name: they are the output's, so they are reported with its path.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}


@contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    A crash or an exception leaves the old file (or no file), never half a file.
    A path that is not a regular file (``-`` for stdout, ``/dev/stdout``, ``/dev/null``,
    a FIFO) is opened and written, never replaced: replacing would turn the device into
    a file. A symlink to a file keeps pointing there: its target is replaced.
    The temporary file is named ``.NAME.PID.XXXXXXXX.tmp``; ones left by processes that
    are gone (kill -9) are removed on the next write of ``path``.
    """
    if str(path) == "-":
        yield from _stdout(mode)
        return
    path = Path(path)
    if _is_special(path):
        if path.is_dir():
            raise ArgmineError(f"{path}: is a folder, expected a file to write")
        with _naming(path), open(path, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
        return
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    with _naming(path, target.name):
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600 files; give the usual permissions
    try:
        with _naming(path, target.name), os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        with _naming(path, target.name):
            os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stdout(mode: str) -> Iterator[IO[Any]]:
    stream: IO[Any] = sys.stdout.buffer if "b" in mode else sys.stdout
    yield stream
    stream.flush()  # never closed: stdout is the caller's


def _is_special(path: Path) -> bool:
    """True for a path to write by opening: it exists and is not a regular file, or it is a device alias.

    ``/dev/stdout`` is a link to ``/proc/self/fd/1``, which may be a regular file (``> out``);
    it must still be written through the descriptor, not replaced.
    """
    if str(path).startswith(("/dev/", "/proc/")) or os.path.realpath(path).startswith(("/dev/", "/proc/")):
        return True
    return path.exists() and not path.is_file()


@contextmanager
def _naming(path: Path, temporary_of: str | None = None) -> Iterator[None]:
    """Re-raise an ``OSError`` about our temporary file (or a write error naming no file) as one about ``path``."""
    try:
        yield
    except OSError as error:
        name = os.path.basename(error.filename) if isinstance(error.filename, str) else None
        ours = name is not None and name.startswith(f".{temporary_of or path.name}.") and name.endswith(".tmp")
        if ours or (error.filename is None and error.errno in _WRITE_ERRNOS):
            raise OSError(error.errno, error.strerror or str(error), str(path)) from error
        raise


def _remove_stale_temporaries(path: Path) -> None:
    """Delete ``.NAME.PID.*.tmp`` beside ``path`` whose process no longer runs (killed mid-write)."""
    prefix = f".{path.name}."
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid = name[len(prefix) :].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:
            os.unlink(path.parent / name)
            log.info("removed %s, left by process %s that is gone", path.parent / name, pid)
        except OSError:
            pass  # another writer removed it first, or it is not ours to remove


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def umask() -> int:
    """The process's file-creation mask, read without changing it: files made private by mkstemp/mkdtemp get it."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | Path, data: Any) -> None:
    """Pretty JSON, written atomically; NaN or infinity is a ``ValueError`` (it is not JSON)."""
    with atomic_write(path) as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2, allow_nan=False)
        handle.write("\n")


# Byte-order marks of the encodings a Windows editor saves as "Unicode"; UTF-32 first (it starts like UTF-16 LE).
BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def unicode_bom(data: bytes) -> str | None:
    """``"UTF-16"`` or ``"UTF-32"`` when ``data`` starts with that encoding's byte-order mark, else None."""
    return next((name for bom, name in BOMS if data.startswith(bom)), None)


def read_text(path: str | Path) -> str:
    """A UTF-8 text file (or UTF-16/32 with a byte-order mark), or a ``CorpusFormatError`` that says which and why."""
    path = Path(path)
    if not path.exists():
        raise CorpusFormatError("no such file", source=path)
    if not path.is_file():
        raise CorpusFormatError("not a file", source=path)
    data = path.read_bytes()
    encoding = unicode_bom(data)
    if encoding is not None:  # the mark says how to read it: decode it, the mark goes
        try:
            return data.decode(encoding.lower())
        except UnicodeDecodeError as error:
            raise CorpusFormatError(
                f"starts with a {encoding} byte-order mark but is not valid {encoding} (offset {error.start}); "
                "convert the file to UTF-8 first",
                source=path,
            ) from None
    if b"\x00" in data[:8192]:
        raise CorpusFormatError(
            "looks like a binary file (NUL bytes), or UTF-16/32 without a byte-order mark; expected UTF-8 text",
            source=path,
        )
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
