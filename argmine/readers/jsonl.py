"""argmine's own format: one thread per line, the JSON form of ``Thread``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from argmine.errors import CorpusFormatError, InvalidThreadError
from argmine.io_utils import atomic_write, unicode_bom
from argmine.json_fields import MAX_NESTING
from argmine.thread import Thread


def read_jsonl(path: str | Path) -> Iterator[Thread]:
    """Stream threads from a JSONL file; blank lines are allowed, nothing else is skipped.

    Keys the data model does not know are kept in each object's ``extra`` (see ``argmine.thread``).
    Raises ``InvalidThreadError`` or ``CorpusFormatError`` with the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusFormatError("no such file" if not path.exists() else "not a file", source=path)
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and unicode_bom(raw):
                raise CorpusFormatError(
                    f"{unicode_bom(raw)} text (it starts with a byte-order mark); argmine JSONL is UTF-8: "
                    f"convert it first, e.g. iconv -f {unicode_bom(raw)} -t UTF-8",
                    source=path, line=number,
                )
            if b"\x00" in raw:
                raise CorpusFormatError(
                    "NUL byte: binary data, or UTF-16/32 without a byte-order mark; expected UTF-8 JSON text",
                    source=path, line=number,
                )
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise CorpusFormatError("not valid UTF-8", source=path, line=number) from None
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as error:
                raise CorpusFormatError(f"malformed JSON: {error.msg} (column {error.colno})", source=path, line=number) from None
            except RecursionError:  # json's C parser recurses once per level of nesting
                raise CorpusFormatError(
                    f"JSON nested too deeply to read (a thread's values may nest at most {MAX_NESTING} levels)",
                    source=path, line=number,
                ) from None
            try:
                yield Thread.from_dict(data)
            except InvalidThreadError as error:
                raise error.located(path, number) from None


def write_jsonl(threads: Iterable[Thread], path: str | Path) -> int:
    """Write threads atomically, one per line; returns how many were written."""
    count = 0
    with atomic_write(path) as handle:
        for thread in threads:
            handle.write(json.dumps(thread.to_dict(), ensure_ascii=False))
            handle.write("\n")
            count += 1
    return count
