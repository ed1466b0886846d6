"""CSV files of (target, reply, agreement label) rows: what DEBAGREEMENT and Lei et al. (2022) share.

    bytes ──decode_csv──► text + the encoding it was read with (and why)
          ──read_csv_rows──► Row(line, {column: value}) ──Row.text / Row.label──► checked values,
          or one CorpusFormatError naming file:line, row and field

Encoding: a file is read as UTF-8 when it is valid UTF-8 (a BOM is allowed), else as Windows-1252
when every byte is defined there and no UTF-8 multi-byte sequence hides among them (that would be
a file mixing two encodings); anything else is an error at the first bad byte's line and field.
A closed list decided by strict decoding, not a statistical guess: charset-normalizer 3.4.7 calls
Lei et al.'s SubReddit-MaskMandate.csv cp775 (every ’ would read Æ) and SubReddit-CovidVaccine.csv
cp1250 (£ would read Ł). The choice is logged, kept in each thread's ``meta["encodings"]`` and
printed by ``argmine stats``.

A reader of these files reads and checks every file before it returns the first thread, so bad
input fails at once: a ``CorpusFormatError`` naming file, line, row and field.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from argmine.errors import CorpusFormatError

log = logging.getLogger(__name__)

# Both releases code the label the same way (DEBAGREEMENT's and Lei et al.'s READMEs; Lei's per-class
# counts match its README table under this reading).
LABEL_CODES = {"0": "disagree", "1": "neutral", "2": "agree"}
# What Reddit leaves of a deleted or removed comment: kept (the label is real), flagged meta["deleted"].
DELETED = frozenset({"[deleted]", "[removed]"})

_CP1252_UNDEFINED = re.compile("[\x81\x8d\x8f\x90\x9d]")
# A well-formed UTF-8 multi-byte sequence, matched on the Latin-1 view (one character per byte).
_UTF8_SEQUENCE = re.compile(
    "[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    "|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
# What ends a line for the csv module (str.splitlines would also split at 0x85, cp1252's ellipsis).
_LINE_BREAK = re.compile("\r\n|\r|\n")
csv.field_size_limit(1 << 24)  # a long submission text is still one field


@dataclass(frozen=True)
class Decoded:
    """A CSV file's text, the codec it was decoded with (Python's name) and why that one."""

    text: str
    encoding: str
    reason: str

    @property
    def report(self) -> str:
        return f"{self.encoding} ({self.reason})"


def decode_csv(path: Path) -> Decoded:
    """The file's text as UTF-8 or Windows-1252 (see the module docstring); ``CorpusFormatError`` otherwise."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CorpusFormatError("no such file", source=path) from None
    if b"\x00" in raw:
        line = _line_of(raw.decode("latin-1"), raw.index(b"\x00"))
        raise CorpusFormatError("looks like a binary file (NUL bytes), expected CSV text", source=path, line=line)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw, bom = raw[3:], True
    else:
        bom = False
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        first_bad = error.start
    else:
        return Decoded(text, "utf-8-sig" if bom else "utf-8", "valid UTF-8" + (" with a BOM" if bom else ""))
    latin = raw.decode("latin-1")  # one character per byte: the CSV structure stays that of the bytes
    bad_byte = f"0x{raw[first_bad]:02x}"
    if bom:
        _fail_at(path, latin, _not_utf8, "not valid UTF-8 after a UTF-8 BOM: byte {byte}")
    if _CP1252_UNDEFINED.search(latin):
        _fail_at(path, latin, _pattern(_CP1252_UNDEFINED), "neither UTF-8 nor Windows-1252: byte {byte} is in neither")
    if _UTF8_SEQUENCE.search(latin):
        message = f"mixes encodings: UTF-8 sequence {{byte}} here, but byte {bad_byte} elsewhere is not UTF-8"
        _fail_at(path, latin, _pattern(_UTF8_SEQUENCE), message)
    line = _line_of(latin, first_bad)
    return Decoded(raw.decode("cp1252"), "cp1252", f"not UTF-8 (byte {bad_byte}, line {line}); valid Windows-1252")


def _line_of(text: str, offset: int) -> int:
    return len(_LINE_BREAK.findall(text, 0, offset)) + 1


def _shown(chars: str) -> str:
    return " ".join(f"0x{ord(c):02x}" for c in chars)


def _pattern(pattern: re.Pattern[str]) -> Callable[[str], str | None]:
    def find(value: str) -> str | None:
        match = pattern.search(value)
        return _shown(match.group()) if match else None

    return find


def _not_utf8(value: str) -> str | None:
    try:
        value.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError as error:
        return _shown(value[error.start])
    return None


