"""Keyset paging shared by the API's lists and the staff pages' logs: one cursor format.

The cursor is opaque to callers (base64 of `{"after": id}`); the API pages oldest first, the
staff logs newest first, so for those "after" means "after in the order shown" (a smaller
id). Moved here from the API's schemas so that the web pages page the same way without
importing the API.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from typing import Any, Final, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ringfence.services.errors import InvalidField

RowT = TypeVar("RowT")

_CURSOR_RE: Final = re.compile(r"^[A-Za-z0-9_-]+=*$")


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The id after which the next page starts; ValueError for anything not made by us."""
    if not _CURSOR_RE.match(cursor):
        raise ValueError("malformed cursor")
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValueError("malformed cursor") from exc
    after = data.get("after") if isinstance(data, dict) else None
    if not isinstance(after, int) or after < 0:
        raise ValueError("malformed cursor")
    return after


def newest_first_page(
    session: Session,
    row_type: type[RowT],
    *,
    clauses: Sequence[ColumnElement[bool]],
    cursor: str | None,
    limit: int,
) -> tuple[list[RowT], str | None]:
    """One page of `row_type` rows matching `clauses` (the account's among them), newest
    (highest id) first, and the cursor of the next, older page (None at the end).
    InvalidField("cursor") for a cursor we did not make."""
    id_col: Any = getattr(row_type, "id")  # noqa: B009 - generic over mapped classes
    stmt = select(row_type).where(*clauses)
    if cursor is not None:
        try:
            stmt = stmt.where(id_col < decode_cursor(cursor))
        except ValueError as exc:
            raise InvalidField("cursor", str(exc)) from exc
    rows = list(session.scalars(stmt.order_by(id_col.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(getattr(rows[-1], "id"))  # noqa: B009
    return rows, next_cursor
