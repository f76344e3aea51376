import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base


class ConnectionNote(Base):
    """A member's own note and tags on one of their connections. Only the owner ever
    reads it; it goes when the connection does."""

    __tablename__ = "connection_notes"
    __table_args__ = (Index("ix_connection_notes_tags", "tags", postgresql_using="gin"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    other_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    note: Mapped[str | None] = mapped_column(Text)
    # Lower-cased, each once.
    tags: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), default=list, server_default=text("'{}'")
    )
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
