"""Pages of a list: opaque cursors, keyset queries and the page a client sees.

A list fetches one row more than it shows (``limit + 1``), so one query both fills the
page and tells whether another follows; the cursor names the last row shown."""

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar, TypeVarTuple

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from rapport_common.web.inputs import in_calendar
from rapport_common.web.problems import Problem

T = TypeVar("T")
Row = TypeVar("Row")
K = TypeVar("K", bound=tuple[Any, ...])
Columns = TypeVarTuple("Columns")
CursorKey = tuple[datetime | str, uuid.UUID]

# Every list: the same page size unless asked, and the same most.
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
LimitQuery = Annotated[
    int,
    Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}"),
]
CursorQuery = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page")
]


class InvalidCursor(Problem):
    status, slug, title = 400, "invalid-cursor", "Invalid cursor"


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Window(Generic[Row]):
    """The rows one page shows, and the cursor to the next page (None on the last)."""

    rows: list[Row]
    next_cursor: str | None

    def page(self, items: list[T]) -> Page[T]:
        return Page(items=items, next_cursor=self.next_cursor)


def window(rows: Sequence[Row], limit: int, key: Callable[[Row], CursorKey]) -> Window[Row]:
    """The page in ``rows`` (fetched with ``limit + 1``); ``key`` gives a row's sort key
    and id, in the order the query sorted by."""
    shown = list(rows[:limit])
    more = len(rows) > limit
    return Window(shown, _encode_cursor(*key(shown[-1])) if more else None)


def ranked(
    rows: Sequence[Row],
    limit: int,
    after: K | None,
    key: Callable[[Row], K],
    cursor_of: Callable[[Row], tuple[str, uuid.UUID]],
) -> Window[Row]:
    """The page of a list ranked in memory (the graph's answers, rechecked here): the
    rows after ``after`` in ``key`` order. ``cursor_of`` writes a row's cursor from what
    the row shows, so a cursor never carries more than the page it ends."""
    following = sorted(
        (row for row in rows if after is None or key(row) > after),
        key=key,
    )
    shown = following[:limit]
    more = len(following) > limit
    return Window(shown, _encode_cursor(*cursor_of(shown[-1])) if more else None)


def _encode_cursor(sort_key: datetime | str, row_id: uuid.UUID) -> str:
    key = sort_key.isoformat() if isinstance(sort_key, datetime) else sort_key
    raw = json.dumps([key, str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid_cursor() -> InvalidCursor:
    return InvalidCursor("The cursor is not one this API issued; start from page one.")


def _decode_cursor(cursor: str) -> tuple[str, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_key, row_id = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(sort_key, str):
            raise TypeError("sort key")
        # Text PostgreSQL cannot take (NUL, lone surrogates) was never a key of ours.
        sort_key.encode()
        if "\x00" in sort_key:
            raise ValueError("NUL in the sort key")
        return sort_key, uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise _invalid_cursor() from exc


def after_name(cursor: str | None) -> tuple[str, uuid.UUID] | None:
    """The (name, id) of the previous page's last row; None on page one."""
    return None if cursor is None else _decode_cursor(cursor)


def after_key(cursor: str | None, parse: Callable[[str, uuid.UUID], T]) -> T | None:
    """The previous page's last row, as ``parse`` reads its (sort key, id) back; a key
    ``parse`` refuses (``ValueError``, ``KeyError``) is an invalid cursor."""
    if cursor is None:
        return None
    sort_key, row_id = _decode_cursor(cursor)
    try:
        return parse(sort_key, row_id)
    except (ValueError, KeyError) as exc:
        raise _invalid_cursor() from exc


def after_time(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (time, id) of the previous page's last row; None on page one."""
    if cursor is None:
        return None
    sort_key, row_id = _decode_cursor(cursor)
    try:
        moment = datetime.fromisoformat(sort_key)
    except ValueError as exc:
        raise _invalid_cursor() from exc
    # Ours carry a time zone and a date that stays one in UTC.
    if moment.tzinfo is None or not in_calendar(moment):
        raise _invalid_cursor()
    return moment, row_id


def newest_first(
    query: Select[*Columns],
    time: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> Select[*Columns]:
    """A keyset page, newest first, with the extra row.

    ``after`` is the (time, id) of the previous page's last row; the row-value
    comparison lets PostgreSQL walk the (…, time) index straight to the page."""
    if after is not None:
        query = query.where(tuple_(time, row_id) < tuple_(*after))
    return query.order_by(time.desc(), row_id.desc()).limit(limit + 1)


def by_name(
    query: Select[*Columns],
    name: InstrumentedAttribute[str],
    row_id: InstrumentedAttribute[uuid.UUID],
    limit: int,
    after: tuple[str, uuid.UUID] | None,
) -> Select[*Columns]:
    """A keyset page in name order (ties by id), with the extra row."""
    if after is not None:
        query = query.where(tuple_(name, row_id) > tuple_(*after))
    return query.order_by(name, row_id).limit(limit + 1)
