"""Numbers typed into the staff pages' URLs and forms, read without ever answering a 500.

`str.isdigit` accepts "²" and digits of any length, which `int()` (or the database, past 64
bits) then refuses with an exception; a page must answer a bad value with its own words.
"""

from __future__ import annotations

from typing import Final

MAX_ID: Final = 2**31 - 1  # the largest id any table hands out (32-bit columns)


def whole_number(text: str, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """`text` as a whole number within [low, high] (ASCII digits, at most 10), else None."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    value = int(text)
    return value if low <= value <= high else None
