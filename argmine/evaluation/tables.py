"""Markdown table cells and numbers as the evaluation report and the runs summary write them."""

from __future__ import annotations

from typing import Any


def md_cell(value: Any) -> str:
    """A value safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


_COUNTS = ("/n", "/support", "/missing", "/gold", "/predicted", "threads", "/best_epoch", "/steps")


def number(value: Any, key: str = "") -> str:
    """Counts as integers, scores with four decimals, anything else as text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return md_cell(value)
    if isinstance(value, int) or (key.endswith(_COUNTS) and float(value).is_integer()):
        return str(int(value))
    return f"{value:.4f}"
