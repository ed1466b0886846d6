"""Field-level rules of argmine's JSON form, shared by building a thread and by reading one.

A value kept in a thread (a text, an id, ``meta``, an unknown field in ``extra``) must survive
being written as JSON and read back: no lone surrogate, no nesting deeper than ``MAX_NESTING``,
no NaN or infinity, no extra key that shadows a field (``check_value``, ``check_extra``,
``check_score``). Reading the JSON form takes typed fields (``require``, ``optional_*``) and keeps
unknown keys (``extra_of``, put back by ``with_extra``). Every failure is an ``InvalidThreadError``
naming the field's path, e.g. ``comments[2].meta.note``.

``argmine.thread`` builds the data model on these; this module knows no dataclass of it, so the
two import in one direction only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from argmine.errors import InvalidThreadError

# Deeper values could be read by json but not always written back (recursion limits): refused with their path.
MAX_NESTING = 100
_SURROGATE = re.compile("[\ud800-\udfff]")


def with_extra(out: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``out`` (an object's JSON form) with its unknown fields put back."""
    out.update(extra)  # validation guarantees no extra key shadows a field
    return out


def extra_of(data: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """The keys of a JSON object that its dataclass does not know, kept for writing back."""
    return {key: value for key, value in data.items() if key not in known}


def check_extra(extra: Any, known: frozenset[str], where: str) -> None:
    """Unknown fields: a mapping whose keys are not the object's own fields (they would collide in JSON)."""
    prefix = f"{where}." if where else ""
    if not isinstance(extra, Mapping):
        raise InvalidThreadError(f"extra must be a mapping, got {type(extra).__name__}", field=f"{prefix}extra")
    for key, value in extra.items():
        if not isinstance(key, str) or key in known:
            raise InvalidThreadError(f"{key!r} cannot be an extra field (it is not a new string key)",
                                     field=f"{prefix}extra")
        check_value(key, f"{prefix}{key} (the key)")
        check_value(value, f"{prefix}{key}")


def check_value(value: Any, where: str) -> None:
    """No lone surrogate in any string of ``value`` (keys too), nor nesting beyond ``MAX_NESTING``.

    Iterative, so a deep value gets an error naming its path, never a ``RecursionError``.
    """
    if isinstance(value, str) and (value.isascii() or not _SURROGATE.search(value)):
        return  # the common case, without building a stack
    if not value:
        return
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                bad = _SURROGATE.search(item)
                if bad:
                    raise InvalidThreadError(
                        f"contains a lone surrogate (U+{ord(bad.group()):04X} at character {bad.start()}), "
                        "which is not Unicode text; fix the escape in the input",
                        field=path,
                    )
            continue
        if isinstance(item, (Mapping, list, tuple)):
            if depth >= MAX_NESTING:
                raise InvalidThreadError(f"is nested more than {MAX_NESTING} levels deep", field=path)
            pairs = item.items() if isinstance(item, Mapping) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str):
                    stack.append((key, f"{path}.{key} (the key)", depth + 1))
                child_path = f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]"
                if len(child_path) > 80:  # a deep path is shown by its start
                    child_path = path if path.endswith("...") else path + "..."
                stack.append((child, child_path, depth + 1))


def is_plain(strings: tuple[Any, ...], *mappings: Any) -> bool:
    """Fast path: strings (or None) without surrogates and empty meta/extra; anything else is checked field by field.

    (Formatting a path for every field of a 50,000-comment thread would cost more than the checks.)
    """
    for value in strings:
        if value is not None and not (isinstance(value, str) and (value.isascii() or not _SURROGATE.search(value))):
            return False
    return not any(mappings)


def require(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], prefix: str) -> Any:
    """``data[key]``, which must be there and be a ``kind``."""
    where = f"{prefix}.{key}" if prefix else key
    if key not in data:
        raise InvalidThreadError("is missing", field=where)
    value = data[key]
    if not isinstance(value, kind):
        expected = getattr(kind, "__name__", str(kind))
        raise InvalidThreadError(f"expected {expected}, got {type(value).__name__}", field=where)
    return value


def require_list(data: Mapping[str, Any], key: str, prefix: str) -> list[Any]:
    """``data[key]``, which must be a list."""
    return require(data, key, list, prefix)


def optional_list(data: Mapping[str, Any], key: str, prefix: str) -> list[Any]:
    """``data[key]`` as a list; missing or null is empty."""
    if data.get(key) is None:
        return []
    return require(data, key, list, prefix)


def optional_float(value: Any, where: str) -> float | None:
    """A finite number or null, as a float or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidThreadError(f"expected a number or null, got {value!r}", field=where)
    check_score(value, where)
    return float(value)


def check_score(score: Any, where: str) -> None:
    """A score must be finite or None: NaN and infinity are not JSON, so other tools could not read the file."""
    if isinstance(score, float) and not math.isfinite(score):
        raise InvalidThreadError(f"expected a finite number or null, got {score!r}", field=where)


def optional_str(data: Mapping[str, Any], key: str, prefix: str) -> str | None:
    """``data[key]``: a string or null (missing counts as null)."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidThreadError(f"expected a string or null, got {type(value).__name__}", field=f"{prefix}.{key}")
    return value
