import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base
from rapport_common.models.enums import (
    LIVE_RECOMMENDATION_STATUSES,
    RecommendationStatus,
    checked,
)

_LIVE_SQL = ", ".join(f"'{status}'" for status in LIVE_RECOMMENDATION_STATUSES)


class Recommendation(Base):
    """What the author says of a connection of theirs (the subject). Shown to others only
    once the subject approves it, and only while they let it show (docs/privacy.md)."""

    __tablename__ = "recommendations"
    __table_args__ = (
        # One live recommendation per author and subject; a closed one may be followed
        # by a new one.
        Index(
            "uq_recommendations_live",
            "author_id",
            "subject_id",
            unique=True,
            postgresql_where=text(f"status IN ({_LIVE_SQL})"),
        ),
        Index("ix_recommendations_subject_status", "subject_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[RecommendationStatus] = mapped_column(
        checked(RecommendationStatus, "status"), default=RecommendationStatus.REQUESTED
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
    approved_at: Mapped[datetime | None]

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_RECOMMENDATION_STATUSES

    def other(self, member_id: uuid.UUID) -> uuid.UUID:
        return self.subject_id if member_id == self.author_id else self.author_id
