import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base
from rapport_common.models.enums import EmailDelivery, checked
from rapport_common.settings import DEFAULT_NUDGE_FADE


class Notification(Base):
    """One message to one member: shown in the in-app feed, and sent by email once.

    ``dedupe_key`` names what caused it (an event and a kind, a nudge window...), so a
    job that runs twice stores one notification; ``emailed_at`` records that the SMTP
    server accepted the email, so it is never sent again after that.

    The member's preferences for its kind decide, when it is stored, whether it shows in
    the feed (``in_feed``; one switched off is kept, hidden, so its email can still go
    and a replay finds it) and how it is emailed (``email_delivery``): on its own, in
    the daily digest (``digest_id`` names the digest notification that carried it), or
    not at all. The body is the message alone; the email's greeting, footer and
    unsubscribe links are added when it is sent.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_member_created", "member_id", "created_at"),
        Index(
            "ix_notifications_unsent",
            "created_at",
            postgresql_where=text(
                "emailed_at IS NULL AND email_failed_at IS NULL AND email_delivery = 'instant'"
            ),
        ),
        Index(
            "ix_notifications_digest_pending",
            "member_id",
            postgresql_where=text("email_delivery = 'digest' AND digest_id IS NULL"),
        ),
        Index("ix_notifications_related", "member_id", "kind", "related_member_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    related_member_id: Mapped[uuid.UUID | None]
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
    email_attempts: Mapped[int] = mapped_column(default=0)
    # Set when the email will not be sent: it cannot be written or the server refused it
    # for good, or every attempt failed. The unsent-email sweep skips it.
    email_failed_at: Mapped[datetime | None]
    email_error: Mapped[str | None] = mapped_column(String(500))
    in_feed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    email_delivery: Mapped[EmailDelivery] = mapped_column(
        checked(EmailDelivery, "email_delivery"),
        default=EmailDelivery.INSTANT,
        server_default=EmailDelivery.INSTANT.value,
    )
    digest_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL")
    )


class NotificationPreference(Base):
    """A member's choice for one kind of notification; a kind without a row gets the
    defaults (in the feed, emailed at once). Which kinds a member may change, and how,
    is ``rapport_common.domain.notification_kinds``."""

    __tablename__ = "notification_preferences"

    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[EmailDelivery] = mapped_column(
        checked(EmailDelivery, "email"), default=EmailDelivery.INSTANT
    )
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), default=system_clock, onupdate=system_clock
    )


class NudgeSettings(Base):
    """A member's reconnect-nudge preferences; members without a row get the defaults."""

    __tablename__ = "nudge_settings"

    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Nudge when my effective rating has fallen at least this far below my rating.
    min_fade: Mapped[float] = mapped_column(default=DEFAULT_NUDGE_FADE)
    quiet_start: Mapped[time | None]
    quiet_end: Mapped[time | None]
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
