"""Opaque cursors over (created_at, id), newest first."""

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from rapport_common.web.problems import Problem

T = TypeVar("T")
Row = TypeVar("Row")

LimitQuery = Annotated[int, Query(ge=1, le=100, description="Page size, at most 100")]
CursorQuery = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page")
]


class InvalidCursor(Problem):
    status, slug, title = 400, "invalid-cursor", "Invalid cursor"


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(sort_key: datetime | str, row_id: uuid.UUID) -> str:
    key = sort_key.isoformat() if isinstance(sort_key, datetime) else sort_key
    raw = json.dumps([key, str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, uuid.UUID]:
    """The sort key (as text) and the id of the last row of the previous page."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_key, row_id = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(sort_key, str):
            raise TypeError("sort key")
        return sort_key, uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidCursor("The cursor is not one this API issued; start from page one.") from exc


def decode_time_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    sort_key, row_id = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(sort_key), row_id
    except ValueError as exc:
        raise InvalidCursor("The cursor is not one this API issued; start from page one.") from exc


def newest_first(
    query: Select[Row],
    created_at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> Select[Row]:
    """A keyset page, newest first, with one extra row to tell whether more follow.

    ``after`` is the (created_at, id) of the previous page's last row; the row-value
    comparison lets PostgreSQL walk the (…, created_at) index straight to the page."""
    if after is not None:
        query = query.where(tuple_(created_at, row_id) < tuple_(*after))
    return query.order_by(created_at.desc(), row_id.desc()).limit(limit + 1)
