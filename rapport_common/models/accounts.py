"""The single-use links of a member's account emails, and the counters that limit how
often those emails may be asked for."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, SmallInteger, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base
from rapport_common.models.enums import checked


class AccountTokenPurpose(StrEnum):
    """What following an account email's link does. (Kept beside its one table rather
    than in ``enums.py``, which other work in progress edits.)"""

    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose, not a password)
    CHANGE_EMAIL = "change_email"
    UNDO_EMAIL_CHANGE = "undo_email_change"


class AccountToken(Base):
    """One account email and the link in it.

    The API records the request (and its outbox event); the notifier makes the token,
    commits its SHA-256 in ``token_hash`` and only then sends the email: the token itself
    is never stored, not even in the outbox. Following the link spends it (``used_at``),
    and with it every other open link of the same member and purpose."""

    __tablename__ = "account_tokens"
    __table_args__ = (Index("ix_account_tokens_member_purpose", "member_id", "purpose"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    purpose: Mapped[AccountTokenPurpose] = mapped_column(checked(AccountTokenPurpose, "purpose"))
    # NULL until the notifier makes the token, just before sending the email.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The address concerned when it is not the member's current one: the new address of
    # an email change (the email goes there), the old one for its undo (to restore).
    address: Mapped[str | None] = mapped_column(String(254))
    # On the API's clock, which tests move.
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
    # The email, sent exactly once like every other (notifications, join emails).
    emailed_at: Mapped[datetime | None]
    email_attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    email_failed_at: Mapped[datetime | None]
    email_error: Mapped[str | None] = mapped_column(Text)


class AccountRequest(Base):
    """An account email asked for (a password reset, a verification resent), counted
    against its address and its client over a sliding window, as ``sign_in_failures``
    counts failed sign-ins. Rows past the window are swept as new requests come in."""

    __tablename__ = "account_requests"
    __table_args__ = (
        Index("ix_account_requests_key_requested_at", "key_hash", "requested_at"),
        Index("ix_account_requests_requested_at", "requested_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # HMAC-SHA256 of "<policy>:<value>" keyed by a server secret: the table does not say
    # which addresses were asked about.
    key_hash: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
