import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base


class EmailInvitation(Base):
    """An invitation sent to an email address rather than to a member.

    Whoever the address belongs to, the row is the same: the sender's record of it.
    ``invitation_id`` is the ordinary invitation it became (at once for a member who
    may be found by email, at registration for anyone else); ``join_email`` says that a
    join email is due to the address, which the notifier sends once (``emailed_at``)."""

    __tablename__ = "email_invitations"
    __table_args__ = (
        Index("ix_email_invitations_address_hash_created", "address_hash", "created_at"),
        Index("ix_email_invitations_inviter_created", "inviter_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    inviter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    # Kept only to write the email and to show the sender what they typed; the hash is
    # what every rule looks up.
    address: Mapped[str | None] = mapped_column(String(254))
    address_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    how_we_met: Mapped[str] = mapped_column(String(20))
    invitation_id: Mapped[uuid.UUID | None]
    join_email: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
    expires_at: Mapped[datetime]
    emailed_at: Mapped[datetime | None]
    email_attempts: Mapped[int] = mapped_column(default=0)
    email_failed_at: Mapped[datetime | None]
    email_error: Mapped[str | None] = mapped_column(String(500))
    redeemed_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]


class DoNotContact(Base):
    """An address that asked for no email from Rapport, by its keyed hash only."""

    __tablename__ = "do_not_contact"

    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
