"""The exceptions argmine raises on bad input.

Every error says *what* is wrong and *where*: a file, a line and a field when
they are known. The CLI prints ``str(error)`` as one line and exits non-zero;
library callers catch the specific class.
"""

from __future__ import annotations

from pathlib import Path


class ArgmineError(Exception):
    """Base class of every error argmine raises on purpose."""


class InvalidThreadError(ArgmineError, ValueError):
    """A thread breaks the data model: duplicate id, bad offset, dangling link...

    ``field`` is a path into the thread's JSON form, e.g.
    ``comments[2].components[0].end``. ``source`` and ``line`` are filled in by
    the reader that loaded the thread.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        source: str | Path | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.field = field
        self.source = str(source) if source is not None else None
        self.line = line
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.source is not None:
            where = self.source + (f":{self.line}" if self.line is not None else "")
        if self.field:
            where = f"{where}: {self.field}" if where else self.field
        return f"{where}: {self.message}" if where else self.message

    def located(self, source: str | Path, line: int | None = None) -> InvalidThreadError:
        """The same error, placed in a file (and line)."""
        return InvalidThreadError(self.message, field=self.field, source=source, line=line)


class CorpusFormatError(ArgmineError, ValueError):
    """A corpus file cannot be read as its format says (missing part, unlocatable span...)."""

    def __init__(self, message: str, *, source: str | Path | None = None, line: int | None = None) -> None:
        self.message = message
        self.source = str(source) if source is not None else None
        self.line = line
        where = ""
        if self.source is not None:
            where = self.source + (f":{self.line}" if self.line is not None else "")
        super().__init__(f"{where}: {message}" if where else message)


class CheckpointError(ArgmineError, ValueError):
    """A checkpoint folder is incomplete, from another version, or inconsistent."""


class InputError(ArgmineError, ValueError):
    """Bad input that is neither a thread nor a corpus file: an option, a setting, a text handed to the API.

    A ``ValueError`` too, so callers that caught ``ValueError`` before keep working; the CLI catches
    ``ArgmineError`` (and file errors) only, so a ``ValueError`` from inside torch or numpy is a bug that
    shows its traceback instead of passing for bad input.
    """
