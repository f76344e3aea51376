import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base


class LinkingPolicy(Base):
    """A member's policy. Members without a row use the default preset (version 0)."""

    __tablename__ = "linking_policies"

    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    preset: Mapped[str | None] = mapped_column(String(40))
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The ETag: bumped on every change, checked against If-Match.
    version: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), default=system_clock, onupdate=system_clock
    )
