import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base
from rapport_common.models.enums import (
    OPEN_INVITATION_STATUSES,
    InvitationStatus,
    ReferralStatus,
    ReportReason,
    checked,
)

_OPEN_SQL = ", ".join(f"'{status}'" for status in OPEN_INVITATION_STATUSES)


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        # At most one open invitation between two members, whoever sent it.
        Index(
            "uq_invitations_open_pair",
            text("least(inviter_id, invitee_id)"),
            text("greatest(inviter_id, invitee_id)"),
            unique=True,
            postgresql_where=text(f"status IN ({_OPEN_SQL})"),
        ),
        Index("ix_invitations_invitee_created", "invitee_id", "created_at"),
        Index("ix_invitations_inviter_created", "inviter_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    inviter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    invitee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(Text)
    how_we_met: Mapped[str] = mapped_column(String(20))
    # The inviter's private rating of the invitee, if given at once.
    inviter_rating: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[InvitationStatus] = mapped_column(
        checked(InvitationStatus, "status"), default=InvitationStatus.PENDING
    )
    referrer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    referral_status: Mapped[ReferralStatus] = mapped_column(
        checked(ReferralStatus, "referral_status"), default=ReferralStatus.NONE
    )
    introduction_id: Mapped[uuid.UUID | None]
    # Sent to an email address that turned out to be this invitee's: until accepted it
    # does not exist for the inviter (docs/privacy.md, "Email addresses").
    email_invitation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("email_invitations.id", ondelete="SET NULL")
    )
    suggestion: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    question: Mapped[str | None] = mapped_column(Text)
    question_expires_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    later_until: Mapped[datetime | None]
    decline_note: Mapped[str | None] = mapped_column(Text)
    report_reason: Mapped[ReportReason | None] = mapped_column(
        checked(ReportReason, "report_reason")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
    closed_at: Mapped[datetime | None]

    @property
    def is_masked(self) -> bool:
        """Hidden from its inviter: sent by email and not (yet) accepted."""
        return self.email_invitation_id is not None and self.status != InvitationStatus.ACCEPTED

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_INVITATION_STATUSES

    def role_of(self, member_id: uuid.UUID) -> str | None:
        if member_id == self.inviter_id:
            return "inviter"
        if member_id == self.invitee_id:
            return "invitee"
        return None