def _fail_at(path: Path, latin: str, find: Callable[[str], str | None], message: str) -> None:
    """Raise ``message`` at the row and field of the first value (Latin-1 view) where ``find`` finds bad bytes."""
    header: list[str] = []
    for number, (line, values) in enumerate(_rows(path, latin)):
        for index, value in enumerate(values):
            shown = find(value)
            if shown:
                where = f"row {number}, field {_name(header, index)!r}" if number else "header"
                raise CorpusFormatError(f"{where}: {message.format(byte=shown)}", source=path, line=line)
        header = header or [name.strip() for name in values]
    # Outside every field (a stray byte after a closing quote): the physical line is all we know.
    line = next((i for i, text in enumerate(_LINE_BREAK.split(latin), start=1) if find(text)), None)
    raise CorpusFormatError(message.format(byte="?"), source=path, line=line)


def _name(header: Sequence[str], index: int) -> str:
    return header[index] if index < len(header) else f"column {index + 1}"


def _rows(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank CSV record with the physical line it starts on (\\r, \\n and \\r\\n all end a line)."""
    reader = csv.reader(io.StringIO(text, newline=""))  # newline="": line breaks inside quotes stay in the field
    start = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise CorpusFormatError(f"malformed CSV: {error}", source=path, line=start) from None
        if values:  # a blank line is no record
            yield start, values
        start = reader.line_num + 1


@dataclass(frozen=True)
class Row:
    """One data row: its file, the line it starts on, its values by column."""

    path: Path
    line: int
    number: int  # 1 for the first data row
    values: dict[str, str]

    def fail(self, field: str, message: str) -> CorpusFormatError:
        return CorpusFormatError(f"row {self.number}, field {field!r}: {message}", source=self.path, line=self.line)

    def text(self, field: str, *, required: bool = True) -> str:
        """The field's text, unchanged; an empty (or all-blank) one is an error when ``required``."""
        value = self.values.get(field, "")
        if required and not value.strip():
            raise self.fail(field, "is empty")
        return value

    def label(self, field: str) -> str:
        """The agreement label of a 0 / 1 / 2 code (surrounding blanks allowed)."""
        code = self.values[field].strip()
        if code not in LABEL_CODES:
            known = ", ".join(f"{c} ({name})" for c, name in LABEL_CODES.items())
            raise self.fail(field, f"{self.values[field]!r} is not one of {known}")
        return LABEL_CODES[code]

    def optional(self, field: str) -> str | None:
        value = self.values.get(field)
        return value if value not in (None, "") else None


def read_csv_rows(path: Path, required: Sequence[str]) -> tuple[Decoded, list[Row]]:
    """The decoded file and its data rows; the header must name every ``required`` column, once."""
    decoded = decode_csv(path)
    rows = _rows(path, decoded.text)
    first = next(rows, None)
    if first is None:
        raise CorpusFormatError("empty file: expected a header line and rows", source=path)
    header_line, header = first
    header = [name.strip() for name in header]
    missing = [name for name in required if name not in header]
    if missing:
        found = ", ".join(header)
        raise CorpusFormatError(
            f"header: no column {', '.join(map(repr, missing))} (found {found})", source=path, line=header_line
        )
    twice = sorted({name for name in required if header.count(name) > 1})
    if twice:
        message = f"header: column {', '.join(map(repr, twice))} appears twice"
        raise CorpusFormatError(message, source=path, line=header_line)
    out = []
    for number, (line, values) in enumerate(rows, start=1):
        if len(values) != len(header):
            raise CorpusFormatError(
                f"row {number}: {len(values)} fields, but the header has {len(header)} (an unquoted comma or quote?)",
                source=path,
                line=line,
            )
        out.append(Row(path, line, number, dict(zip(header, values))))
    log.info("%s: %d rows, read as %s", path, len(out), decoded.report)
    return decoded, out


def csv_files(path: str | Path, pick: Callable[[Path], bool], expected: str) -> list[Path]:
    """``path`` itself when it is a file, else the files in the folder that ``pick`` accepts (sorted)."""
    root = Path(path)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise CorpusFormatError("no such file or folder", source=root)
    files = sorted(p for p in root.iterdir() if p.is_file() and pick(p))
    if not files:
        raise CorpusFormatError(f"no {expected} in this folder", source=root)
    return files


def deleted_flag(text: str) -> dict[str, bool]:
    """``{"deleted": True}`` for what Reddit leaves of a deleted or removed text, else ``{}`` (for ``meta``)."""
    return {"deleted": True} if text.strip() in DELETED else {}

