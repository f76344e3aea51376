from datetime import datetime
from typing import Any

from sqlalchemy import String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base


class IdempotencyKey(Base):
    """The first response to a creating POST, replayed for a retry with the same key."""

    __tablename__ = "idempotency_keys"

    # The member's id, or "anonymous" for sign-up.
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
