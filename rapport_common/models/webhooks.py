"""Partner webhooks: a member's endpoints, one message per (event, endpoint), and the
delivery log with one row per real attempt."""

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base
from rapport_common.models.enums import WebhookMessageStatus, checked
from rapport_common.webhooks.sealing import SealedSecret


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_member_created", "member_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    # Sealed, not hashed: every delivery is signed with it (webhooks/sealing.py).
    secret: Mapped[str] = mapped_column(SealedSecret())
    # After a rotation the old secret signs alongside the new one until it expires.
    previous_secret: Mapped[str | None] = mapped_column(SealedSecret())
    previous_secret_expires_at: Mapped[datetime | None]
    # Start of the current run of failed attempts; cleared by any success.
    failing_since: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), default=system_clock, onupdate=system_clock
    )

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, then the previous one while its grace period lasts."""
        expires = self.previous_secret_expires_at
        if self.previous_secret is not None and expires is not None and expires > now:
            return [self.secret, self.previous_secret]
        return [self.secret]


class WebhookMessage(Base):
    """One event for one endpoint. Its id is the ``webhook-id`` header, the same on every
    attempt, so receivers can deduplicate."""

    __tablename__ = "webhook_messages"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_messages_endpoint_status", "endpoint_id", "status", "created_at"),
        Index(
            "ix_webhook_messages_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    # The outbox event it comes from (no foreign key: old outbox rows may be pruned).
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(64))
    # The exact bytes signed and sent, identical on every attempt.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[WebhookMessageStatus] = mapped_column(
        checked(WebhookMessageStatus, "status"), default=WebhookMessageStatus.PENDING
    )
    # Every real attempt ever made; numbers the delivery log.
    attempts: Mapped[int] = mapped_column(default=0)
    # Failed attempts since the schedule last started (at creation or a redelivery).
    round_failures: Mapped[int] = mapped_column(default=0)
    # Bumped by each redelivery or recovery, so its delivery job gets a fresh job id.
    generation: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)


class WebhookAttempt(Base):
    """The delivery log: written in the transaction that records the attempt's outcome,
    so an attempt cut short by a crash leaves no row and is made again under its number."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        UniqueConstraint("message_id", "attempt"),
        Index("ix_webhook_attempts_endpoint_time", "endpoint_id", "attempted_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    message_id: Mapped[str] = mapped_column(ForeignKey("webhook_messages.id", ondelete="CASCADE"))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    attempt: Mapped[int]
    attempted_at: Mapped[datetime]
    duration_ms: Mapped[int]
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    error: Mapped[str | None] = mapped_column(String(500))
