"""Opaque cursors over (created_at, id), newest first."""

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from rapport_common.web.problems import Problem

T = TypeVar("T")

LimitQuery = Annotated[int, Query(ge=1, le=100, description="Page size, at most 100")]
CursorQuery = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page")
]


class InvalidCursor(Problem):
    status, slug, title = 400, "invalid-cursor", "Invalid cursor"


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, row_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created_at), uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidCursor("The cursor is not one this API issued; start from page one.") from exc
