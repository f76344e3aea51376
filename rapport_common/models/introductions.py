import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base
from rapport_common.models.enums import (
    IntroductionDecliner,
    IntroductionRole,
    IntroductionStatus,
    checked,
)


class Introduction(Base):
    """I ask my connection (the intermediary) to introduce me to one of theirs (the target)."""

    __tablename__ = "introductions"
    __table_args__ = (
        Index("ix_introductions_requester", "requester_id"),
        Index("ix_introductions_intermediary", "intermediary_id"),
        Index("ix_introductions_target", "target_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    requester_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    intermediary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    target_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(Text)
    intermediary_note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[IntroductionStatus] = mapped_column(
        checked(IntroductionStatus, "status"), default=IntroductionStatus.REQUESTED
    )
    declined_by: Mapped[IntroductionDecliner | None] = mapped_column(
        checked(IntroductionDecliner, "declined_by")
    )
    invitation_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), default=system_clock, onupdate=system_clock
    )

    @property
    def reached_target(self) -> bool:
        """The target learns of it only once the intermediary passes it on."""
        return (
            self.status in (IntroductionStatus.FORWARDED, IntroductionStatus.ACCEPTED)
            or self.declined_by == IntroductionDecliner.TARGET
        )

    def visible_role(self, member_id: uuid.UUID) -> IntroductionRole | None:
        """The member's role, or None if they may not see it (yet)."""
        role = self.role_of(member_id)
        return None if role == IntroductionRole.TARGET and not self.reached_target else role

    def role_of(self, member_id: uuid.UUID) -> IntroductionRole | None:
        roles = {
            self.requester_id: IntroductionRole.REQUESTER,
            self.intermediary_id: IntroductionRole.INTERMEDIARY,
            self.target_id: IntroductionRole.TARGET,
        }
        return roles.get(member_id)
